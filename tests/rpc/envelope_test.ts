/**
 * The RPC envelope's pure parse and number frames (rpc/_envelope.ts): golden
 * cases from rpc/SPEC.md, and a property that no sequence of frames makes the
 * parse throw.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { decimal, kindOf, parseIncoming, parseOutgoing, readDecimal } from "../../rpc/_envelope.ts";

const te = new TextEncoder();
const f = (...parts: (string | Uint8Array)[]) =>
  parts.map((p) => typeof p === "string" ? te.encode(p) : p);

Deno.test("decimal() and readDecimal() round-trip and refuse what is not 1 to 15 digits", () => {
  for (const n of [0, 7, 99, 100, 12345, 999_999_999_999_999]) {
    assert.equal(readDecimal(decimal(n)), n);
  }
  assert.equal(readDecimal(new Uint8Array(0)), -1);
  assert.equal(readDecimal(te.encode("12a")), -2);
  assert.equal(readDecimal(te.encode("-1")), -2);
  assert.equal(readDecimal(te.encode("1234567890123456")), -2);
});

Deno.test("kindOf() names the five kinds and nothing else", () => {
  for (const k of ["call", "cancel", "credit", "data", "end"]) {
    assert.equal(kindOf(te.encode(k)), k);
  }
  for (const k of ["", "CALL", "calls", "ends", "x"]) assert.equal(kindOf(te.encode(k)), undefined);
});

Deno.test("parseIncoming() reads a call with and without deadline and credit", () => {
  const call = parseIncoming(f("peer", "call", "7", "svc/m", "250", "", "payload"), 1);
  assert.ok(typeof call === "object" && call.kind === "call");
  assert.equal(call.timeout, 250);
  assert.equal(call.credit, -1);
  assert.deepEqual(call.payload, te.encode("payload"));
  const cancel = parseIncoming(f("peer", "", "cancel", "7"), 2);
  assert.deepEqual(cancel, { kind: "cancel", id: te.encode("7") });
  const credit = parseIncoming(f("peer", "credit", "7", "8"), 1);
  assert.ok(typeof credit === "object" && credit.kind === "credit" && credit.credit === 8);
});

Deno.test("parseIncoming() gives a reason for every malformed envelope", () => {
  const bad = [
    f("peer"),
    f("peer", "call"),
    f("peer", "call", "1", "svc/m", "", ""),
    f("peer", "call", "", "svc/m", "", "", "p"),
    f("peer", "call", "x".repeat(33), "svc/m", "", "", "p"),
    f("peer", "call", "1", "", "", "", "p"),
    f("peer", "call", "1", "m".repeat(202), "", "", "p"),
    f("peer", "call", "1", "svc/m", "soon", "", "p"),
    f("peer", "call", "1", "svc/m", "", "-3", "p"),
    f("peer", "credit", "1", ""),
    f("peer", "cancel", "1", "extra"),
    f("peer", "data", "1", "p"),
    f("peer", "hello", "1"),
  ];
  for (const frames of bad) assert.equal(typeof parseIncoming(frames, 1), "string");
});

Deno.test("parseOutgoing() reads data and end, and refuses the rest", () => {
  assert.deepEqual(parseOutgoing(f("data", "3", "p")), {
    kind: "data",
    id: 3,
    payload: te.encode("p"),
  });
  const end = parseOutgoing(f("end", "3", "5", "No such user", ""));
  assert.ok(end?.kind === "end" && end.status === 5);
  for (
    const frames of [f("end", "3", "x", "", ""), f("data", "x", "p"), f("end", "3", "0"), f("z")]
  ) {
    assert.equal(parseOutgoing(frames), undefined);
  }
});

Deno.test("no sequence of frames makes either parse throw", () => {
  const frame = fc.oneof(
    fc.constantFrom(...f("call", "cancel", "credit", "data", "end", "", "1", "42")),
    fc.uint8Array({ maxLength: 40 }),
  );
  fc.assert(
    fc.property(fc.array(frame, { maxLength: 8 }), fc.nat(3), (frames, start) => {
      parseIncoming(frames, Math.min(start, frames.length));
      parseOutgoing(frames);
    }),
    { numRuns: 2000 },
  );
});
