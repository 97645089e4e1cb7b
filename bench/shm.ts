/**
 * shm:// against ipc://, side by side: PUSH→PULL between two processes,
 * Monocoque over shm:// and ipc:// beside libzmq over ipc:// (the C harness
 * bench/c/zmq_bench.c on the system libzmq, the library pyzmq wraps), all
 * with the harness modes of bench/_modes.mjs. Monocoque's processes run
 * bench/monocoque_bench.ts with `--preload ffi/mod.ts`, which is how shm://
 * gets registered (`import "@monocoque/zmtp/native"`).
 *
 *   deno run -A bench/shm.ts [--runs N] [--count N] [--size BYTES]
 *
 * A second table times the transports alone, without sockets: the same
 * 16 B messages as ZMTP frames (18 bytes each), written in flushes of 1024
 * through a `Connection` and read back in 64 KiB reads, shm:// beside ipc://
 * (ten times `--count` frames).
 *
 * A third table runs PUSH→PULL 16 B inside this process: between two
 * Workers over the Worker rings (`shm://` of the main entry, no FFI) and over
 * ipc://, beside inproc:// with both sockets in one isolate
 * (`bench/_shm_worker_bench.ts`). `--workers` runs that table alone.
 *
 * Prints the median rate of each and the ratios; results vary with load (two
 * cores are shared by both peers), so compare within one run.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const C_SRC = `${ROOT}/bench/c/zmq_bench.c`;
const C_BIN = `${ROOT}/bench/build/zmq_bench`;

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

const RUNS = flag("--runs", 5);
const COUNT = flag("--count", 1_000_000);
const SIZE = flag("--size", 16);

type Json = Record<string, unknown>;

/** One harness process: waits for its `ready` and `result` JSON lines. */
class Proc {
  #child: Deno.ChildProcess;
  readonly ready: Promise<void>;
  readonly result: Promise<Json>;
  #stderr = "";

  constructor(cmd: string[]) {
    const child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    const ready = Promise.withResolvers<void>();
    const result = Promise.withResolvers<Json>();
    this.ready = ready.promise;
    this.result = result.promise;
    this.ready.catch(() => {});
    this.result.catch(() => {});
    (async () => {
      let buf = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line.startsWith("{")) continue;
          const j = JSON.parse(line) as Json;
          if (j.event === "ready") ready.resolve();
          if (j.event === "result") result.resolve(j);
        }
      }
      const err = new Error(`${cmd.slice(-4).join(" ")} exited: ${this.#stderr.slice(-300)}`);
      ready.reject(err);
      result.reject(err);
    })();
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-2000);
      }
    })();
  }

  async done(): Promise<void> {
    await this.#child.stdin.close().catch(() => {});
    const timer = setTimeout(() => this.kill(), 10_000);
    await this.#child.status;
    clearTimeout(timer);
  }

  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone */ }
  }
}

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

type Impl = "monocoque shm" | "monocoque ipc" | "libzmq ipc";

function command(impl: Impl, args: string[]): string[] {
  if (impl === "libzmq ipc") return [C_BIN, ...args];
  return [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    "--preload",
    `${ROOT}/ffi/mod.ts`,
    `${ROOT}/bench/monocoque_bench.ts`,
    ...args,
  ];
}

const FRAME = SIZE + 2;
const BATCH = 1024;
/** Frames per raw run: ten times the socket runs' messages, so a run lasts long enough to time. */
const RAW_COUNT = COUNT * 10;

/** Raw transport roles, run as child processes of this file. */
async function rawRole(role: string, ep: string, count: number): Promise<void> {
  await import("../ffi/mod.ts");
  const { resolveEndpoint, transportFor } = await import("../src/transport/registry.ts");
  const total = count * FRAME;
  const print = (j: Json) => console.log(JSON.stringify(j));
  if (role === "raw_recv") {
    const endpoint = resolveEndpoint(ep, "bind");
    const listener = await transportFor(endpoint).listen(endpoint);
    print({ event: "ready" });
    const conn = (await listener.accept())!;
    const buffer = new Uint8Array(65536);
    let got = 0;
    let t0 = 0;
    while (got < total) {
      const n = await conn.read(buffer);
      if (n === null) break;
      if (got === 0) t0 = performance.now();
      got += n;
    }
    const secs = (performance.now() - t0) / 1000;
    print({
      event: "result",
      count: Math.floor(got / FRAME),
      expected: count,
      msgs_per_s: got / FRAME / secs,
    });
    conn.close();
    listener.close();
    return;
  }
  const endpoint = resolveEndpoint(ep, "connect");
  const conn = await transportFor(endpoint).connect(endpoint);
  print({ event: "ready" });
  const flush = new Uint8Array(FRAME * BATCH);
  for (let i = 0; i < BATCH; i++) flush[i * FRAME + 1] = SIZE; // flags 0, length SIZE
  for (let sent = 0; sent < count; sent += BATCH) {
    await conn.write([sent + BATCH <= count ? flush : flush.subarray(0, (count - sent) * FRAME)]);
  }
  // Hold the connection until the receiver is done (stdin closes).
  for await (const _ of Deno.stdin.readable) { /* wait */ }
  conn.close();
}

