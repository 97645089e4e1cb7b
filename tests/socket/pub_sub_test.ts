/**
 * PUB and SUB behaviour over every transport, against libzmq's documented
 * semantics (zmq_socket: ZMQ_PUB, ZMQ_SUB; zmq_setsockopt: ZMQ_SUBSCRIBE,
 * ZMQ_UNSUBSCRIBE). Subscriptions reach a publisher asynchronously, so tests
 * first publish a probe until it arrives (see `syncSubscription`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { PubSocket, SubSocket } from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  handshakes,
  nextEvents,
  recvSkippingProbes,
  send,
  syncSubscription,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

eachTransport("SubSocket with no subscription receives nothing", async (t) => {
  await using pub = new PubSocket();
  const ep = await bindAny(pub, t);
  await using sub = new SubSocket();
  const ready = Promise.all([handshakes(pub), handshakes(sub)]);
  sub.connect(ep);
  await ready;
  for (let i = 0; i < 5; i++) await send(pub, "unwanted");
  sub.subscribe("");
  await syncSubscription(pub, sub, "probe");
  // The probe is the first thing received: nothing before the subscription got through.
  await send(pub, "wanted");
  assert.deepEqual(await recvSkippingProbes(sub), ["wanted"]);
});

eachTransport(
  "SubSocket receives only messages whose first frame has a subscribed prefix",
  async (t) => {
    await using pub = new PubSocket();
    const ep = await bindAny(pub, t);
    await using sub = new SubSocket();
    sub.subscribe("a.");
    sub.connect(ep);
    await syncSubscription(pub, sub, "a.probe");
    await send(pub, "b.no");
    await send(pub, "a.1");
    await send(pub, "a");
    await send(pub, ["b", "a.no"]);
    await send(pub, ["a.2", "body", "more"]);
    await send(pub, "ab");
    await send(pub, "a.3");
    assert.deepEqual(await recvSkippingProbes(sub), ["a.1"]);
    assert.deepEqual(await recvSkippingProbes(sub), ["a.2", "body", "more"]);
    assert.deepEqual(await recvSkippingProbes(sub), ["a.3"]);
  },
);

eachTransport(
  "SubSocket counts subscriptions: subscribing twice needs two unsubscribes",
  async (t) => {
    await using pub = new PubSocket();
    const ep = await bindAny(pub, t);
    await using sub = new SubSocket();
    sub.subscribe("t", "t");
    sub.connect(ep);
    await syncSubscription(pub, sub, "t.probe");
    sub.unsubscribe("t");
    await send(pub, "t.still");
    assert.deepEqual(await recvSkippingProbes(sub), ["t.still"]);
    sub.unsubscribe("t");
    sub.subscribe("z");
    // Publish "t.gone" before each probe: only the probe may arrive.
    let probes = 0;
    const received = sub.receive();
    received.catch(() => {});
    const deadline = Date.now() + WAIT;
    let got: Uint8Array[] | undefined;
    while (got === undefined && Date.now() < deadline) {
      await send(pub, "t.gone");
      await send(pub, "z.probe");
      probes++;
      let timer: ReturnType<typeof setTimeout> | undefined;
      got = await Promise.race([
        received,
        new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 10))),
      ]);
      clearTimeout(timer);
    }
    assert.ok(got !== undefined, "the new subscription reached the publisher");
    assert.equal(new TextDecoder().decode(got[0]), "z.probe");
    assert.ok(probes > 0);
  },
);

eachTransport("SubSocket subscribed to the empty prefix receives everything", async (t) => {
  await using pub = new PubSocket();
  const ep = await bindAny(pub, t);
  await using sub = new SubSocket();
  sub.subscribe("");
  sub.connect(ep);
  await syncSubscription(pub, sub, "probe");
  await send(pub, "x");
  await send(pub, new Uint8Array([0, 1, 2]));
  await send(pub, ["", "empty topic"]);
  assert.deepEqual(await recvSkippingProbes(sub), ["x"]);
  assert.deepEqual(await recvSkippingProbes(sub), ["\0\x01\x02"]);
  assert.deepEqual(await recvSkippingProbes(sub), ["", "empty topic"]);
});

eachTransport("PubSocket delivers to several SubSockets by their own prefixes", async (t) => {
  await using pub = new PubSocket();
  const ep = await bindAny(pub, t);
  await using subA = new SubSocket();
  await using subB = new SubSocket();
  await using subAll = new SubSocket();
  subA.subscribe("a");
  subB.subscribe("b", "c");
  subAll.subscribe("");
  subA.connect(ep);
  subB.connect(ep);
  subAll.connect(ep);
  await syncSubscription(pub, subA, "a-probe");
  await syncSubscription(pub, subB, "b-probe");
  await syncSubscription(pub, subAll, "probe");
  for (const m of ["a1", "b1", "c1", "d1", "a2"]) await send(pub, m);
  assert.deepEqual(await recvSkippingProbes(subA), ["a1"]);
  assert.deepEqual(await recvSkippingProbes(subA), ["a2"]);
  assert.deepEqual(await recvSkippingProbes(subB), ["b1"]);
  assert.deepEqual(await recvSkippingProbes(subB), ["c1"]);
  for (const m of ["a1", "b1", "c1", "d1", "a2"]) {
    assert.deepEqual(await recvSkippingProbes(subAll), [m]);
  }
});

eachTransport("PubSocket.send() never waits for a SubSocket that does not read", async (t) => {
  await using pub = new PubSocket({ sendHighWaterMark: 10 });
  const ep = await bindAny(pub, t);
  await using sub = new SubSocket({ receiveHighWaterMark: 10 });
  sub.subscribe("");
  sub.connect(ep);
  await syncSubscription(pub, sub, "probe");
  const payload = new Uint8Array(64 * 1024);
  const sends = [];
  for (let i = 0; i < 100; i++) sends.push(pub.send(["data", payload]));
  await withTimeout(Promise.all(sends), WAIT, "100 sends to a full subscriber");
  // A lone send after that does not wait either.
  await send(pub, "more");
});

eachTransport("PubSocket cannot receive and SubSocket cannot send", async (t) => {
  await using pub = new PubSocket();
  await using sub = new SubSocket();
  const ep = await bindAny(pub, t);
  sub.connect(ep);
  await assert.rejects(pub.receive(), { code: "ENOTSUP" });
  await assert.rejects(sub.send("x"), { code: "ENOTSUP" });
});

eachTransport(
  "SubSocket subscribes again to a new PubSocket bound on the same endpoint",
  async (t) => {
    const pub1 = new PubSocket();
    let ep: string;
    try {
      ep = await bindAny(pub1, t);
    } catch (e) {
      await pub1.close();
      throw e;
    }
    await using sub = new SubSocket();
    sub.subscribe("w");
    sub.connect(ep);
    try {
      await syncSubscription(pub1, sub, "w-probe-1");
    } finally {
      const lost = nextEvents(sub, "disconnected");
      await pub1.close();
      await lost;
    }
    await using pub2 = new PubSocket();
    await withTimeout(pub2.bind(ep), WAIT, "bind again");
    await syncSubscription(pub2, sub, "w-probe-2");
    await send(pub2, "w.after restart");
    await send(pub2, "x.not subscribed");
    await send(pub2, "w.again");
    assert.deepEqual(await recvSkippingProbes(sub), ["w.after restart"]);
    assert.deepEqual(await recvSkippingProbes(sub), ["w.again"]);
  },
  ["tcp", "ipc"],
);

eachTransport("SubSocket.subscribe() accepts bytes and several prefixes at once", async (t) => {
  await using pub = new PubSocket();
  const ep = await bindAny(pub, t);
  await using sub = new SubSocket();
  sub.subscribe(new Uint8Array([0xff]), "k");
  sub.connect(ep);
  await syncSubscription(pub, sub, "k-probe");
  await send(pub, new Uint8Array([0xfe, 1]));
  await send(pub, new Uint8Array([0xff, 2]));
  const [frame] = await withTimeout(sub.receive(), WAIT);
  // Skip late probes by hand: they start with "k".
  let f = frame;
  while (f[0] === "k".charCodeAt(0)) [f] = await withTimeout(sub.receive(), WAIT);
  assert.deepEqual(f, new Uint8Array([0xff, 2]));
  assert.throws(() => sub.subscribe(42 as unknown as string), TypeError);
});
