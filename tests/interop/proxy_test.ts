/**
 * `proxy()` with real libzmq peers (pyzmq, libzmq 4.3.4) on both sides: the Guide's queue
 * (libzmq REQ clients, REP workers), forwarder (a libzmq PUB upstream, SUBs downstream) and
 * streamer (libzmq PUSH in, PULL out, with a capture socket that sees every message), steered
 * from a libzmq REQ and a libzmq PAIR control socket; and a libzmq PULL that stops reading
 * while a libzmq PUSH floods the frontend: the proxy holds the frontend back and this process's
 * heap and external memory stay bounded, then everything is delivered once the PULL reads.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DealerSocket,
  PairSocket,
  proxy,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  type Socket,
  XPubSocket,
  XSubSocket,
} from "../../mod.ts";
import { MessageDigest } from "../_util/bytes.ts";
import { liveMemory } from "../_util/memory.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";

const WAIT = 10_000;
const TCP = "tcp://127.0.0.1:0";
const decoder = new TextDecoder();

/** The proxy's promise, kept from being an unhandled rejection when a test fails first. */
function started(running: Promise<void>): Promise<void> {
  running.catch(() => {});
  return running;
}

/** The eight STATISTICS frames as numbers (libzmq writes host-order uint64: little-endian here). */
function statistics(reply: Uint8Array[] | undefined): number[] {
  assert.ok(reply !== undefined, "a STATISTICS reply");
  assert.equal(reply.length, 8);
  return reply.map((f) => Number(new DataView(f.buffer, f.byteOffset, 8).getBigUint64(0, true)));
}

/** Resolves once `socket` completed `count` handshakes (started before the peers connect). */
async function handshakes(socket: Socket, count: number): Promise<void> {
  const it = socket.events();
  try {
    await withTimeout(
      (async () => {
        let n = 0;
        for await (const ev of it) if (ev.type === "handshakeSucceeded" && ++n === count) return;
      })(),
      WAIT,
      `${count} handshakes`,
    );
  } finally {
    await it.return?.();
  }
}

Deno.test("proxy() queues between libzmq REQ clients and libzmq REP workers, steered from a libzmq REQ", async () => {
  await using frontend = new RouterSocket();
  await using backend = new DealerSocket();
  await using control = new RepSocket();
  await frontend.bind(TCP);
  await backend.bind(TCP);
  await control.bind(TCP);
  const running = started(proxy(frontend, backend, { control }));
  const workersReady = handshakes(backend, 2);
  await using w1 = await Peer.start({ type: "REP", connect: backend.lastEndpoint });
  await using w2 = await Peer.start({ type: "REP", connect: backend.lastEndpoint });
  await workersReady;
  await using c1 = await Peer.start({ type: "REQ", connect: frontend.lastEndpoint });
  await using c2 = await Peer.start({ type: "REQ", connect: frontend.lastEndpoint });
  await using c3 = await Peer.start({ type: "REQ", connect: frontend.lastEndpoint });
  await using steer = await Peer.start({ type: "REQ", connect: control.lastEndpoint });
  // The DEALER deals the 6 requests round-robin: 3 to each worker.
  const echoed = Promise.all([w1.echo(3, WAIT), w2.echo(3, WAIT)]);
  await Promise.all([c1, c2, c3].map(async (c, i) => {
    for (let round = 0; round < 2; round++) {
      await c.send([`client-${i}`, `round-${round}`]);
      const reply = await c.recv(WAIT);
      assert.deepEqual(reply?.map((f) => decoder.decode(f)), [`client-${i}`, `round-${round}`]);
    }
  }));
  assert.deepEqual(await echoed, [3, 3]);

  await steer.send(["STATISTICS"]);
  // Each request is [routing id (5 bytes), "", "client-i" (8), "round-r" (7)] at the ROUTER, and
  // the same four frames come back from the DEALER: every frame passed to send() counts.
  assert.deepEqual(statistics(await steer.recv(WAIT)), [24, 120, 24, 120, 24, 120, 24, 120]);

  for (const name of ["PAUSE", "RESUME", "SOMETHING ELSE"]) {
    await steer.send([name]);
    assert.deepEqual((await steer.recv(WAIT))?.map((f) => f.byteLength), [0], `reply to ${name}`);
  }
  const again = Promise.all([w1.echo(1, WAIT), w2.echo(1, WAIT)]);
  await Promise.all([c1, c2].map(async (c) => {
    await c.send(["after", "resume"]);
    assert.deepEqual((await c.recv(WAIT))?.map((f) => decoder.decode(f)), ["after", "resume"]);
  }));
  assert.deepEqual(await again, [1, 1]);
  await steer.send(["TERMINATE"]);
  assert.deepEqual((await steer.recv(WAIT))?.map((f) => f.byteLength), [0]);
  await withTimeout(running, WAIT, "proxy end");
});