let seq = 0;

type InProcess = "worker shm" | "worker ipc" | "inproc";
const WORKER = new URL("./_shm_worker_bench.ts", import.meta.url);

/** One PUSH→PULL run inside this process; the receiver's rate. */
async function onceInProcess(impl: InProcess): Promise<number> {
  const name = `bench-w-${Deno.pid}-${++seq}`;
  const ep = impl === "worker shm"
    ? `shm://${name}`
    : impl === "worker ipc"
    ? `ipc:///tmp/monocoque-${name}.sock`
    : `inproc://${name}`;
  const workers: Worker[] = [];
  const start = (role: string) => {
    const w = new Worker(WORKER, { type: "module" });
    workers.push(w);
    const ready = Promise.withResolvers<void>();
    const done = Promise.withResolvers<number>();
    ready.promise.catch(() => {});
    done.promise.catch(() => {});
    w.onmessage = (e: MessageEvent<{ ready?: true; result?: number; error?: string }>) => {
      if (e.data.ready) ready.resolve();
      else if (e.data.error) {
        ready.reject(new Error(e.data.error));
        done.reject(new Error(e.data.error));
      } else done.resolve(e.data.result ?? 0);
    };
    w.postMessage({ role, endpoint: ep, count: COUNT, size: SIZE });
    return { ready: ready.promise, done: done.promise };
  };
  try {
    if (impl === "inproc") return await deadline(start("both").done, 120_000, impl);
    const receiver = start("pull");
    await deadline(receiver.ready, 30_000, `${impl} receiver ready`);
    const sender = start("push");
    const [rate] = await deadline(Promise.all([receiver.done, sender.done]), 120_000, impl);
    return rate;
  } finally {
    for (const w of workers) w.terminate();
  }
}

async function inProcessTable(): Promise<void> {
  const impls: InProcess[] = ["worker shm", "worker ipc", "inproc"];
  const rates = new Map<InProcess, number[]>(impls.map((i) => [i, []]));
  console.log(
    `\nPUSH→PULL ${SIZE} B × ${COUNT} in one process (Workers), ${RUNS} runs interleaved`,
  );
  for (let run = 0; run < RUNS; run++) {
    for (const impl of impls) {
      try {
        rates.get(impl)!.push(await onceInProcess(impl));
      } catch (err) {
        console.error(`  ${(err as Error).message}`);
      }
    }
  }
  const m = new Map(impls.map((i) => [i, median(rates.get(i)!)]));
  const label: Record<InProcess, string> = {
    "worker shm": "shm:// Workers",
    "worker ipc": "ipc:// Workers",
    "inproc": "inproc:// 1 isolate",
  };
  for (const impl of impls) {
    const all = rates.get(impl)!.map(fmt).join(", ");
    console.log(`${label[impl].padEnd(20)} median ${fmt(m.get(impl)!).padStart(10)}   (${all})`);
  }
  const shm = m.get("worker shm")!;
  console.log(
    `Worker shm / Worker ipc: ${(shm / m.get("worker ipc")!).toFixed(2)}×   ` +
      `Worker shm / inproc: ${(shm / m.get("inproc")!).toFixed(2)}×`,
  );
}

