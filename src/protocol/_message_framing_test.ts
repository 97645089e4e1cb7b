import assert from "node:assert/strict";
import { BROKEN, FRAME, NEED_MORE } from "./_framing.ts";
import { MessageReader, MessageWriter } from "./_message_framing.ts";
import { FLAG_COMMAND, FLAG_MORE } from "./_wire.ts";
import { Session, type SessionEvent, type SessionOptions } from "./session.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("MessageReader takes one frame per message, with ZWS flags mapped to ZMTP's", () => {
  const reader = new MessageReader(Infinity);
  const cases: [number, number][] = [
    [0x00, 0],
    [0x01, FLAG_MORE],
    [0x02, FLAG_COMMAND],
    [0x03, FLAG_MORE | FLAG_COMMAND],
    [0xfc, 0], // reserved bits are ignored, as libzmq's ws_decoder_t::flags_ready does
  ];
  for (const [zws, zmtp] of cases) {
    reader.feed(Uint8Array.of(zws, 0x61, 0x62), 0);
    assert.equal(reader.hasInput, true);
    assert.equal(reader.next(), FRAME);
    assert.equal(reader.flags, zmtp);
    assert.equal(str(reader.body), "ab");
    assert.equal(reader.next(), NEED_MORE);
    assert.equal(reader.hasInput, false);
  }
});

Deno.test("MessageReader hands the body out as a view of the message", () => {
  const reader = new MessageReader(Infinity);
  const message = Uint8Array.of(0, 1, 2, 3);
  reader.feed(message, 0);
  assert.equal(reader.next(), FRAME);
  assert.equal(reader.body.buffer, message.buffer);
  assert.equal(reader.retainsChunk, true);
});

Deno.test("MessageReader refuses an empty message: it has no flags octet", () => {
  const reader = new MessageReader(Infinity);
  reader.feed(new Uint8Array(0), 0);
  assert.equal(reader.next(), BROKEN);
  assert.equal(reader.errorCode, "EPROTO");
  assert.match(reader.error, /flags octet/);
});

Deno.test("MessageReader refuses a body over the limit with EMSGSIZE, the flags octet not counted", () => {
  const reader = new MessageReader(4);
  reader.feed(new Uint8Array(5), 0);
  assert.equal(reader.next(), FRAME);
  reader.feed(new Uint8Array(6), 0);
  assert.equal(reader.next(), BROKEN);
  assert.equal(reader.errorCode, "EMSGSIZE");
});

Deno.test("MessageWriter makes one message per frame: ZWS flags, prefix, body", () => {
  const writer = new MessageWriter();
  writer.writeFrame(FLAG_MORE, undefined, text("a"));
  writer.writeFrame(FLAG_COMMAND, Uint8Array.of(4, 0x50, 0x49, 0x4e, 0x47), Uint8Array.of(0, 0));
  writer.writeFrame(0, undefined, new Uint8Array(0));
  assert.equal(writer.size, 2 + 8 + 1);
  const out = writer.take();
  assert.deepEqual(out.map((m) => [...m]), [
    [0x01, 0x61],
    [0x02, 4, 0x50, 0x49, 0x4e, 0x47, 0, 0],
    [0x00],
  ]);
  assert.equal(writer.size, 0);
  assert.deepEqual(writer.take(), []);
});

// Two sessions with message framing, each takeOutput() array delivered as one message.
function pair(a: Partial<SessionOptions>, b: Partial<SessionOptions>) {
  const left = new Session({ socketType: "DEALER", now: 0, framing: "message", ...a });
  const right = new Session({ socketType: "ROUTER", now: 0, framing: "message", ...b });
  const pump = (from: Session, to: Session) => {
    for (const message of from.takeOutput()) to.receive(message, 0);
  };
  const both = () => {
    pump(left, right);
    pump(right, left);
    pump(left, right);
  };
  return { left, right, pump, both };
}

const types = (events: SessionEvent[]) => events.map((e) => e.type);

Deno.test("A message-framed session sends no greeting: its first message is READY", () => {
  const session = new Session({ socketType: "PUSH", now: 0, framing: "message" });
  assert.equal(session.phase, "handshake");
  const [ready] = session.takeOutput();
  assert.equal(ready[0], 0x02);
  assert.equal(str(ready.subarray(1, 7)), "\x05READY");
});

Deno.test("Message-framed sessions handshake and carry multipart messages back to back", () => {
  const { left, right, pump, both } = pair({ routingId: text("L") }, {});
  both();
  const [ready] = right.takeEvents();
  assert.equal(ready.type === "ready" && str(ready.peer.routingId!), "L");
  assert.deepEqual(types(left.takeEvents()), ["ready"]);
  left.send([text("a"), new Uint8Array(0), new Uint8Array(70000)]);
  const wire = left.takeOutput();
  assert.deepEqual(wire.map((m) => m[0]), [0x01, 0x01, 0x00]);
  for (const m of wire) right.receive(m, 0);
  const [message] = right.takeEvents();
  assert.ok(message.type === "message");
  assert.deepEqual(message.frames.map((f) => f.length), [1, 0, 70000]);
  pump(right, left);
});

