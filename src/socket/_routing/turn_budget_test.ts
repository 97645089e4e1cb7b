import assert from "node:assert/strict";
import { turnBudgetMs } from "./turn_budget.ts";

Deno.test("turnBudgetMs() is 1 ms up to 16 peers", () => {
  assert.equal(turnBudgetMs(0), 1);
  assert.equal(turnBudgetMs(1), 1);
  assert.equal(turnBudgetMs(16), 1);
});

Deno.test("turnBudgetMs() grows with the peers and stops at 8 ms", () => {
  assert.equal(turnBudgetMs(32), 2);
  assert.equal(turnBudgetMs(100), 6.25);
  assert.equal(turnBudgetMs(128), 8);
  assert.equal(turnBudgetMs(10_000), 8);
});
