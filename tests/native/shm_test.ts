/**
 * The shm:// transport between two Deno processes (the other one is
 * `_shm_child.ts`, started with Deno.Command): each pattern's basic exchange,
 * 1 MiB messages through a 256 KiB ring, a peer killed mid-stream, hostile
 * peers that write garbage into the ring or its indices, and the Worker
 * rings alone where the native library is absent. Skipped (with the
 * reason printed) where the library cannot be built or loaded.
 *
 * @module
 */

import assert from "node:assert/strict";
import "../../ffi/mod.ts";
import {
  GatherSocket,
  PairSocket,
  PubSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  RouterSocket,
  ServerSocket,
  type Socket,
} from "../../mod.ts";
import { rendezvousPath } from "../../ffi/_shm.ts";
import { CAPACITY, HEADER, mappingSize } from "../../ffi/_shm_ring.ts";
import { SHM_SYMBOLS } from "../../ffi/_symbols.ts";
import { resolveEndpoint, transportFor } from "../../src/transport/registry.ts";
import { ShmWorkerTransport } from "../../src/transport/shm_worker.ts";
import { withTimeout } from "../_util/timeout.ts";
import { nextEvents, recv, WAIT } from "../socket/_helpers.ts";
import { LIBRARY_PATH } from "./_native.ts";
import { pattern } from "./_shm_child.ts";
import { pattern as workerPattern, peer } from "../transport/_shm_workers.ts";

const CHILD = decodeURIComponent(new URL("./_shm_child.ts", import.meta.url).pathname);
const CONFIG = decodeURIComponent(new URL("../../deno.json", import.meta.url).pathname);
const NATIVE_DIR = decodeURIComponent(new URL("../../native", import.meta.url).pathname);

/** Builds the library when its sources are newer (an older build lacks the shm calls). */
async function unavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "shm:// needs Linux";
  if ((await Deno.permissions.query({ name: "ffi" })).state !== "granted") return "no --allow-ffi";
  try {
    const out = await new Deno.Command("make", { args: ["-C", NATIVE_DIR] }).output();
    if (!out.success) return `make -C native failed: ${new TextDecoder().decode(out.stderr)}`;
  } catch (err) {
    return `cannot run make: ${(err as Error).message}`;
  }
  try {
    Deno.dlopen(LIBRARY_PATH, SHM_SYMBOLS).close();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

const why = await unavailable();
if (why !== undefined) console.log(`tests/native/shm_test.ts: skipping: ${why}`);
const ignore = why !== undefined;
const SLOW = 30_000; // a child process start (type check and all) on a loaded 2-core machine

function fresh(): string {
  return `shm://mq-test-${crypto.randomUUID().slice(0, 8)}`;
}

function spawn(mode: string, endpoint: string, flags: string[] = ["-A"]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "--config", CONFIG, CHILD, mode, endpoint],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Waits for the child to exit 0, killing it (and failing) after `ms`. */
async function succeeds(child: Deno.ChildProcess, ms = SLOW): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await withTimeout(child.output(), ms, "child process");
  } catch (err) {
    child.kill("SIGKILL");
    await child.status;
    throw err;
  }
  assert.ok(out.success, `child failed:\n${new TextDecoder().decode(out.stderr)}`);
}

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

function twoProcesses(
  name: string,
  mode: string,
  make: () => Socket,
  parentSide: (socket: Socket, child: Deno.ChildProcess) => Promise<void>,
): void {
  Deno.test({
    name: `shm:// between two processes: ${name}`,
    ignore,
    async fn() {
      await using socket = make();
      const endpoint = fresh();
      await socket.bind(endpoint);
      const child = spawn(mode, endpoint);
      try {
        await parentSide(socket, child);
      } catch (err) {
        child.kill("SIGKILL");
        await child.output();
        throw err;
      }
      await succeeds(child);
    },
  });
}

async function answerPong(socket: Socket, child: Deno.ChildProcess): Promise<void> {
  const message = await recv(socket, SLOW);
  assert.equal(text(message.at(-1)!), "ping");
  await socket.send([...message.slice(0, -1), "pong"]);
  void child;
}

twoProcesses("REQ → REP", "req", () => new RepSocket(), answerPong);
twoProcesses("DEALER → ROUTER", "dealer", () => new RouterSocket(), answerPong);

twoProcesses("CLIENT → SERVER", "client", () => new ServerSocket(), async (socket) => {
  const server = socket as ServerSocket;
  const request = await withTimeout(server.receive(), SLOW, "server receive");
  assert.equal(text(request[0]), "ping");
  await server.send("pong", { routingId: request.routingId });
});

