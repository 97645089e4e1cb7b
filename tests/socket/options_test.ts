/**
 * Socket options whose effect is observable between two sockets, over every
 * transport: `immediate` (ZMQ_IMMEDIATE), `linger` (ZMQ_LINGER),
 * `maxMessageSize` (ZMQ_MAXMSGSIZE), and ROUTER behaviour at the high-water
 * mark with and without `mandatory`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DealerSocket, PullSocket, PushSocket, RouterSocket, ZmqError } from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  freeEndpoint,
  handshakes,
  nextEvents,
  recvText,
  send,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

eachTransport("PushSocket with immediate queues only to connected peers", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  await using push = new PushSocket({ immediate: true });
  const ready = handshakes(push);
  push.connect(ep);
  push.connect(freeEndpoint(t)); // nobody there
  await ready;
  for (let i = 0; i < 6; i++) await send(push, `m${i}`);
  for (let i = 0; i < 6; i++) assert.deepEqual(await recvText(pull), [`m${i}`]);
});

eachTransport("PushSocket without immediate queues to a peer not yet connected", async (t) => {
  await using a = new PullSocket();
  const epA = await bindAny(a, t);
  const epB = freeEndpoint(t);
  await using push = new PushSocket();
  const ready = handshakes(push);
  push.connect(epA);
  push.connect(epB);
  await ready;
  for (let i = 0; i < 6; i++) await send(push, `m${i}`);
  const gotA = [];
  for (let i = 0; i < 3; i++) gotA.push((await recvText(a))[0]);
  await using b = new PullSocket();
  await withTimeout(b.bind(epB), WAIT);
  const gotB = [];
  for (let i = 0; i < 3; i++) gotB.push((await recvText(b))[0]);
  assert.deepEqual([...gotA, ...gotB].sort(), ["m0", "m1", "m2", "m3", "m4", "m5"]);
});

eachTransport("Socket.close() with the default linger delivers queued messages", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  const push = new PushSocket();
  try {
    const ready = handshakes(push);
    push.connect(ep);
    await ready;
    const payload = new Uint8Array(16 * 1024);
    for (let i = 0; i < 200; i++) await send(push, [`m${i}`, payload]);
  } finally {
    await withTimeout(push.close(), WAIT, "close with linger");
  }
  for (let i = 0; i < 200; i++) assert.equal((await recvText(pull))[0], `m${i}`);
});

eachTransport(
  "Socket.close() with the default linger does not wait for a peer that never connected",
  async (t) => {
    const push = new PushSocket();
    push.connect(freeEndpoint(t));
    await send(push, "undeliverable");
    await withTimeout(push.close(), WAIT, "close");
  },
);

eachTransport(
  "PullSocket with maxMessageSize drops a peer that sends a larger message",
  async (t) => {
    await using pull = new PullSocket({ maxMessageSize: 64 }); // room for the READY command (libzmq checks commands too);
    const ep = await bindAny(pull, t);
    await using push = new PushSocket({ reconnectInterval: 10 });
    push.connect(ep);
    await send(push, "small");
    assert.deepEqual(await recvText(pull), ["small"]);
    const dropped = nextEvents(pull, "disconnected");
    const reconnected = nextEvents(pull, "handshakeSucceeded");
    await send(push, "x".repeat(200));
    await dropped;
    await reconnected;
    await send(push, "after");
    assert.deepEqual(await recvText(pull), ["after"]);
  },
);

eachTransport(
  "RouterSocket.send() drops instead of blocking for a peer at its high-water mark",
  async (t) => {
    await using router = new RouterSocket({ sendHighWaterMark: 5 });
    const ep = await bindAny(router, t);
    await using dealer = new DealerSocket({ routingId: "slow", receiveHighWaterMark: 5 });
    const ready = handshakes(router);
    dealer.connect(ep);
    await ready;
    const payload = new Uint8Array(64 * 1024);
    const sends = [];
    for (let i = 0; i < 500; i++) sends.push(router.send(["slow", payload]));
    await withTimeout(Promise.all(sends), WAIT, "500 sends to a slow peer");
  },
);

eachTransport(
  "RouterSocket with mandatory fails with EAGAIN for a peer at its high-water mark",
  async (t) => {
    await using router = new RouterSocket({
      mandatory: true,
      sendHighWaterMark: 5,
      sendTimeout: 100,
    });
    const ep = await bindAny(router, t);
    await using dealer = new DealerSocket({ routingId: "slow", receiveHighWaterMark: 5 });
    const ready = handshakes(router);
    dealer.connect(ep);
    await ready;
    const payload = new Uint8Array(t === "inproc" ? 16 : 1 << 20);
    let code: string | undefined;
    for (let i = 0; i < 300 && code === undefined; i++) {
      try {
        await withTimeout(router.send(["slow", payload]), WAIT);
      } catch (e) {
        if (!(e instanceof ZmqError)) throw e;
        code = e.code;
      }
    }
    assert.equal(code, "EAGAIN");
  },
);
