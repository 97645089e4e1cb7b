import assert from "node:assert/strict";
import { FairQueue } from "./fair_queue.ts";

Deno.test("FairQueue takes one item from each non-empty source in turn", () => {
  const q = new FairQueue<string, number>();
  const a = q.add("a");
  const b = q.add("b");
  for (const n of [1, 2, 3]) a.push(n);
  b.push(10);
  const got: [string | undefined, number | undefined][] = [];
  for (let i = 0; i < 5; i++) {
    const item = q.shift();
    got.push([item === undefined ? undefined : q.lastKey, item]);
  }
  assert.deepEqual(got, [["a", 1], ["b", 10], ["a", 2], ["a", 3], [got[4][0], undefined]]);
  assert.equal(q.empty, true);
});

Deno.test("FairQueue: a flooding source cannot starve another", () => {
  const q = new FairQueue<string, number>();
  const flood = q.add("flood");
  const quiet = q.add("quiet");
  for (let i = 0; i < 1000; i++) flood.push(i);
  q.shift();
  quiet.push(-1);
  let position = 0;
  while (q.shift() !== -1) position++;
  assert.ok(position <= 1, `quiet waited behind ${position} items`);
});

Deno.test("FairQueue keeps a removed source's items readable, or drops them", () => {
  const q = new FairQueue<string, number>();
  const a = q.add("a");
  a.push(1);
  q.remove(a, true);
  assert.equal(q.shift(), 1);
  const b = q.add("b");
  b.push(2);
  q.remove(b, false);
  assert.equal(q.shift(), undefined);
  b.push(3);
  assert.equal(q.shift(), undefined, "a dropped source takes no more items");
});

Deno.test("FairQueueSource.replace conflates to the newest item", () => {
  const q = new FairQueue<string, number>();
  const a = q.add("a");
  a.push(1);
  a.push(2);
  a.replace(3);
  assert.equal(a.size, 1);
  assert.equal(q.shift(), 3);
});

Deno.test("FairQueueSource counts the bytes of its items with the queue's weigh function", () => {
  const q = new FairQueue<string, Uint8Array>((item) => item.length);
  const a = q.add("a");
  a.push(new Uint8Array(3));
  a.push(new Uint8Array(5));
  assert.equal(a.bytes, 8);
  q.shift();
  assert.equal(a.bytes, 5);
  a.replace(new Uint8Array(2));
  assert.equal(a.bytes, 2);
  q.remove(a, false);
  assert.equal(a.bytes, 0);
  const unweighed = new FairQueue<string, Uint8Array>().add("b");
  unweighed.push(new Uint8Array(4));
  assert.equal(unweighed.bytes, 0);
});

Deno.test("FairQueueSource keeps FIFO order across ring wrap-around and growth", () => {
  const q = new FairQueue<string, number>((n) => n);
  const a = q.add("a");
  let next = 0;
  let expect = 0;
  // Interleave pushes and shifts so the ring's head wraps, then grows mid-wrap.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < round % 13 + 1; i++) a.push(next++);
    for (let i = 0; i < round % 7 + 1 && a.size > 0; i++) assert.equal(q.shift(), expect++);
  }
  assert.equal(a.size, next - expect);
  let sum = 0;
  for (let n = expect; n < next; n++) sum += n;
  assert.equal(a.bytes, sum);
  while (a.size > 0) assert.equal(q.shift(), expect++);
  assert.equal(expect, next);
  assert.equal(a.bytes, 0);
  assert.equal(q.shift(), undefined);
});

Deno.test("FairQueueSource takes items again after a burst larger than the ring it keeps", () => {
  const q = new FairQueue<string, number>();
  const a = q.add("a");
  for (let i = 0; i < 1000; i++) a.push(i);
  for (let i = 0; i < 1000; i++) assert.equal(q.shift(), i);
  a.push(7);
  a.push(8);
  assert.deepEqual([q.shift(), q.shift(), q.shift()], [7, 8, undefined]);
});
