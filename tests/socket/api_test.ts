/**
 * The API every socket shares, over every transport: what `send()` accepts,
 * queued concurrent calls, timeouts and abort signals, streams, close,
 * endpoints and their errors, and option validation.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DealerSocket,
  PairSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  SubSocket,
  XPubSocket,
  ZmqError,
} from "../../mod.ts";
import type { Message, MessageLike } from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  endpoint,
  handshakes,
  isPending,
  nextEvents,
  recv,
  recvText,
  rejectsWith,
  send,
  texts,
  throwsWith,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

eachTransport(
  "Socket.send() accepts strings, Uint8Arrays, ArrayBuffers and arrays of them",
  async (t) => {
    await using pull = new PullSocket();
    const ep = await bindAny(pull, t);
    await using push = new PushSocket();
    push.connect(ep);
    await send(push, "text");
    await send(push, new Uint8Array([1, 2, 3]));
    await send(push, new Uint8Array([9, 8, 7, 6]).buffer);
    await send(push, ["a", new Uint8Array([0]), new Uint8Array([5, 5]).buffer, ""]);
    await send(push, new Uint8Array(0));
    await send(push, new Uint8Array([0, 1, 2, 3, 4]).subarray(1, 3));
    assert.deepEqual(await recv(pull), [new TextEncoder().encode("text")]);
    assert.deepEqual(await recv(pull), [new Uint8Array([1, 2, 3])]);
    assert.deepEqual(await recv(pull), [new Uint8Array([9, 8, 7, 6])]);
    assert.deepEqual(await recv(pull), [
      new TextEncoder().encode("a"),
      new Uint8Array([0]),
      new Uint8Array([5, 5]),
      new Uint8Array(0),
    ]);
    assert.deepEqual(await recv(pull), [new Uint8Array(0)]);
    assert.deepEqual(await recv(pull), [new Uint8Array([1, 2])]);
  },
);

Deno.test("Socket.send() rejects with TypeError for what is not a message", async () => {
  await using push = new PushSocket();
  const bad: unknown[] = [42, [], null, undefined, [1], ["ok", null], {}, true];
  for (const message of bad) {
    await assert.rejects(
      push.send(message as MessageLike),
      TypeError,
      `send(${JSON.stringify(message)})`,
    );
  }
});

eachTransport("Socket.send() calls made at once are queued and delivered in order", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  await using push = new PushSocket({ sendHighWaterMark: 2 });
  push.connect(ep);
  const sends = [];
  for (let i = 0; i < 50; i++) sends.push(push.send(`m${i}`));
  const got: string[] = [];
  for (let i = 0; i < 50; i++) got.push((await recvText(pull))[0]);
  await withTimeout(Promise.all(sends), WAIT);
  assert.deepEqual(got, [...Array(50).keys()].map((i) => `m${i}`));
});

eachTransport("Socket.receive() calls made at once are served in call order", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  const receives = [];
  for (let i = 0; i < 5; i++) receives.push(pull.receive());
  await using push = new PushSocket();
  push.connect(ep);
  for (let i = 0; i < 5; i++) await send(push, `m${i}`);
  const got = await withTimeout(Promise.all(receives), WAIT);
  assert.deepEqual(got.map((m) => texts(m)[0]), ["m0", "m1", "m2", "m3", "m4"]);
});

eachTransport("Socket.receive() rejects with EAGAIN after receiveTimeout", async (t) => {
  await using pull = new PullSocket({ receiveTimeout: 30 });
  await bindAny(pull, t);
  await rejectsWith(pull.receive(), "EAGAIN");
  await using now = new PullSocket({ receiveTimeout: 0 });
  await rejectsWith(now.receive(), "EAGAIN");
});

eachTransport("Socket.receive() keeps working after a timed-out receive", async (t) => {
  await using pull = new PullSocket({ receiveTimeout: 30 });
  const ep = await bindAny(pull, t);
  await rejectsWith(pull.receive(), "EAGAIN");
  await using push = new PushSocket();
  push.connect(ep);
  await send(push, "late");
  // receiveTimeout bounds each call; retry until the message has arrived.
  const deadline = Date.now() + WAIT;
  while (true) {
    try {
      assert.deepEqual(texts(await pull.receive()), ["late"]);
      break;
    } catch (e) {
      if (!(e instanceof ZmqError && e.code === "EAGAIN") || Date.now() > deadline) throw e;
    }
  }
});

eachTransport("Socket.send() rejects with EAGAIN after sendTimeout", async (t) => {
  await using dealer = new DealerSocket({ sendTimeout: 30 });
  await bindAny(dealer, t);
  await rejectsWith(dealer.send("nobody"), "EAGAIN");
});

eachTransport(
  "Socket.receive() rejects with ECANCELED, the abort reason as cause, when its signal aborts",
  async (t) => {
    await using pull = new PullSocket();
    const ep = await bindAny(pull, t);
    const ac = new AbortController();
    const receiving = pull.receive({ signal: ac.signal });
    assert.equal(await isPending(receiving), true);
    const reason = new Error("no longer wanted");
    ac.abort(reason);
    const canceled = (e: unknown) =>
      e instanceof ZmqError && e.code === "ECANCELED" && e.cause === reason;
    await assert.rejects(withTimeout(receiving, WAIT), canceled);
    // An already aborted signal rejects at once.
    await assert.rejects(pull.receive({ signal: AbortSignal.abort(reason) }), canceled);
    // The socket still works, and the aborted receive did not take a message.
    await using push = new PushSocket();
    push.connect(ep);
    await send(push, "after abort");
    assert.deepEqual(await recvText(pull), ["after abort"]);
  },
);

Deno.test("Socket.send() rejects with ECANCELED when its signal aborts", async () => {
  await using push = new PushSocket();
  const ac = new AbortController();
  const sending = push.send("x", { signal: ac.signal });
  assert.equal(await isPending(sending), true);
  ac.abort(new Error("stop"));
  await assert.rejects(
    withTimeout(sending, WAIT),
    (e: ZmqError) => e.code === "ECANCELED" && (e.cause as Error).message === "stop",
  );
});

eachTransport("Socket.readable piped to another socket's writable forwards messages", async (t) => {
  await using pull1 = new PullSocket();
  const ep1 = await bindAny(pull1, t);
  await using pull2 = new PullSocket();
  const ep2 = await bindAny(pull2, t);
  await using push1 = new PushSocket();
  await using push2 = new PushSocket();
  push1.connect(ep1);
  push2.connect(ep2);
  const piping = pull1.readable.pipeTo(push2.writable);
  for (let i = 0; i < 5; i++) await send(push1, [`m${i}`, "frame"]);
  for (let i = 0; i < 5; i++) assert.deepEqual(await recvText(pull2), [`m${i}`, "frame"]);
  // Closing the source socket ends its readable, which ends the pipe.
  await pull1.close();
  await withTimeout(piping, WAIT, "pipeTo");
});

eachTransport("Socket.writable sends what is written, in order", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  await using push = new PushSocket();
  push.connect(ep);
  const writer = push.writable.getWriter();
  for (let i = 0; i < 5; i++) await withTimeout(writer.write(["w", `${i}`]), WAIT);
  writer.releaseLock();
  for (let i = 0; i < 5; i++) assert.deepEqual(await recvText(pull), ["w", `${i}`]);
});

eachTransport("Socket.close() rejects pending receives and sends with ETERM", async (t) => {
  const pull = new PullSocket();
  await bindAny(pull, t);
  const push = new PushSocket();
  const expectations = Promise.all([
    rejectsWith(pull.receive(), "ETERM"),
    rejectsWith(pull.receive(), "ETERM"),
    rejectsWith(push.send("never"), "ETERM"),
  ]);
  await Promise.all([pull.close(), push.close()]);
  await expectations;
});

eachTransport("Socket.close() is idempotent", async (t) => {
  const rep = new RepSocket();
  await bindAny(rep, t);
  assert.equal(rep.closed, false);
  const first = rep.close();
  const second = rep.close();
  await Promise.all([first, second]);
  await rep.close();
  assert.equal(rep.closed, true);
});

eachTransport("Socket rejects every operation with ETERM after close", async (t) => {
  const pair = new PairSocket();
  const ep = await bindAny(pair, t);
  await pair.close();
  await rejectsWith(pair.send("x"), "ETERM");
  await rejectsWith(pair.receive(), "ETERM");
  await rejectsWith(pair.bind(endpoint(t)), "ETERM");
  throwsWith(() => pair.connect(ep), "ETERM");
  // Iteration ends at once.
  for await (const _ of pair) assert.fail("a closed socket yields nothing");
});

eachTransport("Socket.close() releases the endpoint for a new bind", async (t) => {
  const first = new PullSocket();
  let ep: string;
  try {
    ep = await bindAny(first, t);
  } finally {
    await first.close();
  }
  await using second = new PullSocket();
  await withTimeout(second.bind(ep), WAIT, "bind again");
  assert.equal(second.lastEndpoint, ep);
  await using push = new PushSocket();
  push.connect(ep);
  await send(push, "to the new owner");
  assert.deepEqual(await recvText(second), ["to the new owner"]);
});

eachTransport("Socket.bind() rejects with EADDRINUSE for an endpoint in use", async (t) => {
  await using a = new PullSocket();
  const ep = await bindAny(a, t);
  await using b = new PullSocket();
  await rejectsWith(b.bind(ep), "EADDRINUSE");
});

Deno.test("Socket.lastEndpoint resolves port 0 and the tcp wildcard host", async () => {
  await using a = new PullSocket();
  assert.equal(a.lastEndpoint, undefined);
  await a.bind("tcp://127.0.0.1:0");
  const m = a.lastEndpoint!.match(/^tcp:\/\/127\.0\.0\.1:(\d+)$/);
  assert.ok(m, a.lastEndpoint);
  assert.notEqual(Number(m[1]), 0);

  await using b = new PullSocket();
  await b.bind("tcp://*:0");
  const w = b.lastEndpoint!.match(/^tcp:\/\/([^*]+):(\d+)$/);
  assert.ok(w, b.lastEndpoint);
  const port = Number(w[2]);
  assert.notEqual(port, 0);
  // The wildcard bind is reachable on the loopback address.
  await using push = new PushSocket();
  push.connect(`tcp://127.0.0.1:${port}`);
  await send(push, "via loopback");
  assert.deepEqual(await recvText(b), ["via loopback"]);
  // lastEndpoint follows the latest connect as well.
  assert.equal(push.lastEndpoint, `tcp://127.0.0.1:${port}`);
});

eachTransport("Socket.unbind() stops listening and drops the accepted connections", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  await using push = new PushSocket({ reconnectInterval: -1 });
  const ready = handshakes(pull);
  push.connect(ep);
  await ready;
  const dropped = nextEvents(push, "disconnected");
  const closed = nextEvents(pull, "closed");
  await withTimeout(pull.unbind(ep), WAIT, "unbind");
  await dropped;
  await closed;
  await rejectsWith(pull.unbind(ep), "ENOENT");
  // The endpoint is free again.
  await using other = new PullSocket();
  await withTimeout(other.bind(ep), WAIT, "bind after unbind");
});

eachTransport("Socket.disconnect() stops sending to that endpoint", async (t) => {
  await using a = new PullSocket();
  await using b = new PullSocket();
  const epA = await bindAny(a, t);
  const epB = await bindAny(b, t);
  await using push = new PushSocket();
  const ready = handshakes(push, 2);
  push.connect(epA);
  push.connect(epB);
  await ready;
  push.disconnect(epA);
  for (let i = 0; i < 4; i++) await send(push, `m${i}`);
  for (let i = 0; i < 4; i++) assert.deepEqual(await recvText(b), [`m${i}`]);
  throwsWith(() => push.disconnect(epA), "ENOENT");
});

Deno.test("Socket.bind() and connect() reject unsupported transports with EPROTONOSUPPORT", async () => {
  await using s = new PairSocket();
  await rejectsWith(s.bind("foo://x"), "EPROTONOSUPPORT");
  throwsWith(() => s.connect("foo://x"), "EPROTONOSUPPORT");
});

Deno.test("Socket.bind() and connect() reject malformed endpoints with EINVAL", async () => {
  await using s = new PairSocket();
  for (const ep of ["tcp://host:99999", "tcp://:", "tcp://127.0.0.1", "nonsense", "inproc://"]) {
    await rejectsWith(s.bind(ep), "EINVAL");
    throwsWith(() => s.connect(ep), "EINVAL");
  }
  // Connecting needs a concrete address.
  throwsWith(() => s.connect("tcp://*:5555"), "EINVAL");
  throwsWith(() => s.connect("tcp://127.0.0.1:0"), "EINVAL");
});

Deno.test("Socket.bind() and connect() reject a non-string endpoint with TypeError", async () => {
  await using s = new PairSocket();
  await assert.rejects(s.bind(42 as unknown as string), TypeError);
  assert.throws(() => s.connect(undefined as unknown as string), TypeError);
});

Deno.test("Socket constructors reject bad options with TypeError or RangeError", () => {
  const typeErrors: unknown[] = [
    { sendHighWaterMark: 1.5 },
    { sendHighWaterMark: "10" },
    { receiveTimeout: NaN },
    { linger: null },
    { immediate: "yes" },
    { conflate: 1 },
    { routingId: 42 },
    { transport: {} },
    "options",
  ];
  for (const options of typeErrors) {
    assert.throws(
      () => new PushSocket(options as never),
      TypeError,
      `TypeError for ${JSON.stringify(options)}`,
    );
  }
  const rangeErrors: unknown[] = [
    { sendHighWaterMark: -1 },
    { receiveHighWaterMark: -5 },
    { sendTimeout: -2 },
    { receiveTimeout: -2 },
    { linger: -2 },
    { reconnectInterval: -2 },
    { heartbeatInterval: -1 },
    { maxMessageSize: -2 },
    { routingId: "" },
    { routingId: "x".repeat(256) },
    { routingId: new Uint8Array(256) },
  ];
  for (const options of rangeErrors) {
    assert.throws(
      () => new PullSocket(options as never),
      RangeError,
      `RangeError for ${JSON.stringify(options)}`,
    );
  }
  // The boundaries are accepted.
  new PullSocket({ routingId: "x".repeat(255), sendHighWaterMark: 0, sendTimeout: -1 }).close();
});

Deno.test("Socket constructors of every type reject a too long routingId with RangeError", () => {
  const routingId = new Uint8Array(256);
  for (
    const Ctor of [ReqSocket, RepSocket, DealerSocket, RouterSocket, SubSocket, XPubSocket]
  ) {
    assert.throws(() => new Ctor({ routingId }), RangeError, Ctor.name);
  }
});

eachTransport("RouterSocket.connect() rejects a bad routingId with RangeError", async (t) => {
  await using router = new RouterSocket();
  const ep = t === "inproc" ? endpoint(t) : endpoint(t).replace(":0", ":1");
  assert.throws(() => router.connect(ep, { routingId: "x".repeat(256) }), RangeError);
  assert.throws(() => router.connect(ep, { routingId: "" }), RangeError);
}, ["tcp", "inproc"]);

Deno.test("Socket exposes its type", async () => {
  await using req = new ReqSocket();
  await using sub = new SubSocket();
  assert.equal(req.type, "REQ");
  assert.equal(sub.type, "SUB");
  const m: Message = [new Uint8Array(1)];
  assert.equal(m.length, 1);
});

eachTransport("Socket.connect() after disconnect() of the same endpoint works again", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  await using push = new PushSocket();
  push.connect(ep);
  await send(push, "one");
  assert.deepEqual(await recvText(pull), ["one"]);
  push.disconnect(ep);
  push.connect(ep);
  await send(push, "two");
  assert.deepEqual(await recvText(pull), ["two"]);
});

eachTransport("Socket async iteration stops cleanly on break", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  await using push = new PushSocket();
  push.connect(ep);
  for (let i = 0; i < 3; i++) await send(push, `m${i}`);
  const got: string[] = [];
  for await (const m of pull) {
    got.push(texts(m)[0]);
    if (got.length === 2) break;
  }
  assert.deepEqual(got, ["m0", "m1"]);
  // The third message was not taken by the finished iteration.
  assert.deepEqual(await recvText(pull), ["m2"]);
});
