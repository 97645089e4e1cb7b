import assert from "node:assert/strict";
import { reconnectDelay } from "./backoff.ts";

Deno.test("reconnectDelay keeps the interval without a maximum, plus jitter below the interval", () => {
  assert.equal(reconnectDelay(0, 100, 0, 0), 100);
  assert.equal(reconnectDelay(5, 100, 0, 0), 100);
  assert.equal(reconnectDelay(5, 100, 0, 0.999), 199);
});

Deno.test("reconnectDelay doubles up to the maximum", () => {
  assert.deepEqual([0, 1, 2, 3, 10].map((a) => reconnectDelay(a, 100, 500, 0)), [
    100,
    200,
    400,
    500,
    500,
  ]);
});

Deno.test("reconnectDelay is -1 when reconnecting is disabled", () => {
  assert.equal(reconnectDelay(0, -1, 0, 0.5), -1);
});
