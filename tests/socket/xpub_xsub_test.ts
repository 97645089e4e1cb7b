/**
 * XPUB and XSUB behaviour over every transport, against libzmq's documented
 * semantics (zmq_socket: ZMQ_XPUB, ZMQ_XSUB; zmq_setsockopt:
 * ZMQ_XPUB_VERBOSE, ZMQ_XPUB_MANUAL, ZMQ_XPUB_WELCOME_MSG).
 *
 * @module
 */

import assert from "node:assert/strict";
import { SubSocket, XPubSocket, XSubSocket } from "../../mod.ts";
import {
  bindAny,
  bytes,
  eachTransport,
  recv,
  recvText,
  send,
  syncSubscription,
} from "./_helpers.ts";

/** A subscription message: 1 (subscribe) or 0 (unsubscribe), then the topic. */
function subMsg(subscribe: boolean, topic: string): Uint8Array {
  return new Uint8Array([subscribe ? 1 : 0, ...bytes(topic)]);
}

eachTransport(
  "XPubSocket receives [1, topic] on subscribe and [0, topic] on unsubscribe",
  async (t) => {
    await using xpub = new XPubSocket();
    const ep = await bindAny(xpub, t);
    await using sub = new SubSocket();
    sub.connect(ep);
    sub.subscribe("news");
    assert.deepEqual(await recv(xpub), [subMsg(true, "news")]);
    sub.unsubscribe("news");
    assert.deepEqual(await recv(xpub), [subMsg(false, "news")]);
  },
);

eachTransport(
  "XPubSocket passes only a topic's first subscription and last unsubscription",
  async (t) => {
    await using xpub = new XPubSocket();
    const ep = await bindAny(xpub, t);
    await using s1 = new SubSocket();
    await using s2 = new SubSocket();
    s1.connect(ep);
    s2.connect(ep);
    s1.subscribe("t");
    assert.deepEqual(await recv(xpub), [subMsg(true, "t")]);
    s2.subscribe("t");
    s2.subscribe("u");
    assert.deepEqual(await recv(xpub), [subMsg(true, "u")]);
    s1.unsubscribe("t");
    s1.subscribe("v");
    assert.deepEqual(await recv(xpub), [subMsg(true, "v")]);
    s2.unsubscribe("t");
    assert.deepEqual(await recv(xpub), [subMsg(false, "t")]);
  },
);

eachTransport("XPubSocket with verbose passes every subscription", async (t) => {
  await using xpub = new XPubSocket({ verbose: true });
  const ep = await bindAny(xpub, t);
  await using s1 = new SubSocket();
  await using s2 = new SubSocket();
  s1.connect(ep);
  s2.connect(ep);
  s1.subscribe("t");
  assert.deepEqual(await recv(xpub), [subMsg(true, "t")]);
  s2.subscribe("t");
  s2.subscribe("u");
  assert.deepEqual(await recv(xpub), [subMsg(true, "t")]);
  assert.deepEqual(await recv(xpub), [subMsg(true, "u")]);
});

eachTransport("XPubSocket unsubscribes the topics of a subscriber that leaves", async (t) => {
  await using xpub = new XPubSocket();
  const ep = await bindAny(xpub, t);
  const sub = new SubSocket();
  try {
    sub.connect(ep);
    sub.subscribe("x");
    assert.deepEqual(await recv(xpub), [subMsg(true, "x")]);
  } finally {
    await sub.close();
  }
  assert.deepEqual(await recv(xpub), [subMsg(false, "x")]);
});

eachTransport("XPubSocket sends its welcomeMessage to every new subscriber", async (t) => {
  await using xpub = new XPubSocket({ welcomeMessage: "welcome" });
  const ep = await bindAny(xpub, t);
  await using s1 = new SubSocket();
  await using s2 = new SubSocket();
  s1.subscribe("welcome");
  s2.subscribe("welcome");
  s1.connect(ep);
  assert.deepEqual(await recvText(s1), ["welcome"]);
  s2.connect(ep);
  assert.deepEqual(await recvText(s2), ["welcome"]);
  assert.deepEqual(await recv(xpub), [subMsg(true, "welcome")]);
});

