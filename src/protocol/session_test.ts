import assert from "node:assert/strict";
import fc from "fast-check";
import { VIEW_LIMIT } from "./_frame_decoder.ts";
import { Session, type SessionEvent, type SessionOptions } from "./session.ts";
import type { SocketType } from "./socket_type.ts";

// ---- helpers -------------------------------------------------------------------------------

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function bytes(...parts: (number | string | Uint8Array | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === "number") out.push(part);
    else if (typeof part === "string") { for (const c of part) out.push(c.charCodeAt(0)); }
    else out.push(...part);
  }
  return Uint8Array.from(out);
}

function join(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

const drain = (s: Session): Uint8Array => join(s.takeOutput());

function greeting(minor = 1, mechanism = "NULL", asServer = 0): Uint8Array {
  const g = new Uint8Array(64);
  g.set([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, minor]);
  g.set(text(mechanism), 12);
  g[32] = asServer;
  return g;
}

function frame(flags: number, body: Uint8Array): Uint8Array {
  if (body.length > 255) {
    const header = new Uint8Array(9);
    header[0] = flags | 2;
    new DataView(header.buffer).setBigUint64(1, BigInt(body.length));
    return join([header, body]);
  }
  return join([bytes(flags, body.length), body]);
}

const command = (name: string, data: Uint8Array = new Uint8Array(0)): Uint8Array =>
  frame(4, join([bytes(name.length, name), data]));

function property(name: string, value: Uint8Array): Uint8Array {
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, value.length);
  return join([bytes(name.length, name), length, value]);
}

const ready = (socketType: string, ...extra: Uint8Array[]): Uint8Array =>
  command("READY", join([property("Socket-Type", text(socketType)), ...extra]));

/** Moves bytes between two sessions until both are quiet. */
function pump(a: Session, b: Session, now = 0): void {
  for (let moved = true; moved;) {
    moved = false;
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const out = from.takeOutput();
      for (const chunk of out) to.receive(chunk, now);
      if (out.length > 0) moved = true;
    }
  }
}

function connect(
  ours: SocketType,
  theirs: SocketType,
  a: Partial<SessionOptions> = {},
  b: Partial<SessionOptions> = {},
): [Session, Session] {
  const left = new Session({ socketType: ours, now: 0, ...a });
  const right = new Session({ socketType: theirs, now: 0, ...b });
  pump(left, right);
  assert.equal(left.takeEvents()[0]?.type, "ready");
  assert.equal(right.takeEvents()[0]?.type, "ready");
  return [left, right];
}

/** A session that has received a peer's greeting and READY, with its output drained. */
function readySession(options: Partial<SessionOptions> = {}, peer = "PAIR", minor = 1): Session {
  const s = new Session({ socketType: "PAIR", now: 0, ...options });
  s.receive(join([greeting(minor), ready(peer)]), 0);
  assert.equal(s.takeEvents()[0]?.type, "ready");
  drain(s);
  return s;
}

function errorOf(s: Session): Extract<SessionEvent, { type: "error" }> {
  const events = s.takeEvents();
  const last = events.at(-1);
  assert.ok(last?.type === "error", `expected an error event, got ${JSON.stringify(events)}`);
  assert.equal(s.phase, "closed");
  return last;
}

// ---- golden vectors -----------------------------------------------------------------------

Deno.test("Session sends the RFC 23 greeting for NULL, version 3.1", () => {
  const s = new Session({ socketType: "PAIR", now: 0 });
  const expected = new Uint8Array(64);
  expected.set([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1, 0x4e, 0x55, 0x4c, 0x4c]);
  assert.deepEqual(drain(s), expected);
});

Deno.test("Session sends READY exactly as libzmq 4.3.4 does", () => {
  // Captured from a libzmq 4.3.4 SUB socket.
  const libzmq = bytes(0x04, 0x19, 0x05, "READY", 0x0b, "Socket-Type", 0, 0, 0, 3, "SUB");
  const s = new Session({ socketType: "SUB", now: 0 });
  drain(s);
  s.receive(greeting(), 0);
  assert.deepEqual(drain(s), libzmq);
});

Deno.test("Session sends READY with Socket-Type and Identity", () => {
  const s = new Session({ socketType: "DEALER", now: 0, routingId: text("id") });
  drain(s);
  s.receive(greeting(), 0);
  const expected = bytes(
    0x04,
    0x2b,
    0x05,
    "READY",
    0x0b,
    "Socket-Type",
    [0, 0, 0, 6],
    "DEALER",
    0x08,
    "Identity",
    [0, 0, 0, 2],
    "id",
  );
  assert.deepEqual(drain(s), expected);
});

