/**
 * shm:// in the transport-generic socket suite, and between Workers. The
 * suite's cases run in child `deno test`s with `MONOCOQUE_TEST_TRANSPORTS=shm`
 * (as quic_test.ts does for quic): once over the main entry's Worker rings,
 * once with `--preload ffi/mod.ts` over the native rings (skipped, saying
 * why, where the native library cannot be built or loaded). Then each
 * pattern's basic exchange with the other end in a Worker
 * (`_shm_worker_peer.ts`), both ends in Workers, a terminated Worker seen as
 * a disconnect, backpressure on a full ring, close with messages in flight,
 * garbage on the rendezvous channel, hostile offers that publish an
 * impossible index or bytes that are not ZMTP, and no process kept alive once
 * closed.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ChannelSocket,
  GatherSocket,
  PairSocket,
  PeerSocket,
  PubSocket,
  PullSocket,
  PushSocket,
  RadioSocket,
  RepSocket,
  RouterSocket,
  ServerSocket,
  type Socket,
  XPubSocket,
} from "../../mod.ts";
import { SHM_SYMBOLS } from "../../ffi/_symbols.ts";
import { ZmqError } from "../../src/errors.ts";
import { mappingSize, RingView } from "../../src/transport/_shm_ring.ts";
import {
  ACCEPTED,
  CONTROL_BYTES,
  DEAD_AFTER,
  STATE,
} from "../../src/transport/_shm_worker_connection.ts";
import { ShmWorkerTransport, WORKER_CAPACITY } from "../../src/transport/shm_worker.ts";
import { withTimeout } from "../_util/timeout.ts";
import { isPending, nextEvents, recv, until, WAIT } from "../socket/_helpers.ts";
import { pattern, peer, SLOW } from "./_shm_workers.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const PEER_URL = new URL("./_shm_worker_peer.ts", import.meta.url).href;
const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

/** Runs `deno test` in a child with `MONOCOQUE_TEST_TRANSPORTS=shm`; its output. */
async function childTest(args: string[]): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", ...args],
    cwd: ROOT,
    env: { MONOCOQUE_TEST_TRANSPORTS: "shm", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await withTimeout(child.output(), 600_000, "the child deno test");
  const output = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, output);
  return output;
}

function assertSuiteRan(output: string): void {
  const summary = output.match(/ok \| (\d+) passed \| 0 failed/);
  assert.ok(summary !== null, output);
  assert.ok(Number(summary[1]) >= 100, `only ${summary[1]} cases ran over shm`);
}