Deno.test("proxy() forwards a libzmq PUB through XSUB/XPUB to libzmq SUBs, by their subscriptions", async () => {
  await using frontend = new XSubSocket();
  await using backend = new XPubSocket();
  await frontend.bind(TCP);
  await backend.bind(TCP);
  const stop = new AbortController();
  const running = started(proxy(frontend, backend, { signal: stop.signal }));
  await using pub = await Peer.start({ type: "PUB", connect: frontend.lastEndpoint });
  await using weather = await Peer.start({
    type: "SUB",
    connect: backend.lastEndpoint,
    options: { subscribe: "weather." },
  });
  await using sports = await Peer.start({
    type: "SUB",
    connect: backend.lastEndpoint,
    options: { subscribe: "sports." },
  });
  // Subscriptions travel SUB → XPUB → proxy → XSUB → PUB with no event to wait for: publish
  // probes until each SUB gets one, then drain the probes still on their way.
  for (const [sub, topic] of [[weather, "weather."], [sports, "sports."]] as const) {
    let got = false;
    for (let i = 0; i < 100 && !got; i++) {
      await pub.send([`${topic}probe`]);
      got = await sub.recv(50) !== undefined;
    }
    assert.ok(got, `the ${topic} subscription reached the libzmq PUB through the proxy`);
  }
  for (const sub of [weather, sports]) while (await sub.recv(200) !== undefined) { /* probe */ }
  const prefix = new TextEncoder();
  const n = 500;
  const [sentWeather, gotWeather, gotSports] = await Promise.all([
    pub.sendMany(n, { prefix: prefix.encode("weather."), size: 64 }),
    weather.recvCount(n, { timeout: WAIT }),
    sports.recvCount(1, { timeout: 500 }),
  ]);
  assert.equal(gotWeather.count, n);
  assert.equal(gotWeather.digest, sentWeather.digest, "every weather message, in order");
  assert.equal(gotSports.count, 0, "the sports SUB got no weather");
  const [sentSports, gotSports2] = await Promise.all([
    pub.sendMany(n, { prefix: prefix.encode("sports."), size: 64 }),
    sports.recvCount(n, { timeout: WAIT }),
  ]);
  assert.equal(gotSports2.digest, sentSports.digest);
  stop.abort();
  await withTimeout(running, WAIT, "proxy end");
});