Deno.test("Session sends an empty Identity for ROUTER and extra properties after it", () => {
  const s = new Session({ socketType: "ROUTER", now: 0, properties: { "X-Colour": "red" } });
  drain(s);
  s.receive(greeting(), 0);
  const body = join([
    property("Socket-Type", text("ROUTER")),
    property("Identity", new Uint8Array(0)),
    property("X-Colour", text("red")),
  ]);
  assert.deepEqual(drain(s), command("READY", body));
});

Deno.test("Session encodes short frames, the MORE flag and long frames from 256 octets", () => {
  const s = readySession();
  s.send([text("hello"), new Uint8Array(255), new Uint8Array(256)]);
  const out = drain(s);
  assert.deepEqual(out.subarray(0, 7), bytes(0x01, 0x05, "hello"));
  assert.deepEqual(out.subarray(7, 9), bytes(0x01, 0xff));
  assert.deepEqual(out.subarray(264, 273), bytes(0x02, 0, 0, 0, 0, 0, 0, 1, 0));
  assert.equal(out.length, 273 + 256);
});

Deno.test("Session sends PING with the TTL in deciseconds and answers PING with PONG", () => {
  const s = readySession({ heartbeatInterval: 100, heartbeatTimeToLive: 2000 });
  s.tick(100);
  assert.deepEqual(drain(s), bytes(0x04, 0x07, 0x04, "PING", 0x00, 0x14));
  s.receive(command("PING", bytes(0, 0, "ctx")), 110);
  assert.deepEqual(drain(s), bytes(0x04, 0x08, 0x04, "PONG", "ctx"));
});

Deno.test("Session truncates a PING context over 16 octets in its PONG, as libzmq does", () => {
  const s = readySession();
  s.receive(command("PING", bytes(0, 0, "0123456789abcdefXYZ")), 0);
  assert.deepEqual(drain(s), bytes(0x04, 0x15, 0x04, "PONG", "0123456789abcdef"));
});

Deno.test("Session subscribes with SUBSCRIBE/CANCEL commands to a ZMTP 3.1 peer", () => {
  const s = readySession({ socketType: "SUB" }, "PUB");
  s.subscribe(text("xyz"));
  s.cancel(text("xyz"));
  // The SUBSCRIBE bytes a libzmq 4.3.4 SUB sends to a 3.1 peer.
  assert.deepEqual(
    drain(s),
    join([bytes(0x04, 0x0d, 0x09, "SUBSCRIBE", "xyz"), bytes(0x04, 0x0a, 0x06, "CANCEL", "xyz")]),
  );
});

Deno.test("Session subscribes with 0x01/0x00 messages to a ZMTP 3.0 peer", () => {
  const s = readySession({ socketType: "SUB" }, "PUB", 0);
  assert.equal(s.peer?.minorVersion, 0);
  s.subscribe(text("abc"));
  s.cancel(new Uint8Array(0));
  assert.deepEqual(drain(s), bytes(0x00, 0x04, 0x01, "abc", 0x00, 0x01, 0x00));
});

Deno.test("Session turns SUBSCRIBE/CANCEL commands into events and keeps message-form ones", () => {
  const s = readySession({ socketType: "XPUB" }, "XSUB");
  s.receive(join([command("SUBSCRIBE", text("a")), command("CANCEL", text("b"))]), 0);
  s.receive(frame(0, bytes(1, "c")), 0);
  assert.deepEqual(s.takeEvents(), [
    { type: "subscribe", topic: text("a") },
    { type: "cancel", topic: text("b") },
    { type: "message", frames: [bytes(1, "c")] },
  ]);
});

Deno.test("Session hands every other data-phase command to the socket as a command event", () => {
  const s = readySession({ socketType: "RADIO" }, "DISH");
  s.receive(
    join([
      command("JOIN", text("weather")),
      command("PONG"),
      command("LEAVE", text("")),
      command("X-FUTURE", bytes(0, 1, 2)),
    ]),
    0,
  );
  assert.deepEqual(s.takeEvents(), [
    { type: "command", name: "JOIN", data: text("weather") },
    { type: "command", name: "LEAVE", data: text("") },
    { type: "command", name: "X-FUTURE", data: bytes(0, 1, 2) },
  ]);
});

