/**
 * Subscription attacks over real TCP, with valid ZMTP: huge topics, a
 * subscriber with hundreds of thousands of topics that leaves, and an XSUB
 * holding a 1 MiB topic that must resubscribe after its publisher restarts.
 * Each asserts that nothing is thrown into user code, that memory stays
 * within 64 bytes of heap per subscribed topic byte, that the event loop is
 * not blocked by the cleanup (an ordering, never a duration), and that
 * well-behaved peers keep being served.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PubSocket, SubSocket, XPubSocket, XSubSocket } from "../../mod.ts";
import type { Socket } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";
import { liveMemory } from "../_util/memory.ts";
import {
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

/** Heap and external memory in use, after collecting garbage. */
const memory = liveMemory;

const KIB = 1024;
const MIB = 1024 * KIB;

/** A topic of `n` bytes. */
function topic(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => 97 + ((i * 7 + seed) % 26));
}

/** Handshake bytes of a raw SUB. */
const SUB_HELLO = cat(greeting(), ready("SUB"));

/** Publishes `probe` until the pyzmq SUB receives it (subscriptions travel asynchronously). */
async function served(pub: PubSocket | XPubSocket, peer: Peer, probe: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    await pub.send([probe]);
    for (;;) {
      const got = await peer.recv(100);
      if (got === undefined) break;
      if (text(got[0]) === probe) return;
    }
  }
  assert.fail(`the pyzmq SUB was not served ${probe}`);
}

/** Receives from an XPUB until `want` returns true for a message; bounded. */
async function receiveUntil(
  xpub: XPubSocket,
  want: (m: Uint8Array[]) => boolean,
  what: string,
): Promise<Uint8Array[]> {
  return await withTimeout(
    (async () => {
      for (;;) {
        const m = await xpub.receive();
        if (want(m)) return m;
      }
    })(),
    10_000,
    what,
  );
}

async function closeAll(sockets: Socket[], logs: EventLog[]): Promise<void> {
  for (const s of sockets) await s.close();
  for (const l of logs) await l.finished();
}

for (const kind of ["XPUB", "PUB"] as const) {
  Deno.test(`attack: 32 KiB and 1 MiB SUBSCRIBEs then a disconnect leave a ${kind} serving, memory bounded`, async () => {
    using guard = new ThrowGuard();
    const socket = kind === "XPUB" ? new XPubSocket({ linger: 0 }) : new PubSocket({ linger: 0 });
    const log = new EventLog(socket);
    let peer: Peer | undefined;
    try {
      await socket.bind("tcp://127.0.0.1:0");
      const endpoint = socket.lastEndpoint!;
      peer = await Peer.start({ type: "SUB", connect: endpoint, options: { subscribe: "" } });
      if (socket instanceof XPubSocket) {
        await receiveUntil(socket, (m) => m[0].length === 1 && m[0][0] === 1, "pyzmq subscription");
      }
      await served(socket, peer, "before");

      const small = topic(32 * KIB, 1);
      const big = topic(MIB, 2);
      const before = memory();
      const raw = await RawPeer.connect(endpoint);
      try {
        assert.ok(await raw.write(SUB_HELLO));
        assert.ok(await raw.write(command("SUBSCRIBE", small)));
        assert.ok(await raw.write(command("SUBSCRIBE", big)));
        assert.ok(await raw.write(command("SUBSCRIBE", utf8("sync"))));
        // The publisher has taken both topics once it serves the last one.
        if (socket instanceof XPubSocket) {
          await receiveUntil(socket, (m) => text(m[0].subarray(1)) === "sync", "the sync topic");
        }
        // Publish "sync" until the raw peer reads it: subscriptions travel asynchronously.
        const buf = new Uint8Array(64 * KIB);
        let seen = false;
        const reading = (async () => {
          let tail = "";
          while (!seen) {
            const n = await raw.conn.read(buf);
            if (n === null) assert.fail("the publisher closed the raw peer");
            tail = (tail + new TextDecoder("latin1").decode(buf.subarray(0, n))).slice(-64);
            seen = tail.includes("sync");
          }
        })();
        await withTimeout(
          (async () => {
            while (!seen) {
              await socket.send(["sync"]);
              await Promise.race([reading, new Promise((r) => setTimeout(r, 10))]);
            }
            await reading;
          })(),
          10_000,
          "the raw peer served",
        );
        const cost = memory() - before;
        const bytes = small.length + big.length;
        assert.ok(
          cost <= 64 * bytes,
          `${cost} B for ${bytes} topic bytes: ${(cost / bytes).toFixed(1)} B per byte`,
        );
      } finally {
        const mark = log.mark();
        raw.close();
        await log.waitFor(ofType("disconnected"), mark, 5000, "the raw peer's disconnect");
      }
      if (socket instanceof XPubSocket) {
        // Both long topics are unsubscribed upstream, the good peer's "" is not.
        const gone = new Set<number>();
        await receiveUntil(socket, (m) => {
          if (m[0][0] === 0 && m[0].length > 1) gone.add(m[0].length - 1);
          return gone.has(small.length) && gone.has(big.length);
        }, "the long topics' unsubscriptions");
      }
      await served(socket, peer, "after");
      guard.check();
    } finally {
      await peer?.close();
      await closeAll([socket], [log]);
    }
    guard.check();
  });
}

