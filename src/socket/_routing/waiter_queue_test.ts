import assert from "node:assert/strict";
import { WaiterQueue } from "./waiter_queue.ts";

interface Item {
  id: number;
  queued: boolean;
}

const item = (id: number): Item => ({ id, queued: false });

function ids(q: WaiterQueue<Item>): number[] {
  return q.drain().map((i) => i.id);
}

Deno.test("WaiterQueue shifts in push order across growth and wrap-around", () => {
  const q = new WaiterQueue<Item>();
  const got: number[] = [];
  let next = 0;
  // Interleave pushes and shifts so the head wraps while the ring grows.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < round; i++) q.push(item(next++));
    for (let i = 0; i < round / 2; i++) got.push(q.shift()!.id);
  }
  got.push(...ids(q));
  assert.deepEqual(got, Array.from({ length: next }, (_, i) => i));
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
});

Deno.test("WaiterQueue.remove() takes a waiter out of the middle, the head or the tail", () => {
  const q = new WaiterQueue<Item>();
  const items = Array.from({ length: 10 }, (_, i) => item(i));
  for (const i of items) q.push(i);
  assert.equal(q.remove(items[5]), true);
  assert.equal(q.remove(items[0]), true);
  assert.equal(q.remove(items[9]), true);
  assert.equal(q.remove(items[5]), false, "a second remove is a no-op");
  assert.equal(q.length, 7);
  assert.equal(q.peek(), items[1]);
  assert.deepEqual(ids(q), [1, 2, 3, 4, 6, 7, 8]);
  assert.equal(items.every((i) => !i.queued), true);
});

Deno.test("WaiterQueue: a shifted or drained waiter cannot be removed", () => {
  const q = new WaiterQueue<Item>();
  const a = item(1);
  const b = item(2);
  q.push(a);
  q.push(b);
  assert.equal(q.shift(), a);
  assert.equal(q.remove(a), false);
  assert.deepEqual(q.drain(), [b]);
  assert.equal(q.remove(b), false);
  assert.equal(q.length, 0);
});

Deno.test("WaiterQueue keeps order when removals compact the ring", () => {
  const q = new WaiterQueue<Item>();
  const items = Array.from({ length: 10_000 }, (_, i) => item(i));
  for (const i of items) q.push(i);
  // Remove every odd one and most of the evens from the front half.
  for (const i of items) if (i.id % 2 === 1 || (i.id < 5000 && i.id % 10 !== 0)) q.remove(i);
  const expected = items.filter((i) => i.id % 2 === 0 && (i.id >= 5000 || i.id % 10 === 0))
    .map((i) => i.id);
  assert.equal(q.length, expected.length);
  assert.deepEqual(ids(q), expected);
});

Deno.test("WaiterQueue: a live head with many cancelled waiters behind it stays bounded", () => {
  // One receive() waiting forever and a loop of receives that time out: the
  // removed entries must not pile up behind the live head.
  const q = new WaiterQueue<Item>();
  const head = item(-1);
  q.push(head);
  for (let i = 0; i < 100_000; i++) {
    const w = item(i);
    q.push(w);
    q.remove(w);
  }
  assert.equal(q.length, 1);
  assert.equal(q.peek(), head);
  assert.ok(q.capacity <= 64, `ring of ${q.capacity} slots for 1 live waiter`);
  const tail = item(1);
  q.push(tail);
  assert.deepEqual(ids(q), [-1, 1]);
});

Deno.test("WaiterQueue keeps order over a million pushes and shifts, then gives the ring back", () => {
  const q = new WaiterQueue<Item>();
  const n = 1_000_000;
  for (let i = 0; i < n; i++) q.push(item(i));
  let expected = 0;
  for (let w = q.shift(); w !== undefined; w = q.shift()) assert.equal(w.id, expected++);
  assert.equal(expected, n);
  assert.ok(q.capacity <= 1024, `empty ring of ${q.capacity} slots`);
});
