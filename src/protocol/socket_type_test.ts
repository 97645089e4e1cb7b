import assert from "node:assert/strict";
import { isCompatible, isSocketType, type SocketType } from "./socket_type.ts";

const ALL: SocketType[] = [
  "PAIR",
  "PUB",
  "SUB",
  "REQ",
  "REP",
  "DEALER",
  "ROUTER",
  "PULL",
  "PUSH",
  "XPUB",
  "XSUB",
  "CLIENT",
  "SERVER",
  "SCATTER",
  "GATHER",
];

Deno.test("isCompatible() follows the RFC 23 table with XPUB/XSUB and the draft types", () => {
  const valid = new Set([
    "REQ-REP",
    "REQ-ROUTER",
    "REP-DEALER",
    "DEALER-DEALER",
    "DEALER-ROUTER",
    "ROUTER-ROUTER",
    "PUB-SUB",
    "PUB-XSUB",
    "XPUB-SUB",
    "XPUB-XSUB",
    "PUSH-PULL",
    "PAIR-PAIR",
    "CLIENT-SERVER",
    "SCATTER-GATHER",
  ]);
  for (const a of ALL) {
    for (const b of ALL) {
      const expected = valid.has(`${a}-${b}`) || valid.has(`${b}-${a}`);
      assert.equal(isCompatible(a, b), expected, `${a} with ${b}`);
    }
  }
});

Deno.test("isCompatible() refuses unknown and differently cased types", () => {
  assert.equal(isCompatible("PAIR", "pair"), false);
  assert.equal(isCompatible("PAIR", ""), false);
  assert.equal(isCompatible("PAIR", "toString"), false);
  assert.equal(isSocketType("constructor"), false);
});
