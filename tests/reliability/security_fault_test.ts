/**
 * CURVE across restarts, with real processes and real TCP: a Monocoque CURVE
 * DEALER and SUB reconnect to a pyzmq (libzmq 4.3.4) CURVE ROUTER and PUB that
 * are killed (SIGKILL) and restarted on the same port, and a libzmq CURVE
 * DEALER reconnects to a Monocoque CURVE ROUTER that is closed and bound
 * again; each new connection does the whole CURVE handshake again (new
 * short-term keys, a new cookie) and traffic resumes in both directions.
 * Every wait is bounded; no duration is asserted.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  Authenticator,
  curveKeyPair,
  DealerSocket,
  RouterSocket,
  SubSocket,
  ZmqError,
} from "../../mod.ts";
import type { PeerStartOptions } from "../_util/peer.ts";
import { brief, EventLog, ofType, text, ThrowGuard } from "./_helpers.ts";
import { freePort, kill9, startOn } from "./_peers.ts";

const server = curveKeyPair();
const client = curveKeyPair();

Deno.test("CURVE fault: a DEALER re-handshakes with its pyzmq CURVE ROUTER killed and restarted on the same port", async () => {
  using guard = new ThrowGuard();
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  const routerOptions: PeerStartOptions = {
    type: "ROUTER",
    bind: endpoint,
    options: { curveServer: true, curveSecretkey: server.secretKey },
  };
  const dealer = new DealerSocket({
    routingId: "d1",
    curveServerKey: server.publicKey,
    curveSecretKey: client.secretKey,
    receiveTimeout: 10_000,
    sendTimeout: 10_000,
    linger: 0,
  });
  const log = new EventLog(dealer);
  let router = await startOn(routerOptions);
  try {
    dealer.connect(endpoint);
    /** A round trip through the ROUTER: our DEALER to it, and its reply back. */
    const roundTrip = async (tag: string) => {
      await dealer.send(["request", tag]);
      const got = await router.recv(5000);
      assert.ok(got !== undefined, `the ROUTER got ${tag}`);
      assert.deepEqual(got.map(text), ["d1", "request", tag]);
      await router.send(["d1", "reply", tag]);
      assert.deepEqual((await dealer.receive()).map(text), ["reply", tag]);
    };
    await roundTrip("before");

    const mark = log.mark();
    await kill9(endpoint);
    await router.close();
    await log.waitFor(ofType("disconnected"), mark, 5000, "disconnected");
    await log.waitFor(ofType("connectRetried"), mark, 5000, "connectRetried");
    router = await startOn(routerOptions);
    const { event } = await log.waitFor(ofType("handshakeSucceeded"), mark, 10_000, "re-handshake");
    assert.equal(event.type === "handshakeSucceeded" && event.peer.socketType, "ROUTER");
    assert.equal(log.since(mark, ofType("handshakeFailed")).length, 0);
    await roundTrip("after");
    guard.check();
  } finally {
    await router.close();
    await dealer.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("CURVE fault: a SUB gets messages again after its pyzmq CURVE PUB is killed and restarts", async () => {
  using guard = new ThrowGuard();
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  const pubOptions: PeerStartOptions = {
    type: "PUB",
    bind: endpoint,
    options: { curveServer: true, curveSecretkey: server.secretKey },
  };
  const sub = new SubSocket({
    curveServerKey: server.publicKey,
    curveSecretKey: client.secretKey,
    receiveTimeout: 100,
    linger: 0,
  });
  const log = new EventLog(sub);
  let pub = await startOn(pubOptions);
  /** Publishes until the SUB gets a matching message (subscriptions travel asynchronously). */
  const deliver = async (tag: string) => {
    for (let i = 0; i < 100; i++) {
      await pub.send(["other.skip"]);
      await pub.send([`t.${tag}`, "secret payload"]);
      try {
        const frames = await sub.receive();
        // A message of an earlier try may still be queued: skip it.
        if (text(frames[0]) !== `t.${tag}`) continue;
        assert.deepEqual(frames.map(text), [`t.${tag}`, "secret payload"]);
        return;
      } catch (e) {
        if (!(e instanceof ZmqError && e.code === "EAGAIN")) throw e;
      }
    }
    assert.fail(`SUB never received t.${tag}: events ${JSON.stringify(log.events.map(brief))}`);
  };
  try {
    sub.subscribe("t.");
    sub.connect(endpoint);
    await deliver("first");

    const mark = log.mark();
    await kill9(endpoint);
    await pub.close();
    await log.waitFor(ofType("disconnected"), mark, 5000, "disconnected");
    pub = await startOn(pubOptions);
    await log.waitFor(ofType("handshakeSucceeded"), mark, 10_000, "re-handshake");
    // No subscribe() here: the SUB resends "t." inside the new CURVE session itself.
    await deliver("second");
    guard.check();
  } finally {
    await pub.close();
    await sub.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("CURVE fault: a libzmq CURVE DEALER reconnects to our CURVE ROUTER closed and bound again, judged by our Authenticator each time", async () => {
  using guard = new ThrowGuard();
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  await using auth = new Authenticator();
  await auth.start();
  auth.configureCurve([client.publicKey]);
  const newRouter = () =>
    new RouterSocket({
      curveServer: true,
      curveSecretKey: server.secretKey,
      receiveTimeout: 10_000,
      sendTimeout: 10_000,
      linger: 0,
    });
  let router = newRouter();
  let log = new EventLog(router);
  await using dealer = await startOn({
    type: "DEALER",
    connect: endpoint,
    options: {
      routingId: "py",
      curveServerkey: server.publicKey,
      curvePublickey: client.publicKey,
      curveSecretkey: client.secretKey,
    },
  });
  /** The libzmq DEALER's request through our ROUTER, and our reply back. */
  const roundTrip = async (tag: string) => {
    await dealer.send(["request", tag]);
    const got = await router.receive();
    assert.deepEqual(got.map(text), ["py", "request", tag]);
    await router.send(["py", "reply", tag]);
    const back = await dealer.recv(5000);
    assert.deepEqual(back?.map(text), ["reply", tag]);
  };
  try {
    await router.bind(endpoint);
    const first = await log.waitFor(ofType("handshakeSucceeded"), 0, 10_000, "handshake");
    assert.equal(
      first.event.type === "handshakeSucceeded" && first.event.peer.userId,
      client.publicKey,
    );
    await roundTrip("before");

    await router.close();
    await log.finished();
    router = newRouter();
    log = new EventLog(router);
    await router.bind(endpoint);
    const again = await log.waitFor(ofType("handshakeSucceeded"), 0, 10_000, "re-handshake");
    assert.equal(
      again.event.type === "handshakeSucceeded" && again.event.peer.userId,
      client.publicKey,
    );
    await roundTrip("after");
    guard.check();
  } finally {
    await router.close();
    await log.finished();
  }
  guard.check();
});
