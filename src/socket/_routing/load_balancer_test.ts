import assert from "node:assert/strict";
import { LoadBalancer } from "./load_balancer.ts";

Deno.test("LoadBalancer takes items in turn", () => {
  const lb = new LoadBalancer<string>();
  for (const x of ["a", "b", "c"]) lb.add(x);
  const got = Array.from({ length: 6 }, () => lb.next(() => true));
  assert.deepEqual(got, ["a", "b", "c", "a", "b", "c"]);
});

Deno.test("LoadBalancer skips items that are not ready and returns undefined when none is", () => {
  const lb = new LoadBalancer<string>();
  for (const x of ["a", "b", "c"]) lb.add(x);
  assert.deepEqual([lb.next((x) => x !== "a"), lb.next((x) => x !== "a")], ["b", "c"]);
  assert.equal(lb.next(() => false), undefined);
});

Deno.test("LoadBalancer keeps its turn when items are removed", () => {
  const lb = new LoadBalancer<string>();
  for (const x of ["a", "b", "c"]) lb.add(x);
  assert.equal(lb.next(() => true), "a");
  lb.remove("a");
  assert.equal(lb.next(() => true), "b");
  lb.remove("c");
  assert.equal(lb.next(() => true), "b");
  lb.remove("b");
  assert.equal(lb.size, 0);
  assert.equal(lb.next(() => true), undefined);
  lb.add("d");
  lb.add("d");
  assert.equal(lb.size, 1, "adding twice keeps one");
});
