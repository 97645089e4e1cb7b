/**
 * Interop matrix of the pipeline pattern against real libzmq peers: PUSH/PULL with Monocoque on
 * either side, either side binding, over tcp and ipc, for every message shape (pyzmq and
 * zeromq.js under Node); a Monocoque PUSH load-balancing over three libzmq PULLs with every
 * message delivered exactly once; a Monocoque PULL fair-queueing three libzmq PUSHes; and
 * 20 000-message runs in order, checked by digest, in both directions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PullSocket, PushSocket } from "../../mod.ts";
import { MessageDigest, sequenceMessage } from "../_util/bytes.ts";
import { Peer, type PeerImpl } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";
import {
  assertFrames,
  BOUNDED,
  caseName,
  eachShape,
  link,
  pairCases,
  peerType,
  receive,
  Scratch,
  type TransportName,
  TRANSPORTS,
  tryReceive,
  WAIT_MS as WAIT,
} from "./_matrix.ts";

for (
  const c of [
    ...pairCases("PUSH", "PULL"),
    ...pairCases("PUSH", "PULL", { impls: ["zeromqjs"], transports: ["tcp"] }),
  ]
) {
  Deno.test(caseName(c, "every message shape is pushed through"), async (t) => {
    await using scratch = await Scratch.create();
    const how = { ...c, scratch };
    if (c.monoIsLeft) {
      await using push = new PushSocket(BOUNDED);
      await using pull = await link(push, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await push.send(frames);
        assertFrames(await pull.recv(), frames, "message at the libzmq PULL");
      });
    } else {
      await using pull = new PullSocket(BOUNDED);
      await using push = await link(pull, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await push.send(frames);
        assertFrames(await receive(pull), frames, "message at the Monocoque PULL");
      });
    }
  });
}

/** The index a sequence message carries (after a 1-byte prefix). */
function indexOf(frames: readonly Uint8Array[]): number {
  assert.equal(frames.length, 1);
  return new DataView(frames[0].buffer, frames[0].byteOffset).getUint32(1);
}

for (const transport of TRANSPORTS) {
  for (const monoBinds of [true, false]) {
    Deno.test(
      `PUSH (monocoque${monoBinds ? ", binds" : ""}) → 3 PULLs (pyzmq${
        monoBinds ? "" : ", bind"
      }) over ${transport}: every message is delivered exactly once, shared among the PULLs`,
      async () => {
        await using scratch = await Scratch.create();
        await using push = new PushSocket(BOUNDED);
        const events = push.events();
        const pulls: Peer[] = [];
        try {
          if (monoBinds) await push.bind(scratch.endpoint(transport));
          for (let i = 0; i < 3; i++) {
            if (monoBinds) {
              pulls.push(await Peer.start({ type: "PULL", connect: push.lastEndpoint }));
            } else {
              const p = await Peer.start({ type: "PULL", bind: scratch.endpoint(transport) });
              pulls.push(p);
              push.connect(p.endpoint);
            }
          }
          // Load balancing is over connected peers: wait until all three are.
          let ready = 0;
          while (ready < 3) {
            const ev = await withTimeout(events.next(), 10_000, "three handshakes");
            assert.ok(!ev.done, "events ended early");
            if (ev.value.type === "handshakeSucceeded") ready++;
          }

          // Exactly once, per message: 300 messages, each PULL collects what it gets.
          const prefix = new Uint8Array([0x5a]);
          const N = 300;
          const collect = (p: Peer) =>
            (async () => {
              const got: number[] = [];
              for (let m = await p.recv(); m !== undefined; m = await p.recv(300)) {
                got.push(indexOf(m));
              }
              return got;
            })();
          const collecting = pulls.map(collect);
          for (let i = 0; i < N; i++) await push.send(sequenceMessage(i, 8, prefix));
          const shares = await Promise.all(collecting);
          for (const [k, share] of shares.entries()) {
            assert.deepEqual(share, [...share].sort((x, y) => x - y), `PULL ${k} in order`);
            assert.ok(share.length >= N / 6, `PULL ${k} got a fair share: ${share.length}`);
          }
          const all = shares.flat().sort((x, y) => x - y);
          assert.deepEqual(all, Array.from({ length: N }, (_, i) => i), "each message once");

          // Volume: counts summed over the three PULLs.
          const M = 6000;
          const counting = pulls.map((p) => p.recvCount(M, { timeout: 400 }));
          for (let i = 0; i < M; i++) await push.send(sequenceMessage(i, 16, prefix));
          const runs = await Promise.all(counting);
          assert.equal(runs.reduce((s, r) => s + r.count, 0), M, "every message delivered once");
          for (const r of runs) assert.ok(r.count > 0, "every PULL got some");
        } finally {
          await events.return?.();
          for (const p of pulls) await p.close();
        }
      },
    );
  }
}