Deno.test("proxy() streams from a libzmq PUSH to a libzmq PULL, capture sees every message, a libzmq PAIR steers", async () => {
  await using frontend = new PullSocket();
  await using backend = new PushSocket();
  await using capture = new PushSocket();
  await using captured = new PullSocket();
  await using control = new PairSocket();
  await frontend.bind(TCP);
  await backend.bind(TCP);
  await control.bind(TCP);
  await capture.bind("inproc://proxy-interop-capture");
  captured.connect("inproc://proxy-interop-capture");
  const running = started(proxy(frontend, backend, { capture, control }));
  await using producer = await Peer.start({ type: "PUSH", connect: frontend.lastEndpoint });
  await using worker = await Peer.start({ type: "PULL", connect: backend.lastEndpoint });
  await using steer = await Peer.start({ type: "PAIR", connect: control.lastEndpoint });
  const n = 2000, size = 100;
  const digest = new MessageDigest();
  const capturing = (async () => {
    for (let i = 0; i < n; i++) digest.add(await captured.receive());
  })();
  const [sent, got] = await Promise.all([
    producer.sendMany(n, { size }),
    worker.recvCount(n, { timeout: WAIT }),
  ]);
  assert.equal(got.count, n);
  assert.equal(got.digest, sent.digest, "every task reached the worker, in order");
  await withTimeout(capturing, WAIT, "capture");
  assert.equal(digest.hex(), sent.digest, "the capture socket saw every message, in order");

  await steer.send(["PAUSE"]);
  await steer.send(["STATISTICS"]); // a PAIR gets no reply to PAUSE: the first reply is this one
  assert.deepEqual(statistics(await steer.recv(WAIT)), [n, n * size, 0, 0, 0, 0, n, n * size]);
  const paused = producer.send(["held"]);
  await paused;
  assert.equal(await worker.recv(200), undefined, "nothing is forwarded while paused");
  await steer.send(["RESUME"]);
  assert.deepEqual((await worker.recv(WAIT))?.map((f) => decoder.decode(f)), ["held"]);
  await steer.send(["TERMINATE"]);
  await withTimeout(running, WAIT, "proxy end");
});

Deno.test("proxy() holds a flooding libzmq PUSH back while the libzmq PULL behind it stops reading, in bounded memory", async () => {
  // 64 KiB frames are views of the read buffer: a stall with views queued must not corrupt them.
  const hwm = 10, size = 65_536, total = 4000; // 262 MB offered
  await using frontend = new PullSocket({ receiveHighWaterMark: hwm });
  await using backend = new PushSocket({ sendHighWaterMark: hwm });
  await using control = new RepSocket();
  await using steer = new ReqSocket();
  await frontend.bind(TCP);
  await backend.bind(TCP);
  await control.bind("inproc://proxy-interop-flood-control");
  steer.connect("inproc://proxy-interop-flood-control");
  const running = started(proxy(frontend, backend, { control }));
  const ask = async () => {
    await steer.send("STATISTICS");
    return statistics(await withTimeout(steer.receive(), WAIT, "statistics"));
  };
  await using sink = await Peer.start({
    type: "PULL",
    connect: backend.lastEndpoint,
    options: { rcvhwm: hwm },
  });
  await using flood = await Peer.start({
    type: "PUSH",
    connect: frontend.lastEndpoint,
    options: { sndhwm: hwm },
  });
  const memory = liveMemory;
  const before = memory();
  let peak = before;
  // The sink reads nothing until told to; each send may wait that long.
  const flooding = flood.sendMany(total, { size, timeout: 60_000 });
  flooding.catch(() => {});
  // Wait until the pipeline stalls: the proxy's frontend count stops moving.
  let last = -1, still = 0;
  await withTimeout(
    (async () => {
      while (still < 5) {
        await new Promise((r) => setTimeout(r, 50));
        peak = Math.max(peak, memory());
        const [frontendIn] = await ask();
        still = frontendIn === last ? still + 1 : 0;
        last = frontendIn;
      }
    })(),
    30_000,
    "the pipeline to stall",
  );
  const stalledAt = last;
  const growth = (peak - before) / 2 ** 20;
  assert.ok(stalledAt < total, `the proxy stopped taking messages (at ${stalledAt} of ${total})`);
  assert.ok(growth < 64, `heap + external grew ${growth.toFixed(1)} MiB for 240 MB offered`);

  // Once the sink reads, everything flows through, exactly once and in order.
  const [sent, got] = await Promise.all([flooding, sink.recvCount(total, { timeout: WAIT })]);
  assert.equal(got.count, total);
  assert.equal(got.digest, sent.digest);
  const [frontendIn, , , , , , backendOut] = await ask();
  assert.deepEqual([frontendIn, backendOut], [total, total]);
  await steer.send("TERMINATE");
  await withTimeout(steer.receive(), WAIT, "TERMINATE reply");
  await withTimeout(running, WAIT, "proxy end");
});