Deno.test("Session sends a command frame as libzmq 4.3.5's DISH sends JOIN", () => {
  const s = readySession({ socketType: "DISH" }, "RADIO");
  s.sendCommand("JOIN", text("weather"));
  s.sendCommand("LEAVE", new Uint8Array(0));
  // dish.cpp dish_session_t::pull_msg: a command frame "\4JOIN" + group.
  assert.deepEqual(
    drain(s),
    join([bytes(0x04, 0x0c, 0x04, "JOIN", "weather"), bytes(0x04, 0x06, 0x05, "LEAVE")]),
  );
  assert.throws(() => s.sendCommand("", new Uint8Array(0)), RangeError);
  assert.throws(() => s.sendCommand("x".repeat(256), new Uint8Array(0)), RangeError);
  assert.throws(() => s.sendCommand("J\u00d6IN", new Uint8Array(0)), RangeError);
});

Deno.test("Session command events survive a back-to-back JOIN from a DISH to a RADIO", () => {
  const [radio, dish] = connect("RADIO", "DISH");
  dish.sendCommand("JOIN", text("g"));
  pump(dish, radio);
  assert.deepEqual(radio.takeEvents(), [{ type: "command", name: "JOIN", data: text("g") }]);
});

// ---- back to back ------------------------------------------------------------------------

const COMPATIBLE: [SocketType, SocketType][] = [
  ["REQ", "REP"],
  ["REQ", "ROUTER"],
  ["REP", "DEALER"],
  ["DEALER", "DEALER"],
  ["DEALER", "ROUTER"],
  ["ROUTER", "ROUTER"],
  ["PUB", "SUB"],
  ["PUB", "XSUB"],
  ["XPUB", "SUB"],
  ["XPUB", "XSUB"],
  ["PUSH", "PULL"],
  ["PAIR", "PAIR"],
  ["RADIO", "DISH"],
];

Deno.test("Session handshakes every compatible pair, both ways round", () => {
  for (const [x, y] of COMPATIBLE) {
    for (const [a, b] of [[x, y], [y, x]]) {
      const [left, right] = connect(a, b);
      assert.equal(left.phase, "ready");
      assert.equal(left.peer?.socketType, b);
      assert.equal(right.peer?.socketType, a);
      assert.equal(left.peer?.minorVersion, 1);
      assert.equal(left.peer?.mechanism, "NULL");
    }
  }
});

Deno.test("Session refuses an incompatible peer and sends it an ERROR command", () => {
  const a = new Session({ socketType: "PUB", now: 0 });
  a.receive(join([greeting(), ready("REQ")]), 0);
  const error = errorOf(a);
  assert.equal(error.kind, "protocol");
  assert.equal(error.code, "EPROTO");
  assert.match(error.reason, /PUB cannot talk to REQ/);
  const out = drain(a);
  const expected = command("ERROR", bytes(19, "Invalid socket type"));
  assert.deepEqual(out.subarray(out.length - expected.length), expected);

  // Back to back, both sides refuse.
  const req = new Session({ socketType: "REQ", now: 0 });
  const pub = new Session({ socketType: "PUB", now: 0 });
  pump(req, pub);
  assert.equal(errorOf(req).kind, "protocol");
  assert.equal(errorOf(pub).kind, "protocol");
});

Deno.test("Session reports a peer's ERROR command as a remote error", () => {
  const s = new Session({ socketType: "PAIR", now: 0 });
  s.receive(join([greeting(), command("ERROR", bytes(6, "Denied"))]), 0);
  assert.deepEqual(errorOf(s), {
    type: "error",
    kind: "remote",
    code: "EPROTO",
    reason: "The peer sent an ERROR command: Denied",
  });
});

Deno.test("Session bounds a multipart message by maxMessageSize, not only each frame", () => {
  const s = new Session({ socketType: "PULL", now: 0, maxMessageSize: 100 });
  const emptyMore = new Uint8Array(2 * 60).map((_, i) => (i % 2 === 0 ? 1 : 0));
  s.receive(join([greeting(), ready("PUSH"), emptyMore]), 0);
  const error = errorOf(s);
  assert.equal(error.kind, "protocol");
  assert.equal(error.code, "EMSGSIZE");
});

Deno.test("Session leaves PINGs unanswered while a backlog of output is unwritten", () => {
  const s = new Session({ socketType: "PULL", now: 0 });
  s.receive(join([greeting(), ready("PUSH")]), 0);
  const ping = command("PING", join([Uint8Array.of(0, 0), new Uint8Array(16)]));
  const burst = join(Array.from({ length: 200_000 }, () => ping));
  s.receive(burst, 1);
  assert.ok(s.outputSize < 2 * 1024 * 1024, `${s.outputSize} octets of PONGs queued`);
  assert.ok(s.outputSize > 1024 * 1024, "PONGs are sent while there is room");
});