twoProcesses("PAIR ↔ PAIR, 1 MiB echoed", "pair", () => new PairSocket(), async (socket) => {
  const big = pattern(9);
  await socket.send(big);
  const [echo] = await recv(socket, SLOW);
  assert.deepEqual(echo, big);
});

twoProcesses("PUB → SUB", "sub", () => new PubSocket(), async (socket, child) => {
  // A subscriber misses what is published before its subscription arrives:
  // publish until it has what it waited for (it exits then).
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + SLOW;
  while (!exited && Date.now() < deadline) {
    await socket.send(["t", "hello"]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

twoProcesses("PUSH → PULL, 1 MiB messages", "pull", () => new PushSocket(), async (socket) => {
  for (let seed = 0; seed < 3; seed++) await socket.send(pattern(seed));
});

async function receiveBig(socket: Socket): Promise<void> {
  for (let seed = 0; seed < 3; seed++) {
    const [frame] = await recv(socket, SLOW);
    assert.deepEqual(frame, pattern(seed), `1 MiB message ${seed} arrived intact`);
  }
  assert.equal(text((await recv(socket, SLOW))[0]), "done");
}

twoProcesses("PUSH ← PULL, 1 MiB messages", "push", () => new PullSocket(), receiveBig);
twoProcesses("SCATTER → GATHER, 1 MiB messages", "scatter", () => new GatherSocket(), receiveBig);

Deno.test({
  name: "shm:// survives a peer killed mid-stream and serves the next one",
  ignore,
  async fn() {
    await using pull = new PullSocket();
    const endpoint = fresh();
    await pull.bind(endpoint);
    const flood = spawn("flood", endpoint);
    try {
      await recv(pull, SLOW); // it is streaming
    } catch (err) {
      flood.kill("SIGKILL");
      await flood.output();
      throw err;
    }
    const gone = nextEvents(pull, "disconnected", 1, () => true, WAIT);
    flood.kill("SIGKILL");
    await flood.output();
    const [event] = await gone;
    assert.equal(event.endpoint, endpoint);
    // Whatever of the dead peer's stream was queued comes first, then the new peer's.
    const next = spawn("push", endpoint);
    let frame: Uint8Array;
    let skipped = 0;
    do {
      [frame] = await recv(pull, SLOW);
    } while (frame.length === 200_000 && ++skipped < 1000);
    assert.deepEqual(frame, pattern(0));
    await recv(pull, SLOW);
    await recv(pull, SLOW);
    assert.equal(text((await recv(pull, SLOW))[0]), "done");
    await succeeds(next);
  },
});

Deno.test({
  name: "shm:// close with messages in flight releases everything",
  ignore,
  async fn() {
    const push = new PushSocket({ linger: 0 });
    const pull = new PullSocket();
    const endpoint = fresh();
    await push.bind(endpoint);
    pull.connect(endpoint);
    const sends = Array.from({ length: 20 }, (_, i) => push.send(pattern(i)).catch(() => {}));
    await recv(pull);
    await Promise.all([push.close(), pull.close()]);
    await Promise.all(sends);
  },
});

/** A connecter that maps the binder's rings itself, as a hostile process would. */
async function hostileMapping(endpoint: string) {
  const name = endpoint.slice("shm://".length);
  const bell = await Deno.connect({ transport: "unix", path: rendezvousPath(name) });
  const hello = new Uint8Array(16);
  for (let got = 0; got < 16;) {
    const n = await bell.read(hello.subarray(got));
    assert.notEqual(n, null);
    got += n!;
  }
  const [, pid, fd, capacity] = new Uint32Array(hello.buffer);
  assert.equal(capacity, CAPACITY);
  const lib = Deno.dlopen(LIBRARY_PATH, SHM_SYMBOLS);
  const size = mappingSize(capacity);
  const pointer = lib.symbols.mq_shm_open(
    new TextEncoder().encode(`/proc/${pid}/fd/${fd}\0`),
    size,
  );
  assert.ok(pointer !== null, "mapped the binder's memfd");
  const view = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(pointer, size));
  return {
    bell,
    /** Publishes `value` as the tail of the ring we would write (connecter → binder). */
    scribbleTail(value: number) {
      Atomics.store(view, (HEADER + capacity + 64) / 4, value);
    },
    close() {
      lib.symbols.mq_shm_unmap(pointer, size);
      lib.close();
      bell.close();
    },
  };
}

async function stillServes(pull: PullSocket, endpoint: string): Promise<void> {
  await using push = new PushSocket();
  push.connect(endpoint);
  await push.send("still here");
  assert.equal(text((await recv(pull))[0]), "still here");
}

Deno.test({
  name: "shm:// a peer publishing an impossible ring index drops only itself",
  ignore,
  async fn() {
    await using pull = new PullSocket();
    const endpoint = fresh();
    await pull.bind(endpoint);
    const dropped = nextEvents(pull, "disconnected");
    const hostile = await hostileMapping(endpoint);
    try {
      hostile.scribbleTail(0x7fff_0000);
      await hostile.bell.write(new Uint8Array([1])); // wake the binder's reader
      const [event] = await dropped;
      assert.equal(event.error.code, "ECONNRESET");
      // The binder hung up on it.
      assert.equal(await withTimeout(hostile.bell.read(new Uint8Array(64)), WAIT, "hang-up"), null);
    } finally {
      hostile.close();
    }
    await stillServes(pull, endpoint);
  },
});

Deno.test({
  name: "shm:// a peer writing garbage bytes into the ring drops only itself",
  ignore,
  async fn() {
    await using pull = new PullSocket();
    const endpoint = fresh();
    await pull.bind(endpoint);
    const failed = nextEvents(pull, "disconnected");
    const transport = transportFor(resolveEndpoint(endpoint, "connect"));
    const raw = await transport.connect(resolveEndpoint(endpoint, "connect"));
    try {
      await raw.write([new Uint8Array(4096).fill(0xff)]);
      await failed;
      // Whatever the binder wrote before hanging up, the stream then ends.
      const buffer = new Uint8Array(4096);
      let n: number | null = 0;
      for (let i = 0; n !== null && i < 100; i++) {
        n = await withTimeout(raw.read(buffer), WAIT, "end of stream");
      }
      assert.equal(n, null);
    } finally {
      raw.close();
    }
    await stillServes(pull, endpoint);
  },
});

Deno.test({
  name: "shm:// a native bind also serves a Worker of its process (Worker rings, no FFI there)",
  ignore,
  async fn() {
    await using pull = new PullSocket();
    const endpoint = fresh();
    await pull.bind(endpoint);
    using other = peer("push", endpoint);
    for (let seed = 0; seed < 3; seed++) {
      assert.deepEqual((await recv(pull, SLOW))[0], workerPattern(seed));
    }
    assert.equal(text((await recv(pull, SLOW))[0]), "done");
    await other.done();
  },
});

Deno.test({
  name: "shm:// a native connect with no host binder reaches a Worker-only binder of its process",
  ignore,
  async fn() {
    const endpoint = fresh();
    using binder = peer("bind-pull", endpoint);
    await binder.ready();
    await using push = new PushSocket();
    push.connect(endpoint);
    for (let seed = 0; seed < 3; seed++) await push.send(workerPattern(seed));
    await push.send("done");
    await binder.done();
  },
});

Deno.test({
  name: "shm:// a native bind of a name this isolate's Worker rings hold is EADDRINUSE, and undone",
  ignore,
  async fn() {
    const endpoint = fresh();
    const name = endpoint.slice("shm://".length);
    const held = await new ShmWorkerTransport().listen({ transport: "shm", name });
    try {
      await using pull = new PullSocket();
      await assert.rejects(pull.bind(endpoint), (e: { code?: string }) => e.code === "EADDRINUSE");
      await assert.rejects(Deno.stat(rendezvousPath(name)), Deno.errors.NotFound);
    } finally {
      held.close();
    }
    await using pull = new PullSocket();
    await pull.bind(endpoint);
    await stillServes(pull, endpoint);
  },
});

Deno.test({
  name: "shm:// is the in-process Worker rings without the native entry or without --allow-ffi",
  ignore,
  async fn() {
    const flags = ["--allow-read", "--allow-write", "--allow-net", "--allow-env"];
    await succeeds(spawn("worker-only-without-native", fresh(), flags));
    await succeeds(spawn("worker-only-without-ffi", fresh(), flags));
  },
});

Deno.test({
  name: "shm:// rejects a malformed name",
  fn() {
    for (const bad of ["shm://", "shm://a/b", `shm://${"x".repeat(65)}`, "shm://.hidden"]) {
      assert.throws(
        () => resolveEndpoint(bad, "bind"),
        (e: { code?: string }) => e.code === "EINVAL",
      );
    }
  },
});
