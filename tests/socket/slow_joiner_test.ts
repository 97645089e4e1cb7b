/**
 * The slow joiner: `waitForSubscribers(n)` on PUB and XPUB resolves once n
 * peers completed their handshake and sent a subscription, so the first
 * message published after it reaches them; `subscribe()` with no topic
 * subscribes to everything.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PubSocket, SubSocket, XPubSocket } from "../../mod.ts";
import { coreOf } from "../../src/socket/_core.ts";
import type { SubscriberPattern } from "../../src/socket/_subscriber.ts";
import {
  bindAny,
  eachTransport,
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
  "PubSocket.waitForSubscribers() counts only subscribers that subscribed",
  async (t) => {
    await using pub = new PubSocket();
    const ep = await bindAny(pub, t);
    await using a = new SubSocket();
    a.subscribe("news");
    a.connect(ep);
    await withTimeout(pub.waitForSubscribers(1), WAIT, "first subscriber");
    // No probe, no retry loop: the first message after the wait is delivered.
    await send(pub, ["news", "first"]);
    assert.deepEqual(await recvText(a), ["news", "first"]);

    const two = pub.waitForSubscribers(2);
    await using b = new SubSocket();
    const handshake = handshakes(pub);
    b.connect(ep);
    await withTimeout(handshake, WAIT, "b's handshake");
    assert.equal(await isPending(two), true, "connected but not subscribed: not counted");
    b.subscribe();
    await withTimeout(two, WAIT, "second subscriber");
    await send(pub, "everyone");
    assert.deepEqual(await recvText(b), ["everyone"]);

    // A subscriber that leaves stops counting.
    const gone = nextEvents(pub, "disconnected");
    await a.close();
    await withTimeout(gone, WAIT, "a's disconnection");
    await rejectsWith(pub.waitForSubscribers(2, { timeout: 10 }), "EAGAIN");
    await withTimeout(pub.waitForSubscribers(1, { timeout: 0 }), WAIT);
  },
);

Deno.test("waitForSubscribers() rejects with EAGAIN, ECANCELED or ETERM", async () => {
  const pub = new PubSocket();
  await bindAny(pub, "inproc");
  await rejectsWith(pub.waitForSubscribers(1, { timeout: 10 }), "EAGAIN");
  await rejectsWith(pub.waitForSubscribers(1, { signal: AbortSignal.timeout(10) }), "EAGAIN");
  await rejectsWith(pub.waitForSubscribers(1, { signal: AbortSignal.abort() }), "ECANCELED");
  await assert.rejects(pub.waitForSubscribers(-1), RangeError);
  await withTimeout(pub.waitForSubscribers(0), WAIT);
  const waiting = pub.waitForSubscribers(1);
  await pub.close();
  await rejectsWith(waiting, "ETERM");
  await rejectsWith(pub.waitForSubscribers(1), "ETERM");
});

eachTransport("XPubSocket.waitForSubscribers() counts subscribers, verbose or not", async (t) => {
  await using xpub = new XPubSocket();
  const ep = await bindAny(xpub, t);
  const subs = [new SubSocket(), new SubSocket()];
  try {
    for (const sub of subs) {
      sub.subscribe("same"); // the second is not passed on (not verbose), but counts
      sub.connect(ep);
    }
    await withTimeout(xpub.waitForSubscribers(2), WAIT, "two subscribers");
    await send(xpub, ["same", "to both"]);
    for (const sub of subs) assert.deepEqual(await recvText(sub), ["same", "to both"]);
  } finally {
    for (const sub of subs) await sub.close();
  }
});

Deno.test("SubSocket.subscribe() with no topic subscribes to everything; unsubscribe() undoes it", async () => {
  await using sub = new SubSocket();
  const table = (coreOf(sub).pattern as SubscriberPattern).table;
  sub.subscribe();
  assert.equal(table.size, 1);
  assert.ok(table.matches(new TextEncoder().encode("anything at all")));
  sub.subscribe("weather.");
  sub.unsubscribe();
  assert.equal(table.size, 1, "only the everything-subscription went");
  assert.ok(!table.matches(new TextEncoder().encode("sports")));
});

eachTransport("A SUB that called subscribe() receives every topic", async (t) => {
  await using pub = new PubSocket();
  const ep = await bindAny(pub, t);
  await using sub = new SubSocket();
  sub.subscribe();
  sub.connect(ep);
  await withTimeout(pub.waitForSubscribers(1), WAIT);
  await send(pub, "alpha");
  await send(pub, ["beta", "2"]);
  assert.deepEqual(await recvText(sub), ["alpha"]);
  assert.deepEqual(await recvText(sub), ["beta", "2"]);
});
