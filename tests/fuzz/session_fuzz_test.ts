/**
 * Bounded fuzzing of the sans-IO session and frame decoder with fast-check
 * (see `_properties.ts` for the inputs and invariants). `FUZZ_RUNS` sets the
 * cases per property (default 300); `deno task fuzz` runs the same
 * properties with a large count.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { Session } from "../../src/protocol/session.ts";
import { counts, properties } from "./_properties.ts";

const runs = Number(Deno.env.get("FUZZ_RUNS") ?? "300");

for (const { name, property } of properties()) {
  Deno.test(`fuzz: ${name}`, () => {
    const before = counts[name];
    fc.assert(property, { numRuns: runs });
    if (counts[name] - before < runs) {
      throw new Error(`only ${counts[name] - before} of ${runs} cases ran`);
    }
  });
}

Deno.test("fuzz regression: an ERROR command with an empty reason still ends with a reason", () => {
  // Found by the split property: greeting, READY from a REQ, then ERROR with a 0-octet reason.
  const s = new Session({ socketType: "REP", now: 0 });
  const g = new Uint8Array(64);
  g.set([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1, 0x4e, 0x55, 0x4c, 0x4c]);
  const readyCmd = Uint8Array.from([
    4,
    25,
    5,
    ..."READY".split("").map((c) => c.charCodeAt(0)),
    11,
    ..."Socket-Type".split("").map((c) => c.charCodeAt(0)),
    0,
    0,
    0,
    3,
    0x52,
    0x45,
    0x51,
  ]);
  const error = Uint8Array.from([4, 7, 5, ..."ERROR".split("").map((c) => c.charCodeAt(0)), 0]);
  s.receive(g, 0);
  s.receive(readyCmd, 0);
  s.receive(error, 0);
  const events = s.takeEvents();
  const last = events.at(-1);
  assert.equal(last?.type, "error");
  assert.ok(
    last?.type === "error" && last.reason.length > 0,
    `the error event's reason is empty: ${JSON.stringify(last)}`,
  );
});