Deno.test("Session exposes the peer's routing id and metadata", () => {
  const [dealer, router] = connect("DEALER", "ROUTER", {
    routingId: text("worker"),
    properties: { "X-Load": bytes(7) },
  });
  assert.deepEqual(router.peer?.routingId, text("worker"));
  assert.deepEqual(router.peer?.properties.get("X-Load"), bytes(7));
  assert.equal(dealer.peer?.routingId, undefined, "an empty Identity is no routing id");
});

Deno.test("Session carries multipart messages, empty frames and 255/256 octet boundaries", () => {
  const [a, b] = connect("DEALER", "DEALER");
  const messages = [
    [new Uint8Array(0)],
    [new Uint8Array(0), text("x"), new Uint8Array(0)],
    [new Uint8Array(255).fill(1), new Uint8Array(256).fill(2)],
    Array.from({ length: 100 }, (_, i) => new Uint8Array(i).fill(i)),
    [new Uint8Array(1 << 20).fill(9), text("tail")],
  ];
  for (const m of messages) a.send(m);
  pump(a, b);
  const events = b.takeEvents();
  assert.deepEqual(events, messages.map((frames) => ({ type: "message", frames })));
});

Deno.test("Session reassembles frames split at every offset", () => {
  const [a, b] = connect("PUSH", "PULL");
  const message = [text("first"), new Uint8Array(300).fill(3), new Uint8Array(0)];
  a.send(message);
  const wire = drain(a);
  for (let split = 0; split <= wire.length; split++) {
    const s = readySession({ socketType: "PULL" }, "PUSH");
    s.receive(wire.subarray(0, split), 0);
    s.receive(wire.subarray(split), 0);
    assert.deepEqual(s.takeEvents(), [{ type: "message", frames: message }], `split at ${split}`);
  }
  b.close();
});

Deno.test("Session copies small frames out of the chunk and hands out views of large ones", () => {
  const s = readySession();
  const large = new Uint8Array(VIEW_LIMIT).fill(9);
  const chunk = join([frame(0, text("abc")), frame(0, new Uint8Array(VIEW_LIMIT - 1))]);
  s.receive(chunk, 0);
  assert.equal(s.retainsInput, false, "only copies were handed out");
  for (const event of s.takeEvents()) {
    assert.ok(event.type === "message");
    assert.notEqual(event.frames[0].buffer, chunk.buffer);
    // A copy pins at most its run's bound: the shared 8 KiB slab, or an own copy.
    const pinned = event.frames[0].buffer.byteLength;
    assert.ok(pinned <= Math.max(8192, event.frames[0].length), `${pinned} octets pinned`);
  }
  const chunk2 = frame(0, large);
  s.receive(chunk2, 0);
  assert.equal(s.retainsInput, true);
  const [event] = s.takeEvents();
  assert.ok(event.type === "message");
  assert.equal(event.frames[0].buffer, chunk2.buffer);
  assert.deepEqual(event.frames[0], large);
});

Deno.test("Session never overwrites output it handed out", () => {
  const s = readySession();
  s.send([text("one")]);
  const [first] = s.takeOutput();
  const copy = first.slice();
  for (let i = 0; i < 5000; i++) s.send([new Uint8Array(100).fill(i & 0xff)]);
  s.takeOutput();
  assert.deepEqual(first, copy);
});

Deno.test("Session queues bodies over 8 KiB by reference", () => {
  const s = readySession();
  const big = new Uint8Array(10000);
  s.send([big]);
  assert.equal(s.outputSize, 9 + 10000);
  const out = s.takeOutput();
  assert.ok(out.includes(big));
  assert.equal(s.outputSize, 0);
  assert.equal(s.takeOutput().length, 0);
});

Deno.test("Session.send() and subscribe() throw unless ready", () => {
  const s = new Session({ socketType: "PAIR", now: 0 });
  assert.throws(() => s.send([text("x")]), /before the handshake/);
  const r = readySession();
  assert.throws(() => r.send([]), RangeError);
  r.close();
  assert.throws(() => r.send([text("x")]), /closed/);
  assert.throws(() => r.subscribe(text("x")), /closed/);
});

Deno.test("Session passes unknown commands on as events, keeps PONG, and goes on after them", () => {
  const s = readySession();
  s.receive(join([command("JOIN", text("g")), command("PONG"), frame(0, text("m"))]), 0);
  assert.deepEqual(s.takeEvents(), [
    { type: "command", name: "JOIN", data: text("g") },
    { type: "message", frames: [text("m")] },
  ]);
});

