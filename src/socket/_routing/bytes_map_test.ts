import assert from "node:assert/strict";
import { BytesMap } from "./bytes_map.ts";

const bytes = (...b: number[]) => Uint8Array.from(b);

Deno.test("BytesMap finds a key by its bytes, whatever array carries them", () => {
  const m = new BytesMap<string>();
  const id = bytes(0, 1, 2);
  m.set(id, "a");
  assert.equal(m.get(id), "a");
  assert.equal(m.get(bytes(0, 1, 2)), "a");
  assert.equal(m.get(new Uint8Array([9, 0, 1, 2]).subarray(1)), "a", "a view at an offset");
  assert.equal(m.get(bytes(0, 1)), undefined);
  assert.equal(m.get(bytes()), undefined);
  assert.equal(m.size, 1);
});

Deno.test("BytesMap.set with equal bytes replaces the value and keeps one entry", () => {
  const m = new BytesMap<string>();
  m.set(bytes(7), "a");
  m.set(bytes(7), "b");
  assert.equal(m.size, 1);
  assert.equal(m.get(bytes(7)), "b");
  assert.ok(m.delete(bytes(7)));
  assert.equal(m.size, 0);
  assert.equal(m.has(bytes(7)), false);
  assert.equal(m.delete(bytes(7)), false);
});

Deno.test("BytesMap copies keys: mutating a set key's bytes does not lose or corrupt the entry", () => {
  const m = new BytesMap<string>();
  const id = bytes(1, 2, 3);
  m.set(id, "a");
  id[0] = 9;
  assert.equal(m.get(bytes(1, 2, 3)), "a", "found by its original bytes");
  assert.equal(m.get(bytes(9, 2, 3)), undefined, "not by the new bytes of another array");
  assert.ok(m.delete(bytes(1, 2, 3)));
  assert.equal(m.get(id), undefined, "the alias goes with the entry");
});

Deno.test("BytesMap agrees with a string-keyed model over random operations", () => {
  const m = new BytesMap<number>();
  const model = new Map<string, number>();
  let seed = 12345;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const key = () => {
    const k = new Uint8Array(rand(4));
    for (let i = 0; i < k.length; i++) k[i] = rand(3);
    return k;
  };
  for (let step = 0; step < 20_000; step++) {
    const k = key();
    const s = Array.from(k).join(",");
    switch (rand(3)) {
      case 0:
        m.set(k, step);
        model.set(s, step);
        break;
      case 1:
        assert.equal(m.delete(k), model.delete(s));
        break;
      default:
        assert.equal(m.get(k), model.get(s));
    }
    assert.equal(m.size, model.size);
  }
});

Deno.test("BytesMap finds a 1 MiB key by reference and by bytes", () => {
  const m = new BytesMap<string>();
  const id = new Uint8Array(1024 * 1024).fill(0xab);
  m.set(id, "long");
  const other = id.slice();
  for (let i = 0; i < 100_000; i++) assert.equal(m.get(id), "long");
  assert.equal(m.get(other), "long");
  other[other.length - 1] = 0;
  assert.equal(m.get(other), undefined, "the last byte counts");
});
