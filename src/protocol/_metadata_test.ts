import assert from "node:assert/strict";
import { decodeMetadata, encodeMetadata, getProperty, isValidPropertyName } from "./_metadata.ts";
import { ProtocolViolation } from "./_wire.ts";

Deno.test("encodeMetadata() and decodeMetadata() round-trip, names kept as sent", () => {
  const value = new Uint8Array(70000).fill(5);
  const encoded = encodeMetadata([["Socket-Type", Uint8Array.of(65)], ["X-Big", value]]);
  const decoded = decodeMetadata(encoded);
  assert.deepEqual([...decoded.keys()], ["Socket-Type", "X-Big"]);
  assert.deepEqual(decoded.get("X-Big"), value);
  assert.deepEqual(getProperty(decoded, "socket-type"), Uint8Array.of(65));
});

Deno.test("decodeMetadata() copies values out of the input", () => {
  const encoded = encodeMetadata([["A", Uint8Array.of(1)]]);
  const decoded = decodeMetadata(encoded);
  encoded.fill(0);
  assert.deepEqual(decoded.get("A"), Uint8Array.of(1));
});

Deno.test("decodeMetadata() throws ProtocolViolation on malformed input", () => {
  for (const bad of [[0], [3, 65], [1, 65, 0, 0], [1, 65, 0, 0, 0, 2, 1], [1, 0x20, 0, 0, 0, 0]]) {
    assert.throws(() => decodeMetadata(Uint8Array.from(bad)), ProtocolViolation, `${bad}`);
  }
});

Deno.test("isValidPropertyName() allows 1-255 of [A-Za-z0-9.-_+]", () => {
  assert.equal(isValidPropertyName("X-a.b_c+1"), true);
  assert.equal(isValidPropertyName(""), false);
  assert.equal(isValidPropertyName("a".repeat(256)), false);
  assert.equal(isValidPropertyName("é"), false);
});
