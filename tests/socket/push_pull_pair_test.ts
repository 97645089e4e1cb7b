/**
 * PUSH, PULL and PAIR behaviour over every transport, against libzmq's
 * documented semantics (zmq_socket: ZMQ_PUSH, ZMQ_PULL, ZMQ_PAIR).
 *
 * @module
 */

import assert from "node:assert/strict";
import { PairSocket, PullSocket, PushSocket } from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  freeEndpoint,
  handshakes,
  isPending,
  nextEvents,
  recvText,
  rejectsWith,
  send,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

eachTransport(
  "PushSocket delivers each message exactly once across three PullSockets",
  async (t) => {
    await using push = new PushSocket();
    const ep = await bindAny(push, t);
    const pulls = [new PullSocket(), new PullSocket(), new PullSocket()];
    try {
      const ready = handshakes(push, 3);
      pulls.forEach((p) => p.connect(ep));
      await ready;
      for (let i = 0; i < 30; i++) await send(push, `m${i}`);
      const got: string[][] = [];
      for (const p of pulls) {
        const mine: string[] = [];
        for (let i = 0; i < 10; i++) mine.push((await recvText(p))[0]);
        got.push(mine);
      }
      const all = got.flat().sort();
      assert.deepEqual(all, [...Array(30).keys()].map((i) => `m${i}`).sort());
      // Round-robin: each puller got every third message, in order.
      for (const mine of got) {
        const idx = mine.map((m) => Number(m.slice(1)));
        for (let k = 1; k < idx.length; k++) assert.equal(idx[k] - idx[k - 1], 3);
      }
    } finally {
      await Promise.all(pulls.map((p) => p.close()));
    }
  },
);

eachTransport("PushSocket.send() waits while no peer is connected", async (t) => {
  await using pull = new PullSocket();
  const ep = freeEndpoint(t);
  await using push = new PushSocket();
  const sending = push.send("waiting");
  assert.equal(await isPending(sending), true);
  push.connect(ep);
  await withTimeout(pull.bind(ep), WAIT);
  await withTimeout(sending, WAIT, "the waiting send");
  assert.deepEqual(await recvText(pull), ["waiting"]);
});

eachTransport(
  "PushSocket.send() rejects with EAGAIN after sendTimeout with no peer",
  async (_t) => {
    await using push = new PushSocket({ sendTimeout: 50 });
    await rejectsWith(push.send("nobody"), "EAGAIN");
    await using immediate = new PushSocket({ sendTimeout: 0 });
    await rejectsWith(immediate.send("nobody"), "EAGAIN");
  },
  ["inproc"],
);

eachTransport("PushSocket connected before the bind delivers its queued messages", async (t) => {
  const ep = freeEndpoint(t);
  await using push = new PushSocket();
  push.connect(ep);
  for (let i = 0; i < 5; i++) await send(push, `early ${i}`);
  await using pull = new PullSocket();
  await withTimeout(pull.bind(ep), WAIT);
  for (let i = 0; i < 5; i++) assert.deepEqual(await recvText(pull), [`early ${i}`]);
});

eachTransport("PullSocket fair-queues two PushSockets in per-peer order", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  await using a = new PushSocket();
  await using b = new PushSocket();
  a.connect(ep);
  b.connect(ep);
  await Promise.all([
    (async () => {
      for (let i = 0; i < 20; i++) await send(a, `a${i}`);
    })(),
    (async () => {
      for (let i = 0; i < 20; i++) await send(b, `b${i}`);
    })(),
  ]);
  const got: string[] = [];
  for (let i = 0; i < 40; i++) got.push((await recvText(pull))[0]);
  assert.deepEqual(got.filter((m) => m[0] === "a"), [...Array(20).keys()].map((i) => `a${i}`));
  assert.deepEqual(got.filter((m) => m[0] === "b"), [...Array(20).keys()].map((i) => `b${i}`));
});

eachTransport("PushSocket cannot receive and PullSocket cannot send", async (_t) => {
  await using push = new PushSocket();
  await using pull = new PullSocket();
  await rejectsWith(push.receive(), "ENOTSUP");
  await rejectsWith(pull.send("x"), "ENOTSUP");
}, ["inproc"]);

eachTransport("PairSocket refuses a second connection and keeps the first", async (t) => {
  await using a = new PairSocket();
  const ep = await bindAny(a, t);
  await using b = new PairSocket();
  const ready = handshakes(a);
  b.connect(ep);
  await ready;
  await using c = new PairSocket({ reconnectInterval: -1 });
  const refused = nextEvents(a, "disconnected");
  c.connect(ep);
  await refused;
  await send(b, "from b");
  assert.deepEqual(await recvText(a), ["from b"]);
  await send(a, "to b");
  assert.deepEqual(await recvText(b), ["to b"]);
});

eachTransport("PairSocket talks both ways with multipart messages", async (t) => {
  await using a = new PairSocket();
  const ep = await bindAny(a, t);
  await using b = new PairSocket();
  b.connect(ep);
  for (let i = 0; i < 3; i++) {
    await send(b, ["ping", `${i}`]);
    assert.deepEqual(await recvText(a), ["ping", `${i}`]);
    await send(a, ["pong", `${i}`]);
    assert.deepEqual(await recvText(b), ["pong", `${i}`]);
  }
});

eachTransport("PairSocket accepts a new peer after the first one leaves", async (t) => {
  await using a = new PairSocket();
  const ep = await bindAny(a, t);
  const b = new PairSocket();
  try {
    b.connect(ep);
    await send(b, "first");
    assert.deepEqual(await recvText(a), ["first"]);
  } finally {
    const gone = nextEvents(a, "disconnected");
    await b.close();
    await gone;
  }
  await using c = new PairSocket();
  c.connect(ep);
  await send(c, "second");
  assert.deepEqual(await recvText(a), ["second"]);
  await send(a, "hello c");
  assert.deepEqual(await recvText(c), ["hello c"]);
});
