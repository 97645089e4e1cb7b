import assert from "node:assert/strict";
import {
  checkGreeting,
  encodeGreeting,
  greetingMechanism,
  greetingMinorVersion,
  isValidMechanismName,
} from "./_greeting.ts";

Deno.test("encodeGreeting() lays out signature, version, mechanism and as-server", () => {
  const g = encodeGreeting("CURVE", true);
  assert.deepEqual([...g.subarray(0, 12)], [0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1]);
  assert.equal(greetingMechanism(g), "CURVE");
  assert.equal(g[32], 1);
  assert.ok(g.subarray(33).every((b) => b === 0));
  assert.equal(checkGreeting(g, 0, 64), undefined);
});

Deno.test("checkGreeting() only judges the octets that arrived", () => {
  const g = encodeGreeting("NULL", false);
  g[10] = 2;
  assert.equal(checkGreeting(g, 0, 10), undefined);
  assert.match(checkGreeting(g, 10, 11)!, /Unsupported protocol version/);
});

Deno.test("greetingMinorVersion() keeps 3.0 and downgrades later versions to 3.1", () => {
  const g = encodeGreeting("NULL", false);
  g[11] = 0;
  assert.equal(greetingMinorVersion(g), 0);
  g[11] = 7;
  assert.equal(greetingMinorVersion(g), 1);
  g[10] = 9;
  g[11] = 0;
  assert.equal(greetingMinorVersion(g), 1);
  assert.equal(isValidMechanismName("NULL"), true);
  assert.equal(isValidMechanismName("null"), false);
  assert.equal(isValidMechanismName("A".repeat(21)), false);
});
