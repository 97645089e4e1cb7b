/**
 * Resource exhaustion on the send side, over real TCP: subscribers that stop
 * reading (what each pins in the publisher), a send loop that never waits
 * (whether accepts, handshakes, reads, writes and timers still run), and a
 * ROUTER burst past the high-water mark to a peer that keeps up (whether it is
 * cut at the mark). A well-behaved pyzmq peer must keep being served, and
 * nothing may be thrown into user code.
 *
 * Memory is read from `Deno.memoryUsage()` (heap + external) after a full
 * collection, made available through `node:v8` without command-line flags.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PubSocket, RouterSocket, type SocketEventType } from "../../mod.ts";
import { coreOf } from "../../src/socket/_core.ts";
import { gatherPoolBytes } from "../../src/transport/_stream.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";
import { gc, liveMemory } from "../_util/memory.ts";
import {
  cat,
  command,
  EventLog,
  greeting,
  ofType,
  RawPeer,
  ready,
  ThrowGuard,
  utf8,
  WAIT,
} from "./_helpers.ts";

/**
 * Heap and external memory after a full collection, in bytes, less the
 * process-wide pool of gather buffers (at most 1 MiB whatever the number of
 * connections; they fill it as writes to stalled peers pin its buffers).
 */
function memory(): number {
  gc(); // twice: the first may only finalise what the second frees
  return liveMemory() - gatherPoolBytes();
}

/** Waits for `count` events of `type` from position `from` on. */
async function waitForCount(
  log: EventLog,
  type: SocketEventType,
  from: number,
  count: number,
): Promise<void> {
  let next = from;
  for (let n = 0; n < count; n++) {
    const { index } = await log.waitFor(ofType(type), next, WAIT, `${type} ${n + 1} of ${count}`);
    next = index + 1;
  }
}

/** Bytes as KiB with one decimal. */
function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

/** Lets I/O run for one macrotask. */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Stalled subscribers in test (a): a few hundred keep CI fast; the bound is per subscriber. */
const STALLED = 200;
/**
 * Bound on what a stalled subscriber costs the publisher in all: 2× libzmq's
 * per-connection memory (24–28 KiB of RSS per connection, bench/README.md
 * and the same attack on pyzmq: 24 KiB idle, 116 KiB once stalled, because
 * libzmq's pipe holds the high-water mark's 1000 messages as 64-octet
 * msg_t). It includes the idle connection (pipe, session, read buffer) and
 * the raw peers' own connection objects, which live in this process too.
 */
const PER_SUBSCRIBER = 48 * 1024;
/**
 * Bound on what stalling adds to an idle subscriber, beyond the shared
 * message frames: the queue of up to the high-water mark's references (8 octets
 * each, ~8–12 KiB for 1000) plus the encoded bytes of its one write in flight
 * (at most one flush: here up to 1000 messages of 18 octets). Typically ~17–21
 * KiB; before write buffers followed demand it was ~335 KiB.
 */
const STALL_ADDS = 32 * 1024;
const HWM = 1000;

