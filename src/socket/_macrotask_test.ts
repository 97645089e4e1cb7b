import assert from "node:assert/strict";
import { macrotask, viaMessageChannel } from "./_macrotask.ts";

Deno.test("macrotask() runs callbacks after the current microtasks", async () => {
  const order: string[] = [];
  const done = new Promise<void>((resolve) => macrotask(() => (order.push("macro"), resolve())));
  queueMicrotask(() => order.push("micro"));
  await done;
  assert.deepEqual(order, ["micro", "macro"]);
});

Deno.test("The MessageChannel stand-in for browsers runs every callback once, in order", async () => {
  const later = viaMessageChannel();
  const seen: number[] = [];
  const all = new Promise<void>((resolve) => {
    for (let i = 0; i < 1000; i++) later(() => seen.push(i) === 1000 && resolve());
  });
  await all;
  assert.deepEqual(seen, Array.from({ length: 1000 }, (_, i) => i));
});