eachTransport(
  "XPubSocket with manual applies the subscription the application chooses",
  async (t) => {
    await using xpub = new XPubSocket({ manual: true });
    const ep = await bindAny(xpub, t);
    await using sub = new SubSocket();
    sub.connect(ep);
    sub.subscribe("");
    // The subscriber asked for everything; the application grants only "b".
    assert.deepEqual(await recv(xpub), [subMsg(true, "")]);
    xpub.subscribe("b");
    await send(xpub, "a-msg");
    await send(xpub, "b-msg");
    assert.deepEqual(await recvText(sub), ["b-msg"]);
    // Each further subscription reaches the application, which decides again.
    sub.subscribe("c");
    assert.deepEqual(await recv(xpub), [subMsg(true, "c")]);
    xpub.unsubscribe("b");
    await send(xpub, "b-gone");
    xpub.subscribe("c");
    await send(xpub, "c-msg");
    assert.deepEqual(await recvText(sub), ["c-msg"]);
  },
);

eachTransport("XPubSocket receives upstream messages from an XSubSocket", async (t) => {
  await using xpub = new XPubSocket();
  const ep = await bindAny(xpub, t);
  await using xsub = new XSubSocket();
  xsub.connect(ep);
  await send(xsub, subMsg(true, "k"));
  assert.deepEqual(await recv(xpub), [subMsg(true, "k")]);
  await send(xsub, ["hello", "upstream"]);
  assert.deepEqual(await recvText(xpub), ["hello", "upstream"]);
});

eachTransport("XSubSocket subscribes and unsubscribes by message", async (t) => {
  await using xpub = new XPubSocket();
  const ep = await bindAny(xpub, t);
  await using xsub = new XSubSocket();
  xsub.connect(ep);
  await send(xsub, subMsg(true, "a"));
  assert.deepEqual(await recv(xpub), [subMsg(true, "a")]);
  await send(xpub, "b1");
  await send(xpub, "a1");
  assert.deepEqual(await recvText(xsub), ["a1"]);
  await send(xsub, subMsg(false, "a"));
  assert.deepEqual(await recv(xpub), [subMsg(false, "a")]);
});

eachTransport(
  "XSubSocket sends its subscriptions to a publisher that connects later",
  async (t) => {
    await using xsub = new XSubSocket();
    const ep = await bindAny(xsub, t);
    await send(xsub, subMsg(true, "early"));
    await using xpub = new XPubSocket();
    xpub.connect(ep);
    assert.deepEqual(await recv(xpub), [subMsg(true, "early")]);
    await syncSubscription(xpub, xsub, "early-probe");
  },
);

eachTransport(
  "XPubSocket with manual passes the unsubscriptions of a subscriber that leaves",
  async (t) => {
    // libzmq 4.3.4 (checked with pyzmq): in manual mode every topic the leaving peer had
    // subscribed comes back as [0, topic], even one another peer still holds.
    await using xpub = new XPubSocket({ manual: true });
    const ep = await bindAny(xpub, t);
    await using stays = new SubSocket();
    const leaves = new SubSocket();
    try {
      leaves.connect(ep);
      leaves.subscribe("a", "c");
      assert.deepEqual(await recv(xpub), [subMsg(true, "a")]);
      assert.deepEqual(await recv(xpub), [subMsg(true, "c")]);
      xpub.subscribe("a");
      stays.connect(ep);
      stays.subscribe("a");
      assert.deepEqual(await recv(xpub), [subMsg(true, "a")]);
      xpub.subscribe("a");
    } finally {
      await leaves.close();
    }
    const gone = [await recv(xpub), await recv(xpub)].map((m) => m[0]);
    gone.sort((x, y) => x[1] - y[1]);
    assert.deepEqual(gone, [subMsg(false, "a"), subMsg(false, "c")]);
    // The subscriber that stays still gets what the application granted it.
    await send(xpub, "a-msg");
    assert.deepEqual(await recvText(stays), ["a-msg"]);
  },
);
