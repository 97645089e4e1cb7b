/**
 * Duplicate and outsized routing ids against a Monocoque ROUTER over real TCP.
 * Two peers claiming one routing id must not take turns displacing each other
 * (before: the loser was closed, redialled ~100 ms later, and the two
 * alternated); as libzmq does (tests/interop/router_duplicate_id_test.ts), the
 * losing connection stays open but unused, nobody redials, only the rightful
 * peer is served. A peer that floods on such a parked connection does not grow
 * our memory, and a peer with a 64 KiB routing id is served. Events carry the
 * peer's address and a `ZmqError` with a libzmq code.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RouterSocket, ZmqError } from "../../mod.ts";
import type { SocketEvent } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";
import {
  cat,
  command,
  EventLog,
  greeting,
  message,
  metadata,
  ofType,
  RawPeer,
  ready,
  text,
  ThrowGuard,
  utf8,
} from "./_helpers.ts";
import { liveMemory } from "../_util/memory.ts";

const texts = (m: Uint8Array[] | undefined) => m?.map((f) => text(f));
const heap = liveMemory;
const MiB = 1024 * 1024;

/** libzmq monitor event names a pyzmq peer recorded (started with `monitor: true`). */
async function peerEvents(peer: Peer): Promise<string[]> {
  const ev = await peer.request({ op: "events" });
  return (ev.events as { event: string }[]).map((e) => e.event);
}

const countOf = (names: string[], name: string) => names.filter((n) => n === name).length;

/** `n` round trips between a pyzmq DEALER named "same" and the ROUTER. */
async function roundTrips(router: RouterSocket, dealer: Peer, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await dealer.send([`ping ${i}`]);
    const got = await withTimeout(router.receive(), 5000, "ROUTER receive");
    assert.deepEqual(texts(got), ["same", `ping ${i}`], "only the rightful peer is heard");
    await router.send(["same", `pong ${i}`]);
    assert.deepEqual(texts(await dealer.recv()), [`pong ${i}`]);
  }
}

for (const handover of [false, true]) {
  Deno.test(
    `ROUTER${handover ? " (handover)" : ""} ↔ 2 pyzmq DEALERs with one routing id over tcp: the ${
      handover ? "displaced" : "refused"
    } peer stays connected, connects once, gets nothing`,
    async () => {
      using guard = new ThrowGuard();
      await using router = new RouterSocket({ handover });
      await router.bind("tcp://127.0.0.1:0");
      const log = new EventLog(router);
      // A short reconnect interval: a redial loop would show at once.
      const options = { routingId: "same", monitor: true, reconnectIvl: 10 };
      await using a = await Peer.start({ type: "DEALER", connect: router.lastEndpoint, options });
      await a.send(["hello from a"]);
      assert.deepEqual(texts(await withTimeout(router.receive(), 5000, "a")), [
        "same",
        "hello from a",
      ]);
      const mark = log.mark();
      await using b = await Peer.start({ type: "DEALER", connect: router.lastEndpoint, options });
      const { event } = await log.waitFor(ofType("routingIdConflict"), mark, 5000, "conflict");
      assert.ok(event.type === "routingIdConflict");
      assert.equal(event.action, handover ? "displaced" : "refused");
      assert.equal(text(event.routingId), "same");
      const accepted = log.since(0, ofType("accepted")) as Extract<
        SocketEvent,
        { type: "accepted" }
      >[];
      assert.equal(event.remote, accepted[handover ? 0 : 1].remote, "the loser's address");
      const [served, loser] = handover ? [b, a] : [a, b];
      await loser.send(["from the loser"]);
      await roundTrips(router, served, 50);
      assert.equal(await loser.recv(50), undefined, "the loser gets no reply");
      for (const peer of [a, b]) {
        const names = await peerEvents(peer);
        assert.equal(countOf(names, "CONNECTED"), 1, `connected exactly once: ${names}`);
        assert.equal(countOf(names, "DISCONNECTED"), 0, `never dropped: ${names}`);
        assert.equal(countOf(names, "CONNECT_RETRIED"), 0, `never redialled: ${names}`);
      }
      assert.equal(log.since(0, ofType("accepted")).length, 2, "two connections in all");
      assert.equal(log.since(0, ofType("disconnected")).length, 0);
      // The parked connection is cleaned up when its peer leaves.
      const left = log.mark();
      await loser.close();
      const gone = await log.waitFor(ofType("disconnected"), left, 5000, "parked peer left");
      assert.ok(gone.event.type === "disconnected");
      assert.equal(gone.event.remote, event.remote);
      assert.equal(gone.event.error.code, "ECONNRESET");
      await roundTrips(router, served, 5);
      guard.check();
    },
  );
}

