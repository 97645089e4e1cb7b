/**
 * Faults with real processes and real TCP: libzmq peers killed and restarted
 * on the same port, connection refused until the peer appears, a subscriber
 * that never reads, silent peers and heartbeats, exactly-once delivery on a
 * stable link, and linger on close. Every wait is bounded; no duration is
 * asserted.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DealerSocket,
  PubSocket,
  PullSocket,
  PushSocket,
  ReqSocket,
  RouterSocket,
  SubSocket,
  ZmqError,
} from "../../mod.ts";
import { MessageDigest, sequenceMessage } from "../_util/bytes.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";
import {
  brief,
  cat,
  command,
  EventLog,
  greeting,
  ofType,
  RawPeer,
  ready,
  text,
  ThrowGuard,
  utf8,
} from "./_helpers.ts";
import { freePort, kill9, startOn } from "./_peers.ts";

Deno.test("fault: a DEALER recovers by itself when its pyzmq ROUTER is killed mid-stream and restarted on the same port", async () => {
  using guard = new ThrowGuard();
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  const dealer = new DealerSocket({
    routingId: "d1",
    receiveTimeout: 10_000,
    sendTimeout: 10_000,
    linger: 0,
  });
  const log = new EventLog(dealer);
  let router = await Peer.start({ type: "ROUTER", bind: endpoint });
  let stop = false;
  let sender: Promise<number> | undefined;
  try {
    dealer.connect(endpoint);
    await dealer.send("before");
    const echoed = router.echo(1, 5000);
    assert.equal(text((await dealer.receive())[0]), "before");
    assert.equal(await echoed, 1);

    // A stream of numbered messages, and the peer killed (SIGKILL) while it is reading them.
    sender = (async () => {
      let i = 0;
      while (!stop) await dealer.send(String(i++).padStart(8, "0"));
      return i;
    })();
    const reading = router.recvCount(1_000_000, { timeout: 5000 }).catch(() => undefined);
    const mark = log.mark();
    await kill9(endpoint);
    await reading;
    await router.close();
    await log.waitFor(ofType("disconnected"), mark, 5000, "disconnected");
    await log.waitFor(ofType("connectRetried"), mark, 5000, "connectRetried");

    const restarted = log.mark();
    router = await startOn({ type: "ROUTER", bind: endpoint });
    const { event } = await log.waitFor(
      ofType("handshakeSucceeded"),
      restarted,
      10_000,
      "re-handshake",
    );
    assert.equal(event.type === "handshakeSucceeded" && event.peer.socketType, "ROUTER");
    stop = true;
    const sent = await withTimeout(sender, 15_000, "the sender stops");
    await dealer.send("marker");
    // Messages flow again, each at most once and in order (some sent before the kill are lost).
    let last = -1;
    for (let n = 0; n <= sent + 1; n++) {
      const got = await router.recv(5000);
      assert.ok(got !== undefined, `message ${n} after the restart`);
      assert.equal(text(got[0]), "d1");
      const body = text(got[1])!;
      if (body === "marker") break;
      const k = Number(body);
      assert.ok(k > last && k < sent, `no duplicate, in order: ${k} after ${last}`);
      last = k;
    }
    await router.send(["d1", "after"]);
    assert.equal(text((await dealer.receive())[0]), "after");
    guard.check();
  } finally {
    stop = true;
    await router.close();
    await dealer.close();
    await sender?.catch(() => {});
    await log.finished();
  }
  guard.check();
});

Deno.test("fault: a SUB gets messages again after its pyzmq PUB is killed and restarts, without resubscribing", async () => {
  using guard = new ThrowGuard();
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  const sub = new SubSocket({ receiveTimeout: 100, linger: 0 });
  const log = new EventLog(sub);
  let pub = await Peer.start({ type: "PUB", bind: endpoint });
  /** Publishes until the SUB gets a matching message (subscriptions travel asynchronously). */
  const deliver = async (tag: string) => {
    for (let i = 0; i < 100; i++) {
      await pub.send(["other.skip"]);
      await pub.send([`t.${tag}`]);
      try {
        const [topic] = await sub.receive();
        assert.equal(text(topic), `t.${tag}`, "the subscription filter holds");
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
    await log.waitFor(ofType("connectRetried"), mark, 5000, "connectRetried");
    pub = await startOn({ type: "PUB", bind: endpoint });
    await log.waitFor(ofType("handshakeSucceeded"), mark, 10_000, "re-handshake");
    // No subscribe() call here: the SUB must resend "t." itself.
    await deliver("second");
    guard.check();
  } finally {
    await pub.close();
    await sub.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("fault: a relaxed, correlating REQ recovers from a reply lost with its killed pyzmq REP", async () => {
  using guard = new ThrowGuard();
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  const req = new ReqSocket({ relaxed: true, correlate: true, receiveTimeout: 10_000, linger: 0 });
  const log = new EventLog(req);
  let rep = await Peer.start({ type: "REP", bind: endpoint });
  try {
    req.connect(endpoint);
    await req.send("q1");
    await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "handshake");
    // The REP dies before answering: the reply to q1 is lost.
    const mark = log.mark();
    await kill9(endpoint);
    await rep.close();
    await log.waitFor(ofType("disconnected"), mark, 5000, "disconnected");
    rep = await startOn({ type: "REP", bind: endpoint });
    await log.waitFor(ofType("handshakeSucceeded"), mark, 10_000, "re-handshake");
    // Relaxed: a new request without the old reply; correlate: only its reply is accepted.
    await req.send("q2");
    assert.equal(await rep.echo(1, 5000), 1);
    assert.equal(text((await req.receive())[0]), "q2");
    guard.check();
  } finally {
    await rep.close();
    await req.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("fault: connection refused until the peer appears; the message queued before is delivered", async () => {
  using guard = new ThrowGuard();
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  const push = new PushSocket({ linger: 0, reconnectInterval: 20 });
  const log = new EventLog(push);
  let pull: Peer | undefined;
  try {
    push.connect(endpoint);
    await withTimeout(push.send("queued-before"), 5000, "send before the peer exists");
    await log.waitFor(ofType("connectDelayed"), 0, 5000, "connectDelayed");
    const { index } = await log.waitFor(ofType("connectRetried"), 0, 5000, "connectRetried");
    await log.waitFor(ofType("connectRetried"), index + 1, 5000, "a second connectRetried");
    pull = await Peer.start({ type: "PULL", bind: endpoint });
    await log.waitFor(ofType("handshakeSucceeded"), 0, 10_000, "handshake");
    assert.equal(text((await pull.recv(5000))?.[0]), "queued-before");
    await push.send("after");
    assert.equal(text((await pull.recv(5000))?.[0]), "after");
    assert.equal(await pull.recv(50), undefined, "no duplicate from the reconnects");
    guard.check();
  } finally {
    await pull?.close();
    await push.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("fault: a PUB never blocks and stays bounded in memory when its SUBs never read", async () => {
  using guard = new ThrowGuard();
  const pub = new PubSocket({ linger: 0 });
  const log = new EventLog(pub);
  let sub: Peer | undefined;
  const raw: RawPeer[] = [];
  try {
    await pub.bind("tcp://127.0.0.1:0");
    const endpoint = pub.lastEndpoint!;
    // Two raw subscribers that handshake, subscribe to everything, and never read a byte.
    for (let i = 0; i < 2; i++) {
      const mark = log.mark();
      const r = await RawPeer.connect(endpoint);
      raw.push(r);
      await r.write(cat(greeting(), ready("SUB"), command("SUBSCRIBE")));
      await log.waitFor(ofType("handshakeSucceeded"), mark, 5000, "raw SUB handshake");
    }
    // And a libzmq SUB that never calls recv (its I/O thread reads up to its RCVHWM).
    sub = await Peer.start({
      type: "SUB",
      connect: endpoint,
      options: { subscribe: "", rcvhwm: 10 },
    });
    await log.waitFor(
      (e) =>
        e.type === "handshakeSucceeded" &&
        log.events.filter(ofType("handshakeSucceeded")).length >= 3,
      0,
      5000,
      "pyzmq SUB handshake",
    );

    const count = 200_000;
    const before = Deno.memoryUsage();
    await withTimeout(
      (async () => {
        for (let i = 0; i < count; i++) {
          const payload = new Uint8Array(1024); // fresh each time: retention would show in rss
          payload[0] = i & 0xff;
          await pub.send(payload);
        }
      })(),
      60_000,
      "200 000 PUB sends (a send must never block)",
    );
    const after = Deno.memoryUsage();
    // This isolate's heap and ArrayBuffers: unlike rss, not blurred by test files running in
    // parallel in the same process. Retaining the messages would take over 200 MiB.
    const grown = after.heapUsed + after.external - before.heapUsed - before.external;
    const rss = after.rss - before.rss;
    assert.ok(
      grown < 200 * 1024 * 1024,
      `PUB memory grew by ${(grown / 1048576).toFixed(1)} MiB (rss ${
        (rss / 1048576).toFixed(1)
      } MiB) for ${count} x 1 KiB`,
    );
    assert.equal(log.events.filter(ofType("disconnected")).length, 0, "nobody was dropped");
    guard.check();
  } finally {
    for (const r of raw) r.close();
    await sub?.close();
    await pub.close();
    await log.finished();
  }
  guard.check();
});

/** A raw TCP server playing a ROUTER: completes the handshake on each connection, then goes silent. */
class SilentRouter implements AsyncDisposable {
  readonly listener: Deno.TcpListener;
  readonly endpoint: string;
  readonly conns: Deno.TcpConn[] = [];
  accepted = 0;
  #loop: Promise<void>;

  constructor() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.listener = listener;
    this.endpoint = `tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    this.#loop = (async () => {
      try {
        for await (const conn of listener) {
          this.conns.push(conn);
          this.accepted++;
          // Our greeting and READY; then we never read or write again.
          conn.write(cat(greeting(), ready("ROUTER"))).catch(() => {});
        }
      } catch { /* listener closed */ }
    })();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.listener.close();
    for (const c of this.conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await this.#loop;
  }
}

Deno.test("fault: heartbeats drop a silent peer and redial it", async () => {
  using guard = new ThrowGuard();
  await using server = new SilentRouter();
  const dealer = new DealerSocket({ heartbeatInterval: 100, heartbeatTimeout: 300, linger: 0 });
  const log = new EventLog(dealer);
  try {
    dealer.connect(server.endpoint);
    await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "handshake with the silent peer");
    const { event, index } = await log.waitFor(
      ofType("disconnected"),
      0,
      5000,
      "heartbeat timeout",
    );
    assert.ok(event.type === "disconnected");
    assert.match(event.reason, /heartbeat/i);
    await log.waitFor(ofType("connectRetried"), index, 5000, "redial scheduled");
    await log.waitFor(ofType("handshakeSucceeded"), index, 5000, "redialled");
    assert.ok(server.accepted >= 2);
    guard.check();
  } finally {
    await dealer.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("fault: PINGs from a libzmq peer are answered (and ours are), so nobody is dropped", async () => {
  using guard = new ThrowGuard();
  const router = new RouterSocket({ heartbeatInterval: 50, heartbeatTimeout: 200, linger: 0 });
  const log = new EventLog(router);
  let dealer: Peer | undefined;
  try {
    await router.bind("tcp://127.0.0.1:0");
    dealer = await Peer.start({
      type: "DEALER",
      connect: router.lastEndpoint!,
      options: { routingId: "hb", heartbeatIvl: 50, heartbeatTimeout: 200, monitor: true },
    });
    await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "handshake");
    // The peer goes quiet for 1 s in its own process (its I/O thread keeps PINGing): only
    // heartbeats cross the link, so a missing PONG on either side would drop it.
    await dealer.request({ op: "sleep", ms: 1000 });
    await dealer.send(["still-there"]);
    const [id, body] = await router.receive();
    assert.equal(text(id), "hb");
    assert.equal(text(body), "still-there");
    await router.send(["hb", "yes"]);
    assert.equal(text((await dealer.recv(5000))?.[0]), "yes");
    const peerEvents = (await dealer.request({ op: "events" })).events as { event: string }[];
    assert.deepEqual(
      peerEvents.filter((e) => e.event === "DISCONNECTED" || e.event === "CONNECT_RETRIED"),
      [],
      "the libzmq peer was never disconnected",
    );
    assert.deepEqual(log.events.filter(ofType("disconnected", "handshakeFailed")).map(brief), []);
    assert.equal(log.events.filter(ofType("accepted")).length, 1, "no reconnect");
    guard.check();
  } finally {
    await dealer?.close();
    await router.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("exactly-once: 1 000 000 messages PUSH -> PULL over tcp with blocking HWM, in order", async () => {
  using guard = new ThrowGuard();
  const count = 1_000_000;
  const pull = new PullSocket({ receiveHighWaterMark: 100, linger: 0 });
  const push = new PushSocket({ sendHighWaterMark: 100, linger: 0 });
  try {
    await pull.bind("tcp://127.0.0.1:0");
    push.connect(pull.lastEndpoint!);
    const sender = (async () => {
      for (let i = 0; i < count; i++) {
        const m = new Uint8Array(8);
        new DataView(m.buffer).setUint32(0, i);
        await push.send(m);
      }
    })();
    const receiver = (async () => {
      for (let i = 0; i < count; i++) {
        const frames = await pull.receive();
        assert.equal(frames.length, 1);
        const n = new DataView(frames[0].buffer, frames[0].byteOffset).getUint32(0);
        if (n !== i) assert.fail(`message ${i}: got counter ${n}`);
      }
    })();
    await withTimeout(Promise.all([sender, receiver]), 90_000, "1 M messages");
    // And nothing more.
    await assert.rejects(pull.receive({ signal: AbortSignal.abort() }));
    guard.check();
  } finally {
    await push.close();
    await pull.close();
  }
  guard.check();
});

Deno.test("exactly-once: 200 000 messages Monocoque PUSH -> pyzmq PULL, digest equal", async () => {
  using guard = new ThrowGuard();
  const count = 200_000;
  await using pull = await Peer.start({ type: "PULL", bind: "tcp://127.0.0.1:0" });
  const push = new PushSocket({ linger: -1 });
  try {
    push.connect(pull.endpoint);
    const received = pull.recvCount(count, { timeout: 10_000 });
    const prefix = utf8("x");
    const sent = new MessageDigest();
    for (let i = 0; i < count; i++) {
      const m = sequenceMessage(i, 16, prefix);
      sent.add([m]);
      await push.send(m);
    }
    const run = await received;
    assert.deepEqual({ count: run.count, timedOut: run.timedOut }, { count, timedOut: false });
    assert.equal(run.digest, sent.hex());
    assert.equal(run.digest, MessageDigest.ofSequence(count, 16, prefix));
    guard.check();
  } finally {
    await push.close();
  }
  guard.check();
});

Deno.test("linger -1: close() delivers all 1000 queued messages to a pyzmq PULL", async () => {
  using guard = new ThrowGuard();
  await using pull = await Peer.start({ type: "PULL", bind: "tcp://127.0.0.1:0" });
  const push = new PushSocket({ linger: -1, sendHighWaterMark: 2000 });
  const log = new EventLog(push);
  push.connect(pull.endpoint);
  await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "handshake");
  const payload = new Uint8Array(4096);
  const digest = new MessageDigest();
  for (let i = 0; i < 1000; i++) {
    const m = sequenceMessage(i, payload.length);
    digest.add([m]);
    await push.send(m);
  }
  await withTimeout(push.close(), 10_000, "close with linger -1");
  await log.finished();
  const run = await pull.recvCount(1000, { timeout: 5000 });
  assert.equal(run.count, 1000);
  assert.equal(run.digest, digest.hex());
  guard.check();
});

Deno.test("linger 0: close() discards queued messages and returns promptly without error", async () => {
  using guard = new ThrowGuard();
  // A peer that never reads, and an endpoint nobody listens on: both keep messages queued.
  await using server = new SilentRouter();
  const dealer = new DealerSocket({ linger: 0, sendHighWaterMark: 5000 });
  const log = new EventLog(dealer);
  dealer.connect(server.endpoint);
  dealer.connect(`tcp://127.0.0.1:${freePort()}`);
  await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "handshake");
  const big = new Uint8Array(64 * 1024);
  for (let i = 0; i < 2000; i++) await withTimeout(dealer.send(big), 5000, `send ${i}`);
  await withTimeout(dealer.close(), 2000, "close with linger 0");
  await log.finished();
  await assert.rejects(dealer.send("late"), (e) => e instanceof ZmqError && e.code === "ETERM");
  guard.check();
});

Deno.test("linger: a bounded linger returns after at most roughly linger when the peer never reads", async () => {
  using guard = new ThrowGuard();
  await using server = new SilentRouter();
  const dealer = new DealerSocket({ linger: 200, sendHighWaterMark: 5000 });
  const log = new EventLog(dealer);
  dealer.connect(server.endpoint);
  await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "handshake");
  const big = new Uint8Array(64 * 1024);
  for (let i = 0; i < 1000; i++) await dealer.send(big);
  // Bounded (not measured): linger 200 must not wait for a peer that never reads.
  await withTimeout(dealer.close(), 5000, "close with linger 200");
  await log.finished();
  guard.check();
});
