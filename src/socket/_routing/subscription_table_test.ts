import assert from "node:assert/strict";
import fc from "fast-check";
import { SubscriptionTable } from "./subscription_table.ts";
import { gc } from "../../../tests/_util/memory.ts";

const b = (s: string) => new TextEncoder().encode(s);

Deno.test("SubscriptionTable matches nothing when empty", () => {
  const t = new SubscriptionTable();
  assert.equal(t.matches(b("anything")), false);
  assert.equal(t.matches(new Uint8Array(0)), false);
});

Deno.test("SubscriptionTable matches by prefix and the empty prefix matches all", () => {
  const t = new SubscriptionTable();
  t.add(b("weather."));
  assert.equal(t.matches(b("weather.paris")), true);
  assert.equal(t.matches(b("weather.")), true);
  assert.equal(t.matches(b("weather")), false);
  assert.equal(t.matches(b("traffic")), false);
  t.add(b(""));
  assert.equal(t.matches(b("traffic")), true);
  assert.equal(t.matches(new Uint8Array(0)), true);
});

Deno.test("SubscriptionTable counts subscriptions: the last remove unsubscribes", () => {
  const t = new SubscriptionTable();
  assert.equal(t.add(b("a")), true);
  assert.equal(t.add(b("a")), false);
  assert.equal(t.size, 1);
  assert.equal(t.remove(b("a")), false);
  assert.equal(t.matches(b("abc")), true);
  assert.equal(t.remove(b("a")), true);
  assert.equal(t.matches(b("abc")), false);
  assert.equal(t.size, 0);
  assert.equal(t.remove(b("a")), false, "removing an absent prefix is a no-op");
  assert.equal(t.remove(b("zzz")), false);
});

Deno.test("SubscriptionTable keeps longer prefixes when a shorter one goes", () => {
  const t = new SubscriptionTable();
  t.add(b("ab"));
  t.add(b("abcd"));
  t.remove(b("ab"));
  assert.equal(t.matches(b("abc")), false);
  assert.equal(t.matches(b("abcde")), true);
  assert.deepEqual([...t].map((p) => new TextDecoder().decode(p)), ["abcd"]);
});