Deno.test("ROUTER: a raw peer flooding on a parked connection does not grow memory, and the rightful peer is served", async () => {
  using guard = new ThrowGuard();
  await using router = new RouterSocket();
  await router.bind("tcp://127.0.0.1:0");
  const log = new EventLog(router);
  await using a = await Peer.start({
    type: "DEALER",
    connect: router.lastEndpoint,
    options: { routingId: "same" },
  });
  await roundTrips(router, a, 1);
  await using raw = await RawPeer.connect(router.lastEndpoint!);
  await raw.write(cat(greeting(), ready("DEALER", "same")));
  await log.waitFor(ofType("routingIdConflict"), 0, 5000, "conflict");
  const before = heap();
  // 64 MiB of valid 64 KiB messages; reading all of it would take it into our heap.
  const body = new Uint8Array(64 * 1024).fill(0x66);
  const chunk = cat(...Array.from({ length: 16 }, () => message(body)));
  const FLOOD = 64 * MiB;
  let written = 0;
  const writer = (async () => {
    try {
      while (written < FLOOD) written += await raw.conn.write(chunk);
    } catch { /* closed by us at the end */ }
  })();
  await roundTrips(router, a, 50);
  // Backpressure: the writer stalls once we stop reading; no event marks that moment, so wait
  // until it stops making progress (or finishes, which the assertion below rejects).
  let last = -1, still = 0;
  await withTimeout(
    (async () => {
      while (still < 10 && written < FLOOD) {
        await new Promise((r) => setTimeout(r, 20));
        still = written === last ? still + 1 : 0;
        last = written;
      }
    })(),
    30_000,
    "the flood stalling",
  );
  const finished = written >= FLOOD;
  const grown = heap() - before;
  assert.equal(finished, false, `the flood was not read in full (${written} bytes accepted)`);
  assert.ok(written < 32 * MiB, `at most our read budget plus kernel buffers: ${written}`);
  assert.ok(grown < 16 * MiB, `memory grew ${(grown / MiB).toFixed(1)} MiB`);
  assert.equal(log.since(0, ofType("disconnected")).length, 0, "the flooder is kept, unused");
  raw.close();
  await writer;
  await router.close();
  guard.check();
});

/**
 * Connects with a Python socket, writes `bytes`, waits for the first 64 bytes
 * back (our greeting), then closes with SO_LINGER 0: the peer sends a TCP reset.
 */