Deno.test("PULL (monocoque, binds) ← 3 PUSHes (pyzmq) over tcp: fair-queues them, each one's messages in order", async () => {
  await using pull = new PullSocket(BOUNDED);
  await pull.bind("tcp://127.0.0.1:0");
  const pushes: Peer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      pushes.push(await Peer.start({ type: "PUSH", connect: pull.lastEndpoint }));
    }
    const N = 2000;
    const prefixes = [0, 1, 2].map((k) => new Uint8Array([0xa0 + k]));
    const sending = pushes.map((p, k) => p.sendMany(N, { size: 12, prefix: prefixes[k] }));
    const digests = prefixes.map(() => new MessageDigest());
    for (let n = 0; n < 3 * N; n++) {
      const m = await receive(pull);
      assert.equal(m.length, 1);
      const k = m[0][0] - 0xa0;
      assert.ok(k >= 0 && k < 3, "a known sender");
      digests[k].add(m);
    }
    const sent = await Promise.all(sending);
    for (let k = 0; k < 3; k++) {
      assert.equal(digests[k].count, N);
      assert.equal(digests[k].hex(), sent[k].digest, `PUSH ${k}'s messages, once, in order`);
    }
  } finally {
    for (const p of pushes) await p.close();
  }
});

// --- 20 000 messages in order, both directions ---------------------------------------------------

const RUN = 20_000;
const RUN_SIZE = 24;
const runs: { impl: PeerImpl; transport: TransportName; monoBinds: boolean }[] = [
  { impl: "pyzmq", transport: "tcp", monoBinds: true },
  { impl: "pyzmq", transport: "ipc", monoBinds: false },
  { impl: "zeromqjs", transport: "tcp", monoBinds: false },
];

for (const r of runs) {
  const c = { ...r, left: "PUSH" as const, right: "PULL" as const };
  Deno.test(
    caseName({ ...c, monoIsLeft: true }, `${RUN} messages arrive once and in order (digest)`),
    async () => {
      await using scratch = await Scratch.create();
      await using push = new PushSocket(BOUNDED);
      await using pull = await link(push, { impl: r.impl, type: "PULL" }, { ...r, scratch });
      const prefix = new Uint8Array([0x20]);
      const counting = pull.recvCount(RUN, { timeout: 5000 });
      for (let i = 0; i < RUN; i++) await push.send(sequenceMessage(i, RUN_SIZE, prefix));
      const got = await counting;
      assert.deepEqual({ count: got.count, timedOut: got.timedOut }, {
        count: RUN,
        timedOut: false,
      });
      assert.equal(got.digest, MessageDigest.ofSequence(RUN, RUN_SIZE, prefix));
    },
  );
  Deno.test(
    caseName({ ...c, monoIsLeft: false }, `${RUN} messages arrive once and in order (digest)`),
    async () => {
      await using scratch = await Scratch.create();
      await using pull = new PullSocket(BOUNDED);
      await using push = await link(pull, { impl: r.impl, type: "PUSH" }, { ...r, scratch });
      const prefix = new Uint8Array([0x21]);
      const sending = push.sendMany(RUN, { size: RUN_SIZE, prefix });
      const digest = new MessageDigest();
      for (let i = 0; i < RUN; i++) digest.add(await receive(pull));
      const sent = await sending;
      assert.equal(sent.count, RUN);
      assert.equal(digest.hex(), sent.digest);
      assert.equal(digest.hex(), MessageDigest.ofSequence(RUN, RUN_SIZE, prefix));
    },
  );
}

Deno.test("PUSH (pyzmq) ↔ PULL (monocoque, binds, maxMessageSize 1024) over tcp: an oversized message drops that connection only, the PUSH reconnects", async () => {
  await using pull = new PullSocket({ ...BOUNDED, maxMessageSize: 1024 });
  const events = pull.events();
  await pull.bind("tcp://127.0.0.1:0");
  await using push = await Peer.start({
    type: "PUSH",
    connect: pull.lastEndpoint,
    options: { reconnectIvl: 50 },
  });
  try {
    await push.send([new Uint8Array(1024)]);
    assert.equal((await receive(pull)).length, 1, "1024 bytes is allowed");
    await push.send([new Uint8Array(1025)]);
    for (;;) {
      const ev = await withTimeout(events.next(), WAIT, "the disconnection");
      assert.ok(!ev.done);
      if (ev.value.type === "disconnected") break;
    }
    // libzmq reconnects; what it had in flight may be lost: probe until one arrives.
    const deadline = Date.now() + 10_000;
    for (let n = 0;; n++) {
      assert.ok(Date.now() < deadline, "the PUSH never came back");
      await push.send([`probe-${n}`]);
      const m = await tryReceive(pull, 40);
      if (m === undefined) continue;
      assert.ok(m[0].length < 1025, "the oversized message never arrives");
      break;
    }
  } finally {
    await events.return?.();
  }
});