Deno.test("Message-framed SUB sends its subscriptions as 0x01/0x00 messages, as libzmq's ws_encoder", () => {
  const sub = new Session({ socketType: "SUB", now: 0, framing: "message" });
  const pub = new Session({ socketType: "PUB", now: 0, framing: "message" });
  for (const m of sub.takeOutput()) pub.receive(m, 0);
  for (const m of pub.takeOutput()) sub.receive(m, 0);
  sub.takeEvents();
  pub.takeEvents();
  sub.subscribe(text("news"));
  sub.cancel(text("news"));
  assert.deepEqual(sub.takeOutput().map((m) => [...m]), [
    [0x00, 0x01, ...text("news")],
    [0x00, 0x00, ...text("news")],
  ]);
});

Deno.test("A message-framed session never sends PINGs, but answers them", () => {
  const { left, right, both } = pair({ heartbeatInterval: 100 }, {});
  both();
  left.takeEvents();
  right.takeEvents();
  assert.equal(left.nextTimeout(), Infinity);
  left.tick(1000);
  assert.deepEqual(left.takeOutput(), []);
  // A PING from the peer (a Monocoque peer over stream framing would send one).
  left.receive(Uint8Array.of(0x02, 4, ...text("PING"), 0, 0, ...text("ctx")), 0);
  const [pong] = left.takeOutput();
  assert.deepEqual([...pong], [0x02, 4, ...text("PONG"), ...text("ctx")]);
});

Deno.test("A frame with COMMAND and MORE ends a message-framed session with EPROTO", () => {
  const { left, right, both } = pair({}, {});
  both();
  right.takeEvents();
  right.receive(Uint8Array.of(0x03, 4, ...text("PING"), 0, 0), 0);
  const [error] = right.takeEvents();
  assert.equal(error.type === "error" && error.code, "EPROTO");
  assert.equal(right.phase, "closed");
  assert.equal(left.phase, "ready");
});

Deno.test("An empty message or one over maxMessageSize ends a message-framed session", () => {
  for (
    const [message, code] of [[new Uint8Array(0), "EPROTO"], [new Uint8Array(102), "EMSGSIZE"]]
  ) {
    const { right, both } = pair({}, { maxMessageSize: 100 });
    both();
    right.takeEvents();
    right.receive(message as Uint8Array, 0);
    const events = right.takeEvents();
    assert.equal(events.length, 1);
    assert.equal(events[0].type === "error" && events[0].code, code);
  }
});

Deno.test("Message framing with the wrong mechanism on the other side fails the handshake", () => {
  // The subprotocol should have prevented it; the session still refuses a HELLO where READY belongs.
  const session = new Session({ socketType: "PULL", now: 0, framing: "message" });
  session.receive(Uint8Array.of(0x02, 5, ...text("HELLO")), 0);
  const [error] = session.takeEvents();
  assert.equal(error.type, "error");
});

Deno.test("Bare ZWS2.0: each side's first message is its routing id, then messages flow", () => {
  const { left, right } = pair(
    { routingIdHandshake: true, routingId: text("me") },
    { routingIdHandshake: true },
  );
  const [first] = left.takeOutput();
  assert.deepEqual([...first], [0x00, ...text("me")]);
  right.receive(first, 0);
  const [empty] = right.takeOutput();
  assert.deepEqual([...empty], [0x00]); // the ROUTER's empty routing id
  left.receive(empty, 0);
  const [ready] = right.takeEvents();
  assert.ok(ready.type === "ready");
  assert.equal(str(ready.peer.routingId!), "me");
  assert.equal(ready.peer.socketType, "DEALER");
  assert.equal(ready.peer.properties.size, 1);
  const [leftReady] = left.takeEvents();
  assert.ok(leftReady.type === "ready" && leftReady.peer.routingId === undefined);
  left.send([text("hi")]);
  for (const m of left.takeOutput()) right.receive(m, 0);
  const [message] = right.takeEvents();
  assert.ok(message.type === "message" && str(message.frames[0]) === "hi");
});

Deno.test("Bare ZWS2.0 refuses a command or a multipart message as the routing id", () => {
  for (const first of [Uint8Array.of(0x02, 5, ...text("READY")), Uint8Array.of(0x01, 1)]) {
    const session = new Session({
      socketType: "ROUTER",
      now: 0,
      framing: "message",
      routingIdHandshake: true,
    });
    session.receive(first, 0);
    const [error] = session.takeEvents();
    assert.equal(error.type === "error" && error.code, "EPROTO");
  }
});

Deno.test("routingIdHandshake needs message framing", () => {
  assert.throws(
    () => new Session({ socketType: "PAIR", now: 0, routingIdHandshake: true }),
    TypeError,
  );
  assert.throws(
    () => new Session({ socketType: "PAIR", now: 0, framing: "datagram" as "stream" }),
    TypeError,
  );
});

Deno.test("A message-framed handshake times out like a stream-framed one", () => {
  const session = new Session({
    socketType: "PAIR",
    now: 0,
    framing: "message",
    handshakeInterval: 50,
  });
  assert.equal(session.nextTimeout(), 50);
  session.tick(50);
  const [error] = session.takeEvents();
  assert.equal(error.type === "error" && error.kind, "timeout");
});