Deno.test("Session ignores input after close()", () => {
  const s = new Session({ socketType: "PAIR", now: 0 });
  s.close();
  s.receive(greeting(), 0);
  s.tick(1e9);
  assert.equal(s.takeEvents().length, 0);
});

Deno.test("Session constructor validates its options", () => {
  const make = (o: Partial<SessionOptions>) => () =>
    new Session({ socketType: "PAIR", now: 0, ...o });
  assert.throws(make({ socketType: "NOPE" as SocketType }), TypeError);
  assert.throws(make({ routingId: new Uint8Array(256) }), RangeError);
  assert.throws(make({ properties: { "bad name": "x" } }), TypeError);
  assert.throws(make({ properties: { "socket-type": "PUB" } }), TypeError);
  assert.throws(make({ heartbeatInterval: -1 }), RangeError);
  assert.throws(make({ heartbeatTimeToLive: 7_000_000 }), RangeError);
});

// ---- ZMTP 3.0 peer -----------------------------------------------------------------------

Deno.test("Session handshakes with a ZMTP 3.0 peer and serves it in 3.0 mode", () => {
  const pub = new Session({ socketType: "PUB", now: 0 });
  pub.receive(join([greeting(0), ready("SUB"), frame(0, bytes(1, "news"))]), 0);
  const events = pub.takeEvents();
  assert.equal(events[0].type === "ready" && events[0].peer.minorVersion, 0);
  assert.deepEqual(events[1], { type: "message", frames: [bytes(1, "news")] });
});

Deno.test("Session treats a peer announcing ZMTP 4.0 as 3.1", () => {
  const g = greeting(0);
  g[10] = 4;
  const s = new Session({ socketType: "PAIR", now: 0 });
  s.receive(join([g, ready("PAIR")]), 0);
  const [event] = s.takeEvents();
  assert.equal(event.type === "ready" && event.peer.minorVersion, 1);
});

// ---- hostile input -----------------------------------------------------------------------

Deno.test("Session refuses a bad signature as soon as octet 0 arrives", () => {
  const s = new Session({ socketType: "PAIR", now: 0 });
  s.receive(bytes(0x47), 0);
  assert.match(errorOf(s).reason, /signature/);
});

Deno.test("Session refuses a ZMTP 1.0 peer as soon as octet 9 arrives", () => {
  const s = new Session({ socketType: "PAIR", now: 0 });
  s.receive(bytes(0xff, 0, 0, 0, 0, 0, 0, 0, 1), 0);
  assert.equal(s.takeEvents().length, 0);
  s.receive(bytes(0x00), 0);
  assert.match(errorOf(s).reason, /ZMTP 1\.0/);
});

Deno.test("Session refuses ZMTP 2.0 and older as soon as octet 10 arrives", () => {
  for (const major of [0, 1, 2]) {
    const s = new Session({ socketType: "PAIR", now: 0 });
    s.receive(bytes(0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, major), 0);
    const error = errorOf(s);
    assert.equal(error.code, "EPROTO");
    assert.match(error.reason, /Unsupported protocol version/);
  }
});

Deno.test("Session refuses a mechanism mismatch", () => {
  const s = new Session({ socketType: "PAIR", now: 0 });
  s.receive(greeting(1, "PLAIN"), 0);
  assert.match(errorOf(s).reason, /we use NULL, the peer uses PLAIN/);
});

const HOSTILE: [string, Uint8Array, RegExp][] = [
  ["a message before READY", frame(0, text("x")), /before the handshake/],
  ["a command other than READY", command("PING", bytes(0, 0)), /Unexpected PING/],
  ["a command with MORE", frame(5, bytes(5, "READY")), /MORE/],
  ["an empty command", frame(4, new Uint8Array(0)), /Malformed command/],
  ["a truncated command name", frame(4, bytes(9, "READY")), /Malformed command/],
  ["a truncated property name", command("READY", bytes(11, "Socket")), /truncated property name/],
  [
    "a truncated value length",
    command("READY", bytes(11, "Socket-Type", 0, 0)),
    /truncated property value length/,
  ],
  [
    "a truncated value",
    command("READY", bytes(11, "Socket-Type", 0, 0, 0, 9, "PAIR")),
    /truncated property value/,
  ],
  ["an empty property name", command("READY", bytes(0, 0, 0, 0, 0)), /empty property name/],
  ["an invalid property name", command("READY", property("a b", text(""))), /invalid character/],
  ["no Socket-Type", command("READY", property("Identity", text("x"))), /no Socket-Type/],
  ["a 2^63 frame size", bytes(0x06, 0x80, 0, 0, 0, 0, 0, 0, 0), /2\^53/],
  ["a 2^53 frame size", bytes(0x02, 0, 0x20, 0, 0, 0, 0, 0, 0), /2\^53/],
];