Deno.test("SubscriptionTable agrees with a naive prefix list (property)", () => {
  const bytes = fc.uint8Array({ maxLength: 6, max: 3 });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), bytes), { maxLength: 40 }),
      fc.array(bytes, { maxLength: 20 }),
      (ops, probes) => {
        const t = new SubscriptionTable();
        const naive: Uint8Array[] = [];
        const key = (x: Uint8Array) => x.join(",");
        for (const [add, p] of ops) {
          if (add) {
            t.add(p);
            naive.push(p);
          } else {
            t.remove(p);
            const i = naive.findIndex((q) => key(q) === key(p));
            if (i >= 0) naive.splice(i, 1);
          }
        }
        for (const d of probes) {
          const expected = naive.some((p) => p.length <= d.length && p.every((x, i) => d[i] === x));
          assert.equal(t.matches(d), expected);
        }
        assert.equal(t.size, new Set(naive.map(key)).size);
        assert.deepEqual(new Set([...t].map(key)), new Set(naive.map(key)));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("SubscriptionTable iterates its prefixes in byte order, empty prefix first", () => {
  const t = new SubscriptionTable();
  for (const p of ["b", "ab", "a", "", "abc", "b\xff", "ba"]) t.add(b(p));
  t.add(Uint8Array.of(0xff));
  t.add(Uint8Array.of(0x62, 0xff));
  const got = [...t].map((p) => Array.from(p));
  const want = [[], [0x61], [0x61, 0x62], [0x61, 0x62, 0x63], [0x62], [0x62, 0x61], [0x62, 0xff], [
    0xff,
  ]];
  // "b\xff" from TextEncoder is UTF-8 (0xc3 0xbf): it sorts after 0x62 0x61.
  assert.deepEqual(got.filter((p) => p[1] !== 0xc3), want);
});

Deno.test("SubscriptionTable cursor yields what is still there past its position after changes", () => {
  const t = new SubscriptionTable();
  for (const p of ["a", "c", "e", "g"]) t.add(b(p));
  const c = t.cursor();
  assert.deepEqual(c.next(), b("a"));
  assert.deepEqual(c.next(), b("c"));
  t.add(b("b")); // behind the cursor: not yielded
  t.add(b("d")); // ahead: yielded
  t.remove(b("e")); // ahead and gone: not yielded
  t.remove(b("c")); // the cursor's own position
  assert.equal(c.passed(b("b")), true);
  assert.equal(c.passed(b("c")), true);
  assert.equal(c.passed(b("cc")), false);
  assert.deepEqual(c.next(), b("d"));
  assert.deepEqual(c.next(), b("g"));
  assert.equal(c.next(), undefined);
  assert.equal(c.passed(b("z")), true, "a finished cursor has passed everything");
});

Deno.test("SubscriptionTable copies prefixes: changing the caller's bytes changes nothing", () => {
  const t = new SubscriptionTable();
  const chunk = b("xxtopicxx");
  t.add(chunk.subarray(2, 7));
  chunk.fill(0);
  assert.equal(t.matches(b("topic.1")), true);
  assert.deepEqual([...t], [b("topic")]);
});

/** Heap in use after collecting garbage (without it garbage would count as cost). */
function heapUsed(): number {
  gc();
  return Deno.memoryUsage().heapUsed;
}

Deno.test("SubscriptionTable holds a 1 MiB topic at about a byte per byte, no recursion", () => {
  const big = new Uint8Array(1 << 20).map((_, i) => 97 + (i % 23));
  const t = new SubscriptionTable();
  const before = heapUsed();
  assert.equal(t.add(big), true);
  const cost = heapUsed() - before;
  // The bound is 64 B per topic byte.
  assert.ok(cost < 8 * big.length, `1 MiB topic cost ${cost} B of heap`);
  // A second prefix splitting the long edge near its end, and one that turns away.
  const near = big.slice(0, big.length - 1);
  t.add(near);
  const turned = big.slice();
  turned[big.length >> 1] = 0;
  t.add(turned);
  assert.equal(t.matches(big), true);
  assert.equal(t.matches(big.subarray(0, big.length - 2)), false);
  assert.deepEqual([...t].map((p) => p.length), [1 << 20, (1 << 20) - 1, 1 << 20]);
  assert.equal(t.remove(near), true);
  assert.equal(t.remove(big), true);
  assert.equal(t.matches(big), false);
  assert.equal(t.matches(turned), true);
  assert.equal(t.remove(turned), true);
  assert.equal(t.size, 0);
  assert.deepEqual([...t], []);
});

Deno.test("SubscriptionTable holds 100 000 topics at under 200 B each beyond their bytes", () => {
  const enc = new TextEncoder();
  const topics = Array.from({ length: 100_000 }, (_, i) => enc.encode(`sensor/${i * 7919}/temp`));
  const bytes = topics.reduce((n, x) => n + x.length, 0);
  const t = new SubscriptionTable();
  const before = heapUsed();
  for (let i = topics.length - 1; i >= 0; i--) t.add(topics[i]);
  const cost = heapUsed() - before;
  assert.ok(cost - bytes < 200 * topics.length, `100 000 topics cost ${cost} B`);
  assert.equal(t.size, 100_000);
  assert.equal(t.matches(enc.encode(`sensor/${99_999 * 7919}/temperature`)), true);
  assert.equal(t.matches(enc.encode("sensor/1/temp")), false);
  let n = 0;
  let last: number[] = [];
  for (const p of t) {
    const cur = Array.from(p);
    assert.ok(n === 0 || cur.join() !== last.join());
    last = cur;
    n++;
  }
  assert.equal(n, 100_000);
  for (const x of topics) assert.equal(t.remove(x), true);
  assert.equal(t.size, 0);
  assert.equal(t.matches(topics[0]), false);
  assert.deepEqual(topics, topics); // keeps the topics alive across the measurement
});
