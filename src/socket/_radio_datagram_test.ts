import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeDatagram, encodeDatagram, RECEIVE_MAX, SEND_MAX } from "./_radio_datagram.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

Deno.test("encodeDatagram writes libzmq's length byte, group, then body", () => {
  // src/udp_engine.cpp out_event: _out_buffer[0] = group size, group, body.
  assert.deepEqual(
    encodeDatagram(utf8("ab"), utf8("xyz")),
    new Uint8Array([2, 0x61, 0x62, 0x78, 0x79, 0x7a]),
  );
  assert.deepEqual(encodeDatagram(new Uint8Array(0), new Uint8Array(0)), new Uint8Array([0]));
});

Deno.test("encodeDatagram writes into a scratch buffer when given one", () => {
  const scratch = new Uint8Array(SEND_MAX);
  const datagram = encodeDatagram(utf8("g"), utf8("hi"), scratch)!;
  assert.deepEqual([...datagram], [1, 0x67, 0x68, 0x69]);
  assert.equal(datagram.buffer, scratch.buffer);
});

Deno.test("encodeDatagram refuses a message over libzmq's 8192-byte datagram", () => {
  assert.equal(encodeDatagram(utf8("g"), new Uint8Array(SEND_MAX - 2))?.length, SEND_MAX);
  assert.equal(encodeDatagram(utf8("g"), new Uint8Array(SEND_MAX - 1)), undefined);
});

Deno.test("decodeDatagram inverts encodeDatagram for any group and body", () => {
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 15 }),
    fc.uint8Array({ maxLength: 300 }),
    (group, body) => {
      const decoded = decodeDatagram(encodeDatagram(group, body)!);
      assert.ok(typeof decoded !== "string");
      assert.deepEqual([...decoded.group], [...group]);
      assert.deepEqual([...decoded.body], [...body]);
    },
  ));
});

Deno.test("decodeDatagram copies: reusing the receive buffer does not change a message", () => {
  const buffer = new Uint8Array([1, 0x67, 0x68, 0x69]);
  const decoded = decodeDatagram(buffer);
  assert.ok(typeof decoded !== "string");
  buffer.fill(0);
  assert.deepEqual([...decoded.group, ...decoded.body], [0x67, 0x68, 0x69]);
  assert.ok(decoded.body.buffer.byteLength <= 3, "one compact copy, not the receive buffer");
});

Deno.test("decodeDatagram says why a hostile datagram is malformed and never throws", () => {
  assert.match(decodeDatagram(new Uint8Array(0)) as string, /Empty/);
  // Over spec 48's 15 bytes (libzmq 4.3.5 would take it: its limit is 255).
  assert.match(
    decodeDatagram(new Uint8Array([16, ...new Uint8Array(20)])) as string,
    /16-byte group/,
  );
  assert.match(decodeDatagram(new Uint8Array([255])) as string, /255-byte group/);
  assert.match(decodeDatagram(new Uint8Array([5, 1, 2])) as string, /shorter than its group/);
  assert.match(decodeDatagram(new Uint8Array(RECEIVE_MAX + 1)) as string, /over 65507/);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
    const decoded = decodeDatagram(bytes);
    if (typeof decoded !== "string") {
      assert.equal(1 + decoded.group.length + decoded.body.length, bytes.length);
      assert.deepEqual([...decoded.group], [...bytes.subarray(1, 1 + bytes[0])]);
    }
  }));
});