async function resetAfterHandshake(endpoint: string, bytes: Uint8Array): Promise<void> {
  const [host, port] = endpoint.slice("tcp://".length).split(":");
  const script = `
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(bytes.fromhex(sys.argv[3]))
got = b""
while len(got) < 64:
    got += s.recv(64 - len(got))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
`;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const out = await withTimeout(
    new Deno.Command("/usr/bin/python3", { args: ["-c", script, host, port, hex] }).output(),
    10_000,
    "python reset peer",
  );
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** Reads one ZMTP frame from a raw peer: [flags, body]. */
async function readFrame(raw: RawPeer): Promise<[number, Uint8Array]> {
  const [flags] = await raw.readExactly(1);
  let size: number;
  if (flags & 0x02) size = Number(new DataView((await raw.readExactly(8)).buffer).getBigUint64(0));
  else [size] = await raw.readExactly(1);
  return [flags, await raw.readExactly(size)];
}

Deno.test("ROUTER serves a peer with a 64 KiB routing id: replies by the received id frame or by a copy of its bytes reach it, memory stays flat", async () => {
  using guard = new ThrowGuard();
  await using router = new RouterSocket({ mandatory: true });
  await router.bind("tcp://127.0.0.1:0");
  const log = new EventLog(router);
  await using raw = await RawPeer.connect(router.lastEndpoint!);
  const id = new Uint8Array(64 * 1024);
  for (let i = 0; i < id.length; i++) id[i] = (i * 7) & 0xff;
  const readyCmd = command(
    "READY",
    metadata([["Socket-Type", "DEALER"], ["Identity", id]]),
  );
  await raw.write(cat(greeting(), readyCmd, message("hello")));
  await raw.readExactly(64); // our greeting
  const [flags] = await readFrame(raw); // our READY
  assert.equal(flags & 0x04, 0x04);
  const [gotId, hello] = await withTimeout(router.receive(), 5000, "receive");
  assert.deepEqual(gotId, id);
  assert.equal(text(hello), "hello");
  const hs = log.since(0, ofType("handshakeSucceeded"))[0];
  assert.ok(hs.type === "handshakeSucceeded");
  assert.equal(hs.peer.routingId?.length, id.length);
  // Replies by the received id frame (the common case), then by a copy of its bytes.
  const N = 2000;
  const before = heap();
  for (let i = 0; i < N; i++) {
    await router.send([gotId, utf8(String(i))]);
    if (i % 100 === 99) {
      for (let k = i - 99; k <= i; k++) {
        assert.equal(text((await readFrame(raw))[1]), String(k));
      }
    }
  }
  const grown = heap() - before;
  // Building the id into a string per send (as before) churned ~2 MiB per send;
  // nothing per send is kept either way, so this bounds retention only.
  assert.ok(grown < 8 * MiB, `memory grew ${(grown / MiB).toFixed(1)} MiB over ${N} replies`);
  await router.send([gotId.slice(), "by bytes"]);
  assert.equal(text((await readFrame(raw))[1]), "by bytes");
  const other = gotId.slice();
  other[other.length - 1] ^= 1;
  await assert.rejects(
    router.send([other, "nobody"]),
    (e) => (e as ZmqError).code === "EHOSTUNREACH",
  );
  guard.check();
});

Deno.test("disconnected and handshakeFailed carry the peer's address and a ZmqError with a code and cause", async () => {
  using guard = new ThrowGuard();
  await using router = new RouterSocket({ maxMessageSize: 1024 });
  await router.bind("tcp://127.0.0.1:0");
  const log = new EventLog(router);

  // A handshake that breaks the protocol: EPROTO.
  await using bad = await RawPeer.connect(router.lastEndpoint!);
  await bad.write(cat(greeting(), command("READY", metadata([["Socket-Type", "SUB"]]))));
  const failed = await log.waitFor(ofType("handshakeFailed"), 0, 5000, "handshakeFailed");
  assert.ok(failed.event.type === "handshakeFailed");
  const badAccept = log.since(0, ofType("accepted"))[0];
  assert.ok(badAccept.type === "accepted");
  assert.equal(failed.event.remote, badAccept.remote);
  assert.ok(failed.event.error instanceof ZmqError);
  assert.equal(failed.event.error.code, "EPROTO");
  const badGone = await log.waitFor(ofType("disconnected"), 0, 5000, "bad peer dropped");
  assert.ok(badGone.event.type === "disconnected");
  assert.equal(badGone.event.remote, badAccept.remote);
  assert.equal(badGone.event.error.code, "EPROTO");

  // A message over maxMessageSize after the handshake: EMSGSIZE.
  let mark = log.mark();
  await using big = await RawPeer.connect(router.lastEndpoint!);
  await big.write(cat(greeting(), ready("DEALER", "big"), message(new Uint8Array(4096))));
  const tooBig = await log.waitFor(ofType("disconnected"), mark, 5000, "oversized dropped");
  assert.ok(tooBig.event.type === "disconnected");
  assert.equal(tooBig.event.error.code, "EMSGSIZE");
  assert.equal(
    tooBig.event.remote,
    (log.since(mark, ofType("accepted"))[0] as { remote: string }).remote,
  );

  // A peer that resets the connection (SO_LINGER 0, which Deno cannot set):
  // ECONNRESET, with the transport's error as the cause.
  mark = log.mark();
  await resetAfterHandshake(router.lastEndpoint!, cat(greeting(), ready("DEALER", "reset")));
  const reset = await log.waitFor(ofType("disconnected"), mark, 5000, "reset peer left");
  assert.ok(reset.event.type === "disconnected");
  assert.equal(reset.event.error.code, "ECONNRESET");
  assert.ok(reset.event.error.cause instanceof Error, `a cause: ${reset.event.error.stack}`);

  // A peer that closes cleanly: ECONNRESET, nothing underneath.
  mark = log.mark();
  const leaver = await RawPeer.connect(router.lastEndpoint!);
  await leaver.write(cat(greeting(), ready("DEALER", "leaver")));
  await leaver.readExactly(64);
  await readFrame(leaver);
  leaver.close();
  const left = await log.waitFor(ofType("disconnected"), mark, 5000, "leaver left");
  assert.ok(left.event.type === "disconnected");
  assert.equal(left.event.error.code, "ECONNRESET");

  // Our own close: ETERM.
  mark = log.mark();
  await using stay = await RawPeer.connect(router.lastEndpoint!);
  await stay.write(cat(greeting(), ready("DEALER", "stay")));
  await log.waitFor(ofType("handshakeSucceeded"), mark, 5000, "stay handshake");
  await router.close();
  await log.finished();
  const closed = log.since(mark, ofType("disconnected"));
  assert.equal(closed.length, 1);
  assert.ok(closed[0].type === "disconnected");
  assert.equal(closed[0].error.code, "ETERM");
  guard.check();
});

Deno.test("handshake and heartbeat timeouts are reported as ETIMEDOUT with the peer's address", async () => {
  using guard = new ThrowGuard();
  await using router = new RouterSocket({
    handshakeInterval: 100,
    heartbeatInterval: 50,
    heartbeatTimeout: 100,
  });
  await router.bind("tcp://127.0.0.1:0");
  const log = new EventLog(router);
  await using mute = await RawPeer.connect(router.lastEndpoint!);
  await mute.write(greeting()); // and never a READY
  const failed = await log.waitFor(ofType("handshakeFailed"), 0, 5000, "handshake timeout");
  assert.ok(failed.event.type === "handshakeFailed");
  assert.equal(failed.event.error.code, "ETIMEDOUT");
  assert.equal(
    failed.event.remote,
    (log.since(0, ofType("accepted"))[0] as { remote: string }).remote,
  );
  const mark = log.mark();
  await using silent = await RawPeer.connect(router.lastEndpoint!);
  await silent.write(cat(greeting(), ready("DEALER", "silent"))); // then never a PONG
  await log.waitFor(ofType("handshakeSucceeded"), mark, 5000, "silent handshake");
  const gone = await log.waitFor(ofType("disconnected"), mark, 5000, "heartbeat timeout");
  assert.ok(gone.event.type === "disconnected");
  assert.equal(gone.event.error.code, "ETIMEDOUT");
  assert.equal(
    gone.event.remote,
    (log.since(mark, ofType("accepted"))[0] as { remote: string }).remote,
  );
  guard.check();
});