async function onceRaw(impl: "shm" | "ipc"): Promise<number> {
  const name = `bench-raw-${Deno.pid}-${++seq}`;
  const ep = impl === "shm" ? `shm://${name}` : `ipc:///tmp/monocoque-${name}.sock`;
  const self = [Deno.execPath(), "run", "-A", "--quiet", import.meta.filename!];
  const receiver = new Proc([...self, "raw_recv", ep, `${RAW_COUNT}`]);
  let sender: Proc | undefined;
  try {
    await deadline(receiver.ready, 30_000, `raw ${impl} receiver ready`);
    sender = new Proc([...self, "raw_send", ep, `${RAW_COUNT}`]);
    const r = await deadline(receiver.result, 120_000, `raw ${impl} result`);
    if (r.count !== r.expected) throw new Error(`raw ${impl}: ${r.count} of ${r.expected}`);
    return Number(r.msgs_per_s);
  } finally {
    await sender?.done();
    await receiver.done();
  }
}

async function once(impl: Impl): Promise<number> {
  const name = `bench-${Deno.pid}-${++seq}`;
  const ep = impl === "monocoque shm" ? `shm://${name}` : `ipc:///tmp/monocoque-${name}.sock`;
  const receiver = new Proc(command(impl, ["pull_recv", `@${ep}`, `${COUNT}`]));
  let sender: Proc | undefined;
  try {
    await deadline(receiver.ready, 30_000, `${impl} receiver ready`);
    sender = new Proc(command(impl, ["push_send", `>${ep}`, `${COUNT}`, `${SIZE}`]));
    const r = await deadline(receiver.result, 120_000, `${impl} result`);
    if (r.count !== r.expected) throw new Error(`${impl}: received ${r.count} of ${r.expected}`);
    return Number(r.msgs_per_s);
  } finally {
    await sender?.done();
    await receiver.done();
  }
}

async function build(): Promise<string | undefined> {
  const make = await new Deno.Command("make", { args: ["-C", `${ROOT}/native`] }).output();
  if (!make.success) return `make -C native failed: ${new TextDecoder().decode(make.stderr)}`;
  await Deno.mkdir(`${ROOT}/bench/build`, { recursive: true });
  const cc = await new Deno.Command("cc", { args: ["-O2", "-o", C_BIN, C_SRC, "-lzmq"] })
    .output();
  if (!cc.success) return `the libzmq harness does not build (install libzmq3-dev)`;
  return undefined;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${(x / 1e3).toFixed(0)} k/s`;

if (import.meta.main && Deno.args[0]?.startsWith("raw_")) {
  await rawRole(Deno.args[0], Deno.args[1], Number(Deno.args[2]));
} else if (import.meta.main && Deno.args.includes("--workers")) {
  await inProcessTable();
} else if (import.meta.main) {
  const problem = await build();
  if (problem) {
    console.error(problem);
    Deno.exit(1);
  }
  const impls: Impl[] = ["monocoque shm", "monocoque ipc", "libzmq ipc"];
  const rates = new Map<Impl, number[]>(impls.map((i) => [i, []]));
  console.log(`PUSH→PULL ${SIZE} B × ${COUNT}, two processes, ${RUNS} runs interleaved`);
  for (let run = 0; run < RUNS; run++) {
    for (const impl of impls) {
      try {
        rates.get(impl)!.push(await once(impl));
      } catch (err) {
        console.error(`  ${(err as Error).message}`);
      }
    }
  }
  const m = new Map(impls.map((i) => [i, median(rates.get(i)!)]));
  for (const impl of impls) {
    const all = rates.get(impl)!.map(fmt).join(", ");
    console.log(`${impl.padEnd(14)} median ${fmt(m.get(impl)!).padStart(10)}   (${all})`);
  }
  const shm = m.get("monocoque shm")!;
  console.log(
    `shm / our ipc: ${(shm / m.get("monocoque ipc")!).toFixed(2)}×   ` +
      `shm / libzmq ipc: ${(shm / m.get("libzmq ipc")!).toFixed(2)}×`,
  );
  console.log(`\nTransports alone (${FRAME}-byte frames, ${BATCH} per write), ${RUNS} runs`);
  const raw = { shm: [] as number[], ipc: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    for (const impl of ["shm", "ipc"] as const) {
      try {
        raw[impl].push(await onceRaw(impl));
      } catch (err) {
        console.error(`  ${(err as Error).message}`);
      }
    }
  }
  for (const impl of ["shm", "ipc"] as const) {
    const all = raw[impl].map(fmt).join(", ");
    console.log(`${impl.padEnd(14)} median ${fmt(median(raw[impl])).padStart(10)}   (${all})`);
  }
  console.log(`shm / ipc: ${(median(raw.shm) / median(raw.ipc)).toFixed(2)}×`);
  await inProcessTable();
}