/** SUBSCRIBE commands for `n` short topics, `t/<i>/`, in one buffer. */
function subscribeMany(n: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) parts.push(command("SUBSCRIBE", utf8(`t/${i}/`)));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("attack: an XPUB cleans up 200 000 topics of a leaving peer in slices, serving others meanwhile", async () => {
  // 200 000: a million works too, but spends ~10 s of this 2-core machine on
  // the application draining 2 million subscription messages.
  const N = 200_000;
  using guard = new ThrowGuard();
  const xpub = new XPubSocket({ linger: 0, receiveHighWaterMark: 0 });
  const log = new EventLog(xpub);
  const sub = new SubSocket({ linger: 0, receiveTimeout: 10_000 });
  const subLog = new EventLog(sub);
  try {
    await xpub.bind("tcp://127.0.0.1:0");
    const endpoint = xpub.lastEndpoint!;
    sub.subscribe("probe");
    sub.connect(endpoint);
    await receiveUntil(xpub, (m) => text(m[0].subarray(1)) === "probe", "the SUB's subscription");

    const raw = await RawPeer.connect(endpoint);
    let subscribed = 0;
    try {
      assert.ok(await raw.write(SUB_HELLO));
      const writing = raw.write(subscribeMany(N));
      await withTimeout(
        (async () => {
          while (subscribed < N) {
            const [m] = await xpub.receive();
            if (m[0] === 1 && m[1] === 0x74) subscribed++;
          }
        })(),
        15_000,
        "the raw peer's subscriptions",
      );
      assert.ok(await writing);
    } finally {
      raw.close();
    }

    // Count the unsubscriptions; when the first arrives, set a timer and
    // publish a probe. If the cleanup blocked the loop, the timer could only
    // fire, and the probe only arrive, after the last unsubscription was queued.
    let unsubscribed = 0;
    let atTimer = -1;
    let atProbe = -1;
    const probe = (async () => {
      const [m] = await sub.receive();
      atProbe = unsubscribed;
      return text(m);
    })();
    await withTimeout(
      (async () => {
        while (unsubscribed < N) {
          const [m] = await xpub.receive();
          if (m[0] !== 0) continue;
          if (unsubscribed++ === 0) {
            setTimeout(() => (atTimer = unsubscribed), 0);
            await xpub.send(["probe"]);
          }
        }
      })(),
      15_000,
      "the unsubscriptions",
    );
    assert.equal(await withTimeout(probe, 5000, "the probe"), "probe");
    assert.ok(atTimer > 0 && atTimer < N, `the timer fired after ${atTimer} of ${N}`);
    assert.ok(atProbe > 0 && atProbe < N, `the probe arrived after ${atProbe} of ${N}`);
    guard.check();
  } finally {
    await closeAll([sub, xpub], [subLog, log]);
  }
  guard.check();
});

Deno.test("attack: an XSUB holding a 1 MiB topic resubscribes it to a restarted publisher", async () => {
  using guard = new ThrowGuard();
  const big = topic(MIB, 3);
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const endpoint = `tcp://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
  l.close();
  let xpub = new XPubSocket({ linger: 0 });
  const xsub = new XSubSocket({ linger: 0, receiveTimeout: 10_000, reconnectInterval: 50 });
  const log = new EventLog(xsub);
  const isBig = (m: Uint8Array[]) => m[0][0] === 1 && m[0].length === big.length + 1;
  try {
    await xpub.bind(endpoint);
    xsub.connect(endpoint);
    await xsub.send(cat([1], big));
    await xsub.send(cat([1], utf8("small")));
    const first = await receiveUntil(xpub, isBig, "the first subscription");
    assert.deepEqual(first[0].subarray(1), big);

    const mark = log.mark();
    await xpub.close();
    await log.waitFor(ofType("disconnected"), mark, 5000, "disconnected");
    xpub = new XPubSocket({ linger: 0 });
    await xpub.bind(endpoint);
    await log.waitFor(ofType("handshakeSucceeded"), mark, 10_000, "reconnected");
    const again = await receiveUntil(xpub, isBig, "the resent subscription");
    assert.deepEqual(again[0].subarray(1), big);
    // And the topic filters: a message on it gets through, another does not.
    await withTimeout(
      (async () => {
        await xpub.send(["other"]);
        await xpub.send([cat(big, utf8("!")), "payload"]);
        const [t, body] = await xsub.receive();
        assert.equal(t.length, big.length + 1);
        assert.equal(text(body), "payload");
      })(),
      10_000,
      "a message on the long topic",
    );
    guard.check();
  } finally {
    await closeAll([xsub, xpub], [log]);
  }
  guard.check();
});