for (const [what, input, reason] of HOSTILE) {
  Deno.test(`Session errors on ${what}`, () => {
    const s = new Session({ socketType: "PAIR", now: 0 });
    s.receive(join([greeting(), input]), 0);
    const error = errorOf(s);
    assert.match(error.reason, reason);
    assert.equal(error.kind, "protocol");
  });
}

Deno.test("Session errors on a frame over maxMessageSize before buffering it", () => {
  const s = readySession({ maxMessageSize: 1000 });
  s.receive(frame(0, new Uint8Array(1000)), 0);
  assert.equal(s.takeEvents().length, 1);
  s.receive(bytes(0x02, 0, 0, 0, 0, 0, 0, 0x03, 0xe9), 0);
  const error = errorOf(s);
  assert.equal(error.code, "EMSGSIZE");
  assert.match(error.reason, /1001 octets/);
});

Deno.test("Session waits for a truncated or over-declared frame without allocating it", () => {
  const s = readySession();
  // 2^40 octets declared, a few sent: no event, no error, no terabyte allocation.
  s.receive(bytes(0x02, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3), 0);
  s.receive(frame(0, text("truncat")).subarray(0, 5), 0);
  assert.equal(s.takeEvents().length, 0);
  assert.equal(s.phase, "ready");
});

Deno.test("Session errors on a command with MORE or inside a multipart message after READY", () => {
  const a = readySession();
  a.receive(frame(5, bytes(4, "PING", 0, 0)), 0);
  assert.match(errorOf(a).reason, /MORE/);
  const b = readySession();
  b.receive(join([frame(1, text("part")), command("PING", bytes(0, 0))]), 0);
  assert.match(errorOf(b).reason, /inside a multipart/);
  const c = readySession();
  c.receive(command("PING", bytes(0)), 0);
  assert.match(errorOf(c).reason, /Malformed PING/);
});

// ---- timers ------------------------------------------------------------------------------

Deno.test("Session times out a handshake after handshakeInterval", () => {
  const s = new Session({ socketType: "PAIR", now: 1000, handshakeInterval: 500 });
  assert.equal(s.nextTimeout(), 1500);
  s.tick(1499);
  assert.equal(s.takeEvents().length, 0);
  s.tick(1500);
  const error = errorOf(s);
  assert.equal(error.kind, "timeout");
  assert.equal(error.code, "ETIMEDOUT");
  assert.equal(s.nextTimeout(), Infinity);
  assert.equal(
    new Session({ socketType: "PAIR", now: 0, handshakeInterval: 0 }).nextTimeout(),
    Infinity,
  );
});

Deno.test("Session stops the handshake timer once ready", () => {
  const s = readySession({ handshakeInterval: 10 });
  assert.equal(s.nextTimeout(), Infinity);
  s.tick(1e6);
  assert.equal(s.phase, "ready");
});

Deno.test("Session pings every heartbeatInterval and times out when nothing comes back", () => {
  const s = readySession({ heartbeatInterval: 100 });
  assert.equal(s.nextTimeout(), 100);
  s.tick(100);
  assert.deepEqual(drain(s), bytes(0x04, 0x07, 0x04, "PING", 0, 0));
  assert.equal(s.nextTimeout(), 200);
  s.receive(command("PONG"), 150); // any traffic disarms the timeout
  s.tick(200);
  assert.equal(drain(s).length, 9, "a second PING");
  assert.equal(s.nextTimeout(), 300);
  s.tick(300);
  assert.equal(errorOf(s).kind, "timeout");
});

Deno.test("Session honours heartbeatTimeout apart from heartbeatInterval", () => {
  const s = readySession({ heartbeatInterval: 100, heartbeatTimeout: 30 });
  s.tick(100);
  assert.equal(s.nextTimeout(), 130);
  s.tick(129);
  assert.equal(s.phase, "ready");
  s.tick(130);
  assert.equal(errorOf(s).code, "ETIMEDOUT");
});

Deno.test("Session enforces the TTL of the peer's PING until traffic arrives", () => {
  const s = readySession();
  s.receive(command("PING", bytes(0, 10)), 1000); // TTL 1 s
  assert.equal(s.nextTimeout(), 2000);
  s.receive(frame(0, text("alive")), 1500);
  assert.equal(s.nextTimeout(), Infinity);
  s.receive(command("PING", bytes(0, 10)), 1600);
  s.tick(2599);
  assert.equal(s.phase, "ready");
  s.tick(2600);
  assert.equal(errorOf(s).kind, "timeout");
});

