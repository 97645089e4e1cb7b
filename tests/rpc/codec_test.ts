/**
 * The codec seam: a FlatBuffers codec (bench/_rpc_codecs.ts, the library
 * measured against MessagePack) carries a method end to end, and neither
 * codec lets hostile payload bytes hang or crash a server.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { DealerSocket } from "../../mod.ts";
import { defineService, msgpackCodec, RpcClient, RpcServer, unary } from "../../rpc/mod.ts";
import { flatbuffersItemCodec, type Item, smallItem } from "../../bench/_rpc_codecs.ts";
import { WAIT, withTimeout } from "../socket/_helpers.ts";

const Items = defineService("items", {
  bump: unary<Item, Item>({ request: flatbuffersItemCodec(), response: flatbuffersItemCodec() }),
  bumpMsgpack: unary<Item, Item>(),
});

async function serve(): Promise<RpcServer> {
  const server = new RpcServer();
  const bump = (item: Item): Item => ({ ...item, id: item.id + 1, tags: [...item.tags, "bumped"] });
  server.add(Items, { bump, bumpMsgpack: bump });
  await server.bind("tcp://127.0.0.1:0");
  return server;
}

Deno.test("codec seam: a FlatBuffers method and a MessagePack method carry the same record", async () => {
  await using server = await serve();
  await using client = new RpcClient(server.lastEndpoint!);
  const items = client.stub(Items);
  for (const call of [items.bump, items.bumpMsgpack]) {
    const out = await withTimeout(call(smallItem(41)), WAIT);
    assert.equal(out.id, 42);
    assert.equal(out.name, "sensor-41");
    assert.deepEqual(out.tags, ["a", "bb", "ccc", "bumped"]);
    assert.deepEqual([...out.blob], [...smallItem(41).blob]);
  }
});

Deno.test("codec seam: every hostile payload is answered, none hangs the server", async () => {
  await using server = await serve();
  await using raw = new DealerSocket({ linger: 0 });
  raw.connect(server.lastEndpoint!);
  const payloads = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 256 }), 300);
  // Vector lengths claiming far more than the buffer holds.
  const liar = flatbuffersItemCodec().encode(smallItem(1));
  for (let at = 0; at + 4 <= liar.length; at += 4) {
    const copy = liar.slice();
    new DataView(copy.buffer).setUint32(at, 0x7fff_fff0, true);
    payloads.push(copy);
  }
  let i = 0;
  for (const payload of payloads) {
    const method = i % 2 === 0 ? "items/bump" : "items/bumpMsgpack";
    await raw.send(["call", String(i++), method, "", "", payload]);
  }
  const statuses = new Set<string>();
  await withTimeout(
    (async () => {
      for (let n = 0; n < payloads.length; n++) {
        statuses.add(new TextDecoder().decode((await raw.receive())[2]));
      }
    })(),
    WAIT * 3,
    "every hostile call answered",
  );
  // OK (garbage that decoded), INVALID_ARGUMENT (it did not), INTERNAL (it decoded to a value
  // the unguarded MessagePack handler could not use): every call answered, none hung.
  for (const status of statuses) assert.ok(["0", "3", "13"].includes(status), status);
  assert.ok(statuses.has("3"));
});

Deno.test("msgpackCodec refuses lengths beyond maxLength before allocating", () => {
  const codec = msgpackCodec({ maxLength: 16 });
  // array32 claiming 2^31 elements, in five bytes.
  assert.throws(() => codec.decode(new Uint8Array([0xdd, 0x80, 0, 0, 0])));
  assert.throws(() => codec.decode(new Uint8Array([0xdb, 0, 0, 1, 0])));
});
