/**
 * Interop of what happens around the messages, against real libzmq (pyzmq) peers: a Monocoque
 * socket reconnects to a libzmq peer that restarts on the same endpoint (and a SUB resends its
 * subscriptions), and ZMTP heartbeats (PING/PONG) work in both directions so an idle
 * connection with a short heartbeat timeout stays up.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DealerSocket, PushSocket, type SocketEvent, SubSocket } from "../../mod.ts";
import { MessageDigest, sequenceMessage } from "../_util/bytes.ts";
import { Peer } from "../_util/peer.ts";
import { TimeoutError } from "../_util/timeout.ts";
import { b, BOUNDED, receive, Scratch, syncMonoSubscriber, text, TRANSPORTS } from "./_matrix.ts";

const FAST_RECONNECT = { ...BOUNDED, reconnectInterval: 50, reconnectMaxInterval: 200 };

for (const transport of TRANSPORTS) {
  Deno.test(`SUB (monocoque) ↔ PUB (pyzmq, binds) over ${transport}: when the PUB restarts on the same endpoint, the SUB reconnects and resubscribes`, async () => {
    await using scratch = await Scratch.create();
    await using sub = new SubSocket(FAST_RECONNECT);
    sub.subscribe("t.");
    const first = await Peer.start({ type: "PUB", bind: scratch.endpoint(transport) });
    const endpoint = first.endpoint;
    try {
      sub.connect(endpoint);
      await syncMonoSubscriber(first, sub, ["t.marker"]);
    } finally {
      await first.close();
    }
    await using second = await Peer.start({ type: "PUB", bind: endpoint });
    await syncMonoSubscriber(second, sub, ["t.marker"]);
    await second.send(["u.not-subscribed", "x"]);
    await second.send(["t.after", "restart"]);
    for (;;) {
      const m = text(await receive(sub))!;
      if (m[0] === "t.marker") continue;
      assert.deepEqual(m, ["t.after", "restart"]);
      break;
    }
  });

  Deno.test(`PUSH (monocoque) ↔ PULL (pyzmq, binds) over ${transport}: when the PULL restarts on the same endpoint, pushing resumes in order`, async () => {
    await using scratch = await Scratch.create();
    await using push = new PushSocket(FAST_RECONNECT);
    const first = await Peer.start({ type: "PULL", bind: scratch.endpoint(transport) });
    const endpoint = first.endpoint;
    try {
      push.connect(endpoint);
      await push.send(["before"]);
      assert.deepEqual(text(await first.recv()), ["before"]);
    } finally {
      await first.close();
    }
    await using second = await Peer.start({ type: "PULL", bind: endpoint });
    // What was in flight to the dead connection may be lost: probe until the new PULL gets one.
    const deadline = Date.now() + 10_000;
    for (let n = 0;; n++) {
      if (Date.now() > deadline) throw new TimeoutError("pushing never resumed");
      await push.send([`probe-${n}`]);
      const m = await second.recv(40);
      if (m !== undefined) break;
    }
    const prefix = new Uint8Array([0x33]);
    const N = 500;
    for (let i = 0; i < N; i++) await push.send(sequenceMessage(i, 8, prefix));
    const digest = new MessageDigest();
    for (;;) {
      const m = await second.recv();
      assert.ok(m, "the sequence arrives");
      if (text(m)![0].startsWith("probe-")) continue;
      digest.add(m);
      if (digest.count === N) break;
    }
    assert.equal(digest.hex(), MessageDigest.ofSequence(N, 8, prefix));
  });
}

/** Collects a socket's events for `ms` (a bounded wait, not a sleep: it watches the whole time). */
async function eventsFor(sock: DealerSocket, ms: number): Promise<SocketEvent[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const seen: SocketEvent[] = [];
  try {
    for await (const ev of sock.events({ signal: ac.signal })) seen.push(ev);
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

Deno.test("DEALER (monocoque, binds) ↔ DEALER (pyzmq, heartbeats every 50 ms, 200 ms timeout) over tcp: Monocoque answers PINGs and the idle connection stays up", async () => {
  await using mono = new DealerSocket(BOUNDED);
  await mono.bind("tcp://127.0.0.1:0");
  await using peer = await Peer.start({
    type: "DEALER",
    connect: mono.lastEndpoint,
    options: { heartbeatIvl: 50, heartbeatTimeout: 200, monitor: true },
  });
  await peer.send(["hello"]);
  assert.deepEqual(text(await receive(mono)), ["hello"]);
  assert.ok(await peer.waitEvent("HANDSHAKE_SUCCEEDED"));
  // Idle for 1 s = 20 PINGs: libzmq drops the connection after 200 ms without an answer.
  const [monoEvents, disconnect] = await Promise.all([
    eventsFor(mono, 1000),
    peer.waitEvent("DISCONNECTED", 1000),
  ]);
  assert.equal(disconnect, undefined, "libzmq kept the connection");
  assert.deepEqual(monoEvents.filter((e) => e.type === "disconnected"), []);
  await mono.send([b("still"), b("up")]);
  assert.deepEqual(text(await peer.recv()), ["still", "up"]);
});

Deno.test("DEALER (monocoque, heartbeats every 50 ms, 200 ms timeout) ↔ DEALER (pyzmq, binds) over tcp: libzmq answers Monocoque's PINGs and the idle connection stays up", async () => {
  await using peer = await Peer.start({
    type: "DEALER",
    bind: "tcp://127.0.0.1:0",
    options: { monitor: true },
  });
  await using mono = new DealerSocket({ ...BOUNDED, heartbeatInterval: 50, heartbeatTimeout: 200 });
  mono.connect(peer.endpoint);
  await mono.send(["hello"]);
  assert.deepEqual(text(await peer.recv()), ["hello"]);
  const [monoEvents, disconnect] = await Promise.all([
    eventsFor(mono, 1000),
    peer.waitEvent("DISCONNECTED", 1000),
  ]);
  assert.deepEqual(
    monoEvents.filter((e) => e.type === "disconnected" || e.type === "connectRetried"),
    [],
    "Monocoque kept the connection",
  );
  assert.equal(disconnect, undefined, "libzmq kept the connection");
  await peer.send(["still", "up"]);
  assert.deepEqual(text(await receive(mono)), ["still", "up"]);
});