Deno.test("Session heartbeats end to end keep both sides alive", () => {
  const options = { heartbeatInterval: 100, heartbeatTimeToLive: 300 };
  const [a, b] = connect("PAIR", "PAIR", options, options);
  for (let now = 0; now <= 2000; now += 50) {
    a.tick(now);
    b.tick(now);
    pump(a, b, now);
  }
  assert.equal(a.phase, "ready");
  assert.equal(b.phase, "ready");
});

// ---- properties --------------------------------------------------------------------------

/** A peer byte stream: greeting, READY, then messages, PINGs and subscriptions. */
const streamArbitrary = fc.array(
  fc.oneof(
    fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 4 }),
    fc.constant("ping" as const),
    fc.uint8Array({ maxLength: 20 }).map((t) => ({ subscribe: t })),
  ),
  { maxLength: 12 },
).map((items) => {
  const peer = new Session({ socketType: "XSUB", now: 0 });
  const chunks = [drain(peer)];
  peer.receive(join([greeting(), ready("XPUB")]), 0);
  chunks.push(drain(peer));
  peer.takeEvents();
  for (const item of items) {
    if (item === "ping") chunks.push(command("PING", bytes(0, 0, "c")));
    else if (Array.isArray(item)) peer.send(item);
    else peer.subscribe(item.subscribe);
    chunks.push(drain(peer));
  }
  return join(chunks);
});

function run(chunks: Uint8Array[]): { events: SessionEvent[]; output: Uint8Array } {
  const s = new Session({ socketType: "XPUB", now: 0 });
  const out: Uint8Array[] = [];
  for (const chunk of chunks) {
    // Copies: views of a chunk may be handed out, and the whole stream is reused.
    s.receive(chunk.slice(), 0);
    out.push(...s.takeOutput());
  }
  return { events: s.takeEvents(), output: join(out) };
}

function splitAt(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
  const chunks = [];
  let last = 0;
  for (const p of points) {
    chunks.push(stream.subarray(last, p));
    last = p;
  }
  chunks.push(stream.subarray(last));
  return chunks;
}

Deno.test("Session yields the same events for any split of the same bytes", () => {
  fc.assert(
    fc.property(streamArbitrary, fc.array(fc.nat(), { maxLength: 40 }), (stream, cuts) => {
      const whole = run([stream]);
      assert.equal(whole.events[0]?.type, "ready");
      assert.ok(whole.events.every((e) => e.type !== "error"));
      assert.deepEqual(run(splitAt(stream, cuts)), whole);
      assert.deepEqual(run(splitAt(stream, Array.from(stream, (_, i) => i))), whole);
    }),
    { numRuns: 200 },
  );
});

function assertSane(chunks: Uint8Array[]): void {
  const s = new Session({ socketType: "DEALER", now: 0, maxMessageSize: 1 << 16 });
  for (const chunk of chunks) {
    s.receive(chunk, 0);
    s.tick(0);
  }
  const events = s.takeEvents();
  const errors = events.filter((e) => e.type === "error");
  assert.ok(errors.length <= 1);
  if (errors.length === 1) {
    assert.equal(events.at(-1)?.type, "error");
    assert.equal(s.phase, "closed");
  }
}

Deno.test("Session never throws on random bytes", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), (chunks) => {
      assertSane(chunks);
      assertSane([greeting(), ...chunks]);
      assertSane([join([greeting(), ready("ROUTER")]), ...chunks]);
    }),
    { numRuns: 500 },
  );
});