/** Why the native rings cannot be tested here, or undefined. */
async function nativeUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "shm:// native rings need Linux";
  try {
    const out = await new Deno.Command("make", { args: ["-C", `${ROOT}native`] }).output();
    if (!out.success) return `make -C native failed: ${new TextDecoder().decode(out.stderr)}`;
    Deno.dlopen(`${ROOT}native/build/libmonocoque.so`, SHM_SYMBOLS).close();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

Deno.test("the socket suite's transport-generic cases run over shm:// Worker rings", async () => {
  assertSuiteRan(await childTest(["--filter", "(shm)", "tests/socket/"]));
});

const noNative = await nativeUnavailable();
if (noNative !== undefined) console.log(`tests/transport/shm_test.ts: native rings: ${noNative}`);

Deno.test({
  name: "the socket suite's transport-generic cases run over shm:// native rings",
  ignore: noNative !== undefined,
  async fn() {
    const output = await childTest([
      "--preload",
      "ffi/mod.ts",
      "--filter",
      "(shm)",
      "tests/socket/",
    ]);
    assertSuiteRan(output);
  },
});

function fresh(): string {
  return `shm://mq-worker-${crypto.randomUUID().slice(0, 8)}`;
}

function acrossWorkers(
  name: string,
  mode: string,
  make: () => Socket,
  parentSide: (socket: Socket, done: Promise<void>) => Promise<void>,
): void {
  Deno.test(`shm:// with the other end in a Worker: ${name}`, async () => {
    await using socket = make();
    const endpoint = fresh();
    await socket.bind(endpoint);
    using other = peer(mode, endpoint);
    const done = other.done();
    done.catch(() => {}); // awaited below
    await parentSide(socket, done);
    await done;
  });
}

async function answerPong(socket: Socket): Promise<void> {
  const message = await recv(socket, SLOW);
  assert.equal(text(message.at(-1)!), "ping");
  await socket.send([...message.slice(0, -1), "pong"]);
}

async function receivePatterns(socket: Socket): Promise<void> {
  for (let seed = 0; seed < 3; seed++) {
    assert.deepEqual((await recv(socket, SLOW))[0], pattern(seed), `message ${seed} intact`);
  }
  assert.equal(text((await recv(socket, SLOW))[0]), "done");
}

acrossWorkers("REQ → REP", "req", () => new RepSocket(), answerPong);
acrossWorkers("DEALER → ROUTER", "dealer", () => new RouterSocket(), answerPong);
acrossWorkers("CLIENT → SERVER", "client", () => new ServerSocket(), async (socket) => {
  const server = socket as ServerSocket;
  const request = await withTimeout(server.receive(), SLOW, "server receive");
  assert.equal(text(request[0]), "ping");
  await server.send("pong", { routingId: request.routingId });
});
acrossWorkers("PAIR ↔ PAIR, 256 KiB echoed", "pair", () => new PairSocket(), async (socket) => {
  await socket.send(pattern(9));
  assert.deepEqual((await recv(socket, SLOW))[0], pattern(9));
});
acrossWorkers("PUB → SUB", "sub", () => new PubSocket(), async (socket, done) => {
  // A subscriber misses what is published before its subscription arrives: publish until the
  // Worker has what it waited for (its report, or the bound on it, ends the loop).
  let settled = false;
  done.then(() => settled = true, () => settled = true);
  while (!settled) {
    await socket.send(["t", "hello"]);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
});
acrossWorkers("XPUB ← XSUB", "xsub", () => new XPubSocket(), async (socket) => {
  const [subscription] = await recv(socket, SLOW);
  assert.deepEqual([...subscription], [1, 0x74]);
  await socket.send(["t", "hello"]);
});
acrossWorkers("RADIO → DISH", "dish", () => new RadioSocket(), async (socket, done) => {
  // As PUB → SUB: a join reaches the RADIO asynchronously, so publish until the Worker has it.
  const radio = socket as RadioSocket;
  let settled = false;
  done.then(() => settled = true, () => settled = true);
  while (!settled) {
    await radio.send("hello", { group: "g" });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
});
acrossWorkers("PEER ↔ PEER", "peer", () => new PeerSocket(), async (socket) => {
  const peer = socket as PeerSocket;
  const request = await withTimeout(peer.receive(), SLOW, "peer receive");
  assert.equal(text(request[0]), "ping");
  await peer.send("pong", { routingId: request.routingId });
});
acrossWorkers("CHANNEL ↔ CHANNEL", "channel", () => new ChannelSocket(), answerPong);
acrossWorkers("PUSH → PULL, 256 KiB messages", "pull", () => new PushSocket(), async (socket) => {
  for (let seed = 0; seed < 3; seed++) await socket.send(pattern(seed));
});
acrossWorkers("PUSH ← PULL, 256 KiB messages", "push", () => new PullSocket(), receivePatterns);
acrossWorkers("SCATTER → GATHER", "scatter", () => new GatherSocket(), receivePatterns);

Deno.test("shm:// with both ends in Workers: PUSH → PULL", async () => {
  const endpoint = fresh();
  using binder = peer("bind-pull", endpoint);
  await binder.ready();
  using connecter = peer("push", endpoint);
  await connecter.done();
  await binder.done();
});

Deno.test("shm:// a terminated Worker is a disconnect, and the binder serves the next one", async () => {
  await using pull = new PullSocket();
  const endpoint = fresh();
  await pull.bind(endpoint);
  {
    using flood = peer("flood", endpoint);
    await flood.ready();
    await recv(pull, SLOW);
    const gone = nextEvents(pull, "disconnected", 1, () => true, DEAD_AFTER + 3 * WAIT);
    // Drain what the dead peer left in the ring meanwhile, so the heartbeat is all that tells.
    const draining = (async () => {
      try {
        for (;;) await pull.receive();
      } catch { /* ETERM at close */ }
    })();
    flood[Symbol.dispose]();
    const [event] = await gone;
    assert.equal(event.endpoint, endpoint);
    void draining;
  }
  // Whatever of the dead peer's stream was queued comes first, then the new peer's.
  await using pull2 = new PullSocket();
  const endpoint2 = fresh();
  await pull2.bind(endpoint2);
  using next = peer("push", endpoint2);
  await receivePatterns(pull2);
  await next.done();
});

Deno.test("shm:// a write parked on a full ring to a terminated Worker rejects", async () => {
  const shm = new ShmWorkerTransport();
  const endpoint = { transport: "shm" as const, name: `mq-raw-${crypto.randomUUID().slice(0, 8)}` };
  const listener = await shm.listen(endpoint);
  using idle = peer("raw-idle", `shm://${endpoint.name}`);
  try {
    const conn = (await withTimeout(listener.accept(), SLOW, "accept"))!;
    await idle.ready();
    const writing = conn.write([new Uint8Array(WORKER_CAPACITY * 2)]);
    writing.catch(() => {});
    assert.ok(await isPending(writing), "a write larger than the ring waits for the reader");
    idle[Symbol.dispose]();
    await assert.rejects(
      withTimeout(writing, DEAD_AFTER + 3 * WAIT, "the parked write"),
      (e) => e instanceof ZmqError && e.code === "ECONNRESET",
    );
    assert.equal(await conn.read(new Uint8Array(16)), null, "and reads see the end");
    conn.close();
  } finally {
    listener.close();
  }
});

Deno.test("shm:// Worker rings: a full ring holds the writer until the reader drains it", async () => {
  const shm = new ShmWorkerTransport();
  const endpoint = { transport: "shm" as const, name: `mq-bp-${crypto.randomUUID().slice(0, 8)}` };
  const listener = await shm.listen(endpoint);
  const client = await shm.connect(endpoint);
  const server = (await listener.accept())!;
  try {
    const big = pattern(3).subarray(0, WORKER_CAPACITY * 3 + 123);
    const writing = client.write([big.subarray(0, 1000), big.subarray(1000)]);
    assert.ok(await isPending(writing), "the ring is bounded");
    const got = new Uint8Array(big.length);
    let n = 0;
    while (n < big.length) {
      const r = await withTimeout(server.read(got.subarray(n, n + 7000)), WAIT, "read");
      assert.notEqual(r, null);
      n += r!;
    }
    await withTimeout(writing, WAIT, "the write once drained");
    assert.deepEqual(got, big);
  } finally {
    client.close();
    server.close();
    listener.close();
  }
});

Deno.test("shm:// Worker rings: close with messages in flight settles every send", async () => {
  const endpoint = fresh();
  const push = new PushSocket({ linger: 0 });
  await push.bind(endpoint);
  using other = peer("pull", endpoint);
  const sends = Array.from({ length: 20 }, (_, i) => push.send(pattern(i)).catch(() => {}));
  await withTimeout(sends[0], SLOW, "the first send");
  await push.close();
  await withTimeout(Promise.all(sends), WAIT, "every send settled");
  void other;
});

Deno.test("shm:// garbage on the rendezvous channel is ignored", async () => {
  await using pull = new PullSocket();
  const endpoint = fresh();
  await pull.bind(endpoint);
  const name = endpoint.slice("shm://".length);
  const channel = new BroadcastChannel("monocoque-shm/1");
  try {
    for (
      const junk of [
        null,
        42,
        "offer",
        { t: "offer" },
        { t: "offer", name, control: new SharedArrayBuffer(8), rings: 1, capacity: 4096 },
        { t: "offer", name, control: new ArrayBuffer(64), rings: new ArrayBuffer(1), capacity: 3 },
        {
          t: "offer",
          name,
          control: new SharedArrayBuffer(64),
          rings: new SharedArrayBuffer(16),
          capacity: 4096,
        },
        { t: "bound", name: { toString: null } },
      ]
    ) {
      channel.postMessage(junk);
    }
    using other = peer("push", endpoint);
    await receivePatterns(pull);
    await other.done();
  } finally {
    channel.close();
  }
});

/**
 * Offers a connection on the rendezvous channel as a hostile Worker would, and returns our
 * (the connecter's) view of the ring we write, once the binder has taken it.
 */
async function hostileOffer(endpoint: string): Promise<RingView> {
  const capacity = 4096;
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const rings = new SharedArrayBuffer(mappingSize(capacity));
  const channel = new BroadcastChannel("monocoque-shm/1");
  try {
    channel.postMessage({ t: "offer", name: endpoint.slice(6), control, rings, capacity });
    const state = new Int32Array(control);
    await until(() => Atomics.load(state, STATE) === ACCEPTED, "the binder to take the offer");
  } finally {
    channel.close();
  }
  return new RingView(rings, 1, capacity);
}

async function stillServes(pull: PullSocket, endpoint: string): Promise<void> {
  await using push = new PushSocket();
  push.connect(endpoint);
  await push.send("still here");
  assert.equal(text((await recv(pull))[0]), "still here");
}

Deno.test("shm:// Worker rings: a peer publishing an impossible ring index drops only itself", async () => {
  await using pull = new PullSocket();
  const endpoint = fresh();
  await pull.bind(endpoint);
  const dropped = nextEvents(pull, "disconnected");
  const ring = await hostileOffer(endpoint);
  ring.scribble("tail", 0x7fff_0000);
  if (ring.shouldWake("reader")) ring.notify("reader");
  const [event] = await dropped;
  assert.equal(event.error.code, "ECONNRESET");
  await stillServes(pull, endpoint);
});

Deno.test("shm:// Worker rings: a peer writing bytes that are not ZMTP drops only itself", async () => {
  await using pull = new PullSocket();
  const endpoint = fresh();
  await pull.bind(endpoint);
  const dropped = nextEvents(pull, "disconnected");
  const ring = await hostileOffer(endpoint);
  ring.write(new Uint8Array(4000).fill(0xff));
  ring.publish();
  if (ring.shouldWake("reader")) ring.notify("reader");
  await dropped;
  await stillServes(pull, endpoint);
});

Deno.test("shm:// an isolate whose only peer is terminated stays up to see the disconnect", async () => {
  // Nothing but the open connection keeps this child's event loop running once its Worker is gone.
  const script = `
    import { PushSocket } from "${ROOT}mod.ts";
    const endpoint = "shm://orphan-${crypto.randomUUID().slice(0, 8)}";
    const worker = new Worker("${PEER_URL}", { type: "module" });
    const ready = new Promise((resolve) => worker.onmessage = resolve);
    worker.postMessage({ mode: "bind-pull", endpoint });
    await ready;
    const push = new PushSocket();
    const events = push.events();
    const next = async (type) => {
      for (;;) {
        const { done, value } = await events.next();
        if (done) throw new Error("the events ended");
        if (value.type === type) return;
      }
    };
    push.connect(endpoint);
    await next("handshakeSucceeded");
    worker.terminate();
    await next("disconnected");
    console.log("disconnected");
    await push.close();
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", `${ROOT}deno.json`, script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out: Deno.CommandOutput;
  try {
    out = await withTimeout(child.output(), SLOW + DEAD_AFTER, "the child to see the disconnect");
  } catch (err) {
    child.kill("SIGKILL");
    await child.output();
    throw err;
  }
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "disconnected");
});

Deno.test("shm:// Worker rings keep no process alive once closed", async () => {
  const script = `
    import { PullSocket, PushSocket } from "${ROOT}mod.ts";
    const pull = new PullSocket();
    await pull.bind("shm://alive-a");
    const push = new PushSocket();
    push.connect("shm://alive-a");
    await push.send("x");
    await pull.receive();
    const waiting = new PushSocket();
    waiting.connect("shm://alive-nobody"); // a connect that waits for a bind
    await Promise.all([push.close(), pull.close(), waiting.close()]);
    console.log("closed");
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", `${ROOT}deno.json`, script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out: Deno.CommandOutput;
  try {
    out = await withTimeout(child.output(), SLOW, "the child to exit by itself");
  } catch (err) {
    child.kill("SIGKILL");
    await child.output();
    throw err;
  }
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "closed");
});