Deno.test({
  name:
    "PubSocket with hundreds of subscribers that stop reading pins little per subscriber, never blocks, and keeps serving a reading SUB",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    using guard = new ThrowGuard();
    const pub = new PubSocket({ sendHighWaterMark: HWM, linger: 0 });
    const log = new EventLog(pub);
    await pub.bind("tcp://127.0.0.1:0");
    const endpoint = pub.lastEndpoint!;
    await using good = await Peer.start({
      type: "SUB",
      connect: endpoint,
      options: { subscribe: [""] },
    });
    await log.waitFor(ofType("handshakeSucceeded"), 0, WAIT, "the pyzmq SUB's handshake");
    // One message per publish: the frames are shared by every subscriber, so
    // what the publisher pins per subscriber is its own (queue, encoding, write).
    const payload = utf8("0123456789abcdef");
    const core = coreOf(pub);
    // Warm up the publishing path so that code and caches are not counted.
    for (let i = 0; i < 5000; i++) await pub.send(payload);
    const before = memory();

    const raws: RawPeer[] = [];
    try {
      const hello = cat(greeting(), ready("SUB"), command("SUBSCRIBE"));
      const mark = log.mark();
      for (let i = 0; i < STALLED; i++) {
        const raw = await RawPeer.connect(endpoint);
        raws.push(raw);
        assert.ok(await raw.write(hello));
      }
      await waitForCount(log, "handshakeSucceeded", mark, STALLED);
      const idle = memory();
      // Publish until every raw subscriber's queue is full: their kernel
      // buffers are full and a write to each is stuck. Every send resolves
      // (publishing never blocks); the bound only keeps a regression finite.
      const full = () => {
        let n = 0;
        for (const p of core.pipes) if (p.ready && !p.hasRoom()) n++;
        return n;
      };
      let sent = 0;
      await withTimeout(
        (async () => {
          while (full() < STALLED) {
            for (let i = 0; i < 1000; i++) await pub.send(payload);
            sent += 1000;
            assert.ok(sent < 20_000_000, `only ${full()} of ${STALLED} subscribers filled up`);
          }
        })(),
        120_000,
        "publishing until the subscribers stall",
      );
      // The reading SUB is still served while they stall.
      const served = good.recvCount(200, { timeout: 5000 });
      let settled = false;
      served.finally(() => (settled = true));
      await withTimeout(
        (async () => {
          while (!settled) await pub.send(payload);
        })(),
        30_000,
        "publishing while the reading SUB is served",
      );
      assert.equal((await served).count, 200);

      const stalled = memory();
      const perSubscriber = (stalled - before) / STALLED;
      const stallAdds = (stalled - idle) / STALLED;
      console.log(
        `${STALLED} stalled subscribers: ${kib(perSubscriber)} KiB each in all, of which ` +
          `${kib((idle - before) / STALLED)} KiB idle connection and ${kib(stallAdds)} KiB ` +
          `stalled queue and write (plus ${kib(gatherPoolBytes())} KiB of pooled gathers ` +
          `for the process); ${sent} messages published`,
      );
      assert.ok(
        perSubscriber <= PER_SUBSCRIBER,
        `${kib(perSubscriber)} KiB per stalled subscriber`,
      );
      assert.ok(stallAdds <= STALL_ADDS, `stalling adds ${kib(stallAdds)} KiB per subscriber`);

      // When they leave, the memory comes back: a residue of ~2–3 KiB per
      // peer (table slack) may stay, plus a fixed amount that does not grow
      // with the peers (code compiled for the disconnect and event paths).
      const leaving = log.mark();
      for (const raw of raws) raw.close();
      await waitForCount(log, "disconnected", leaving, STALLED);
      await turn();
      // The test's own record of ~3 events per peer is not the socket's memory.
      log.events.length = 0;
      raws.length = 0; // closed above; their objects are the test's, not the socket's
      const after = memory();
      console.log(`after they left: ${kib(after - before)} KiB above the start`);
      assert.ok(
        after - before <= 512 * 1024 + STALLED * 4 * 1024,
        `${((after - before) / 1024).toFixed(0)} KiB still held after the subscribers left`,
      );
    } finally {
      for (const raw of raws) raw.close();
      await good.close();
      await pub.close();
      await log.finished();
    }
    guard.check();
  },
});

Deno.test({
  name:
    "PubSocket send loop that drops nothing still lets a SUB connect and be served, and timers fire",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    using guard = new ThrowGuard();
    const pub = new PubSocket({ linger: 0 });
    await pub.bind("tcp://127.0.0.1:0");
    // Bound to a port nobody uses: the peer program wants an endpoint to start with.
    await using sub = await Peer.start({
      type: "SUB",
      bind: "tcp://127.0.0.1:0",
      options: { subscribe: [""] },
    });
    let timerFired = false;
    let timerFiredDuringLoop = false;
    const timer = setTimeout(() => (timerFired = true), 1);
    let stop = false;
    let sentBeforeStop = 0;
    const payload = utf8("tick");
    // The loop ends only when told to (or, in a regression that starves I/O,
    // at a bound large enough to be unmistakable).
    const loop = (async () => {
      while (!stop && sentBeforeStop < 20_000_000) {
        await pub.send(payload);
        sentBeforeStop++;
        if (timerFired) timerFiredDuringLoop = true;
      }
      return stop;
    })();
    try {
      // Connect the SUB only once the loop runs: its handshake must happen
      // while the loop is still going.
      await withTimeout(sub.request({ op: "connect", endpoint: pub.lastEndpoint! }), 60_000);
      const got = await withTimeout(sub.recv(60_000), 61_000, "the SUB's first message");
      assert.ok(got !== undefined, "the SUB received nothing");
      assert.equal(new TextDecoder().decode(got[0]), "tick");
    } finally {
      stop = true;
      const stoppedByUs = await withTimeout(loop, 60_000, "the send loop");
      clearTimeout(timer);
      assert.ok(stoppedByUs, "the send loop ran to its bound: nothing else could run meanwhile");
      await sub.close();
      await pub.close();
    }
    assert.ok(timerFiredDuringLoop, "a timer set before the loop did not fire while it ran");
    guard.check();
  },
});

Deno.test({
  name: "RouterSocket burst past the high-water mark to a reading DEALER delivers all of it",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    using guard = new ThrowGuard();
    const router = new RouterSocket({ sendHighWaterMark: HWM, linger: 1000 });
    const log = new EventLog(router);
    await router.bind("tcp://127.0.0.1:0");
    await using dealer = await Peer.start({
      type: "DEALER",
      connect: router.lastEndpoint!,
      options: { routingId: "reader" },
    });
    try {
      await log.waitFor(ofType("handshakeSucceeded"), 0, WAIT, "the DEALER's handshake");
      const BURST = 2 * HWM;
      const receiving = dealer.recvCount(BURST, { timeout: 3000 });
      const id = utf8("reader");
      for (let i = 0; i < BURST; i++) await router.send([id, utf8(`m${i}`)]);
      const run = await receiving;
      assert.equal(run.count, BURST, `${run.count} of ${BURST} delivered`);
    } finally {
      await dealer.close();
      await router.close();
      await log.finished();
    }
    guard.check();
  },
});