Deno.test("Session never throws on mutated valid streams", () => {
  fc.assert(
    fc.property(
      streamArbitrary,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (stream, mutations, cuts) => {
        const mutated = stream.slice();
        for (const [at, value] of mutations) mutated[at % mutated.length] = value;
        const s = new Session({ socketType: "XPUB", now: 0 });
        for (const chunk of splitAt(mutated, cuts)) s.receive(chunk, 0);
        const events = s.takeEvents();
        assert.ok(events.filter((e) => e.type === "error").length <= 1);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("Session onMessage takes messages only while no other event waits, keeping the order", () => {
  const delivered: string[] = [];
  const s = new Session({
    socketType: "PULL",
    now: 0,
    onMessage: (frames) => delivered.push(new TextDecoder().decode(frames[0])),
  });
  // READY and two messages in one chunk: the messages queue behind the ready event.
  s.receive(join([greeting(), ready("PUSH"), frame(0, text("a")), frame(0, text("b"))]), 0);
  assert.deepEqual(s.takeEvents().map((e) => e.type), ["ready", "message", "message"]);
  assert.deepEqual(delivered, []);
  // Once the events are taken, messages go straight to the callback.
  s.receive(join([frame(1, text("c")), frame(0, text("d")), frame(0, text("e"))]), 1);
  assert.deepEqual(delivered, ["c", "e"]);
  assert.deepEqual(s.takeEvents(), []);
});

// ---- flow control ------------------------------------------------------------------------

Deno.test("Session with canDeliver stops at a message boundary and resume() continues", () => {
  let room = 1;
  const got: string[] = [];
  const s = readySession({
    canDeliver: () => room > 0,
    onMessage: (frames) => {
      room--;
      got.push(frames.map((f) => new TextDecoder().decode(f)).join("+"));
    },
  });
  s.receive(join([frame(1, text("a")), frame(0, text("b")), frame(0, text("c"))]), 0);
  assert.deepEqual(got, ["a+b"], "the whole multipart message, then a stop");
  assert.equal(s.paused, true);
  assert.equal(s.retainsInput, true, "the kept bytes are the caller's chunk");
  assert.throws(() => s.receive(frame(0, text("d")), 0), /paused/);
  s.resume(0);
  assert.deepEqual(got, ["a+b"], "still no room");
  room = 5;
  s.resume(0);
  assert.deepEqual(got, ["a+b", "c"]);
  assert.equal(s.paused, false);
  assert.equal(s.retainsInput, false, "small frames are copies");
  s.receive(frame(0, text("d")), 0);
  assert.deepEqual(got, ["a+b", "c", "d"]);
});

Deno.test("Session with canDeliver stops while events wait, so messages never queue behind them", () => {
  const got: string[] = [];
  const s = new Session({
    socketType: "XPUB",
    now: 0,
    canDeliver: () => true,
    onMessage: (frames) => got.push(new TextDecoder().decode(frames[0])),
  });
  s.receive(
    join([greeting(), ready("XSUB"), command("SUBSCRIBE", text("t")), frame(0, text("m"))]),
    0,
  );
  assert.equal(s.paused, true);
  assert.deepEqual(s.takeEvents().map((e) => e.type), ["ready"]);
  s.resume(0);
  assert.deepEqual(s.takeEvents().map((e) => e.type), ["subscribe"]);
  assert.deepEqual(got, []);
  s.resume(0);
  assert.deepEqual(got, ["m"]);
  assert.equal(s.paused, false);
});

Deno.test("A paused Session still runs its timers and closes cleanly", () => {
  const s = readySession({ canDeliver: () => false, heartbeatInterval: 100 });
  s.receive(join([frame(0, text("a")), command("PING", bytes(0, 0))]), 0);
  assert.equal(s.paused, true);
  assert.deepEqual(drain(s), new Uint8Array(0), "the PING waits with the kept bytes: no PONG");
  s.tick(100);
  assert.equal(drain(s)[2], 4, "our own PING still goes out");
  s.tick(200);
  assert.equal(errorOf(s).kind, "timeout");
  assert.equal(s.paused, false, "a closed session keeps nothing");
  s.resume(300);
  assert.deepEqual(s.takeEvents(), []);
});

/** Runs `chunks` through a session paused by a random `schedule`, resuming until it is done. */
function runPaused(
  chunks: Uint8Array[],
  schedule: boolean[],
  viaCallback: boolean,
): { events: SessionEvent[]; output: Uint8Array } {
  const events: SessionEvent[] = [];
  let turn = 0;
  const s = new Session({
    socketType: "XPUB",
    now: 0,
    canDeliver: () => schedule[turn++ % schedule.length],
    onMessage: viaCallback ? (frames) => events.push({ type: "message", frames }) : undefined,
  });
  const out: Uint8Array[] = [];
  for (const chunk of chunks) {
    s.receive(chunk.slice(), 0);
    for (;;) {
      events.push(...s.takeEvents());
      out.push(...s.takeOutput());
      if (!s.paused) break;
      s.resume(0);
    }
  }
  return { events, output: join(out) };
}

Deno.test("Session paused and resumed anywhere yields the same events as one never paused", () => {
  fc.assert(
    fc.property(
      streamArbitrary,
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.array(fc.boolean(), { maxLength: 16 }).map((s) => [...s, true]),
      fc.boolean(),
      (stream, cuts, schedule, viaCallback) => {
        const whole = run([stream]);
        assert.deepEqual(runPaused(splitAt(stream, cuts), schedule, viaCallback), whole);
      },
    ),
    { numRuns: 300 },
  );
});
