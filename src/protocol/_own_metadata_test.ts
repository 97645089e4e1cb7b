import assert from "node:assert/strict";
import { decodeMetadata } from "./_metadata.ts";
import { ownMetadata } from "./_own_metadata.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

Deno.test("ownMetadata() encodes a socket's READY once and reuses it while nothing changed", () => {
  const routingId = new TextEncoder().encode("a");
  const properties = { "X-Name": "one" };
  const first = ownMetadata("DEALER", routingId, properties);
  assert.equal(ownMetadata("DEALER", routingId, properties), first);
  // Equal content in new objects is the same socket's options again.
  assert.equal(ownMetadata("DEALER", Uint8Array.of(0x61), { "X-Name": "one" }), first);
  const decoded = decodeMetadata(first);
  assert.equal(text(decoded.get("Socket-Type")), "DEALER");
  assert.equal(text(decoded.get("Identity")), "a");
  assert.equal(text(decoded.get("X-Name")), "one");
});

Deno.test("ownMetadata() encodes again when the options changed, even in place", () => {
  const routingId = new TextEncoder().encode("b");
  const properties: Record<string, string | Uint8Array> = { "X-Value": Uint8Array.of(1) };
  const first = ownMetadata("ROUTER", routingId, properties);
  routingId[0] = 0x63;
  const renamed = ownMetadata("ROUTER", routingId, properties);
  assert.notEqual(renamed, first);
  assert.equal(text(decodeMetadata(renamed).get("Identity")), "c");
  (properties["X-Value"] as Uint8Array)[0] = 2;
  assert.deepEqual(
    decodeMetadata(ownMetadata("ROUTER", routingId, properties)).get("X-Value"),
    Uint8Array.of(2),
  );
  properties["X-More"] = "x";
  assert.equal(
    text(decodeMetadata(ownMetadata("ROUTER", routingId, properties)).get("X-More")),
    "x",
  );
  delete properties["X-More"];
  assert.equal(decodeMetadata(ownMetadata("ROUTER", routingId, properties)).has("X-More"), false);
  assert.notEqual(
    ownMetadata("DEALER", routingId, properties),
    ownMetadata("ROUTER", routingId, properties),
  );
  // No routing id and an empty one differ for types that send Identity only when set.
  assert.equal(decodeMetadata(ownMetadata("PUSH", undefined, undefined)).has("Identity"), false);
  assert.equal(
    decodeMetadata(ownMetadata("PUSH", new Uint8Array(0), undefined)).has("Identity"),
    true,
  );
});

Deno.test("ownMetadata() checks the options every time", () => {
  assert.throws(() => ownMetadata("PAIR", new Uint8Array(256), undefined), RangeError);
  assert.throws(() => ownMetadata("PAIR", undefined, { "Bad Name": "x" }), TypeError);
  assert.throws(() => ownMetadata("PAIR", undefined, { "socket-type": "x" }), TypeError);
  assert.throws(() => ownMetadata("PAIR", undefined, { "Bad Name": "x" }), TypeError);
});
