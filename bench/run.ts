/**
 * Side-by-side benchmark runner (`deno task bench`): Monocoque against libzmq
 * (small C programs, bench/c/) and zeromq.js (under Node, bench/node/), each
 * peer a separate process over loopback, the implementations interleaved
 * within one run so that the machine's noise hits them alike. A fourth
 * implementation, "Monocoque (native)", is Monocoque with the io_uring
 * transport of ffi/ on every socket of the process under test; it runs in the
 * scenarios where issue 5 sets it a target (tcp throughput, REQ/REP, PUB
 * fan-out with default Monocoque subscribers, ROUTER with 100 DEALERs).
 * Prints medians with their min..max spread and the ratios between
 * implementations, and writes every raw figure to bench/results/latest.json.
 *
 * Method (research/baseline.md): throughput is timed at the receiver from its
 * first to its last message; latency is the full round trip, reported as
 * p50/p99/p99.9; PUB fan-out is measured losslessly (XPUB_NODROP where the
 * implementation has it, and the subscribers count what arrived); senders
 * keep their sockets open until the receiver is done. Message counts adapt
 * to each implementation's measured rate so that every run lasts about
 * `--secs` seconds. Every child process has a deadline and is killed when it
 * passes it; a failed run is reported, never fatal.
 *
 * Usage: deno run -A bench/run.ts [--runs N] [--quick] [--secs S]
 *   [--only=libzmq,zeromqjs,monocoque,native] [--filter=thr-tcp,rtt,fanout,router,idle]
 *   [--timeout S] [--out FILE] [--micro]
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BUILD = `${ROOT}/bench/build`;
const C_BIN = `${BUILD}/zmq_bench`;
const NODE_DIR = `${ROOT}/bench/node`;
const ZEROMQ_VERSION = "6.8.0";
const NATIVE_LIB = `${ROOT}/native/build/libmonocoque.so`;

type Impl = "libzmq" | "zeromqjs" | "monocoque" | "native";
const ALL_IMPLS: Impl[] = ["libzmq", "zeromqjs", "monocoque", "native"];
const LABEL: Record<Impl, string> = {
  libzmq: "libzmq",
  zeromqjs: "zeromq.js",
  monocoque: "Monocoque",
  native: "Monocoque (native)",
};
/** Short names for ratio column headers. */
const SHORT: Record<Impl, string> = {
  libzmq: "libzmq",
  zeromqjs: "zeromq.js",
  monocoque: "Monocoque",
  native: "native",
};
/** The implementations a scenario runs unless it says otherwise. */
const DEFAULT_IMPLS: Impl[] = ["libzmq", "zeromqjs", "monocoque"];

// ---------------------------------------------------------------- options

interface Options {
  runs: number;
  secs: number;
  quick: boolean;
  only: Impl[];
  filter: string[];
  timeoutSecs: number | undefined;
  out: string;
  micro: boolean;
  idleConnections: number;
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    runs: 3,
    secs: 1.5,
    quick: false,
    only: [...ALL_IMPLS],
    filter: [],
    timeoutSecs: undefined,
    out: `${ROOT}/bench/results/latest.json`,
    micro: false,
    idleConnections: 1000,
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--runs":
        o.runs = Math.max(1, parseInt(value(), 10));
        break;
      case "--secs":
        o.secs = parseFloat(value());
        break;
      case "--quick":
        o.quick = true;
        break;
      case "--only":
        o.only = value().split(",").map((s) =>
          s.trim().toLowerCase().replace(".", "").replace(/^monocoque-?native$/, "native") as Impl
        );
        for (const impl of o.only) {
          if (!ALL_IMPLS.includes(impl)) throw new Error(`Unknown implementation ${impl}`);
        }
        break;
      case "--filter":
        o.filter = value().split(",").map((s) => s.trim()).filter(Boolean);
        break;
      case "--timeout":
        o.timeoutSecs = parseFloat(value());
        break;
      case "--out":
        o.out = value();
        break;
      case "--micro":
        o.micro = true;
        break;
      case "--help":
      case "-h":
        console.log(
          "deno task bench [--runs N] [--quick] [--secs S] [--only=libzmq,zeromqjs,monocoque,native]\n" +
            "                [--filter=ID,...] [--timeout S] [--out FILE] [--micro]",
        );
        Deno.exit(0);
        break;
      default:
        throw new Error(`Unknown argument ${args[i]}`);
    }
  }
  if (o.quick) {
    if (!args.some((a) => a.startsWith("--runs"))) o.runs = 1;
    if (!args.some((a) => a.startsWith("--secs"))) o.secs = 0.3;
    o.idleConnections = 200;
  }
  return o;
}

// ---------------------------------------------------------------- processes

/** The JSON lines a harness prints: {"event":"ready"} then {"event":"result",...}. */
type Json = Record<string, number | string>;

const live = new Set<Proc>();

/** One harness process with its stdout parsed into events. */
class Proc {
  readonly name: string;
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stderr = "";
  readonly ready: Promise<void>;
  readonly result: Promise<Json>;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(name: string, cmd: string[], env?: Record<string, string>) {
    this.name = name;
    this.#child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: ROOT,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    live.add(this);
    this.#stdin = this.#child.stdin.getWriter();
    this.status = this.#child.status.finally(() => live.delete(this));
    const ready = Promise.withResolvers<void>();
    const result = Promise.withResolvers<Json>();
    this.ready = ready.promise;
    this.result = result.promise;
    // Not every caller awaits both; a rejection is reported where it matters.
    this.ready.catch(() => {});
    this.result.catch(() => {});
    this.#pumpStdout(this.#child.stdout, ready, result);
    this.#pumpStderr(this.#child.stderr);
  }

  async #pumpStdout(
    stdout: ReadableStream<Uint8Array>,
    ready: PromiseWithResolvers<void>,
    result: PromiseWithResolvers<Json>,
  ): Promise<void> {
    let buf = "";
    for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        try {
          const j = JSON.parse(line) as Json;
          if (j.event === "ready") ready.resolve();
          else if (j.event === "result") result.resolve(j);
        } catch { /* not ours */ }
      }
    }
    const status = await this.status;
    const err = new Error(`${this.name} exited (${status.code}) ${this.stderrTail()}`.trim());
    ready.reject(err);
    result.reject(err);
  }

  async #pumpStderr(stderr: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stderr.pipeThrough(new TextDecoderStream())) {
      this.#stderr = (this.#stderr + chunk).slice(-2000);
    }
  }

  stderrTail(): string {
    const lines = this.#stderr.trim().split("\n").filter((l) => !l.includes("npm warn"));
    return lines.slice(-3).join(" | ").slice(0, 300);
  }

  /** Tells a sender or echo server that the receiving side is done. */
  async closeStdin(): Promise<void> {
    try {
      await this.#stdin.close();
    } catch { /* already gone */ }
  }

  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already exited */ }
  }
}

function killAll(): void {
  for (const p of live) p.kill();
}

/** Resolves with `p`, or rejects after `ms` with a message naming what timed out. */
function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timeout: ${what} after ${ms / 1000}s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- scenarios

type Kind = "thr" | "rtt" | "fanout" | "router" | "idle";

interface ProcSpec {
  role: string;
  /**
   * Which implementation runs it: the one under test ("self"), the one under
   * test without the native transport ("base": native runs default
   * Monocoque there), or a fixed one.
   */
  impl: Impl | "self" | "base";
  args: string[];
  /** 1: started first (binds); 2: started once every 1 is ready. */
  order: 1 | 2;
  /** Holders keep their socket open until the others reported (stdin closed). */
  holds: boolean;
}

interface Scenario {
  id: string;
  kind: Kind;
  label: string;
  /** Processes for one run with `count` messages on endpoint `ep`. */
  plan(ep: string, count: number): ProcSpec[];
  /** Initial guess of the rate that `count` scales with, per second. */
  prior: Record<Impl, number>;
  /** Smallest and largest sensible count. */
  bounds: [number, number];
  /** Implementations that run it (default DEFAULT_IMPLS). */
  impls?: Impl[];
  /** Environment of its processes beyond the runner's own (BENCH_CURVE: see curveScenarios). */
  env?: () => Record<string, string>;
}

const WITH_NATIVE: Impl[] = [...DEFAULT_IMPLS, "native"];
/** ROUTER scenario: DEALERs in all, load processes, and requests in flight per DEALER. */
const ROUTER_DEALERS = 100;
const ROUTER_PROCS = 4;
const ROUTER_WINDOW = 10; // WINDOW in bench/c/zmq_bench.c

const SIZES = [16, 256, 4096, 65536];
const THR_PRIOR: Record<number, Record<Impl, number>> = {
  16: { libzmq: 3e6, zeromqjs: 1.5e5, monocoque: 1.5e6, native: 1.5e6 },
  256: { libzmq: 1.2e6, zeromqjs: 1.3e5, monocoque: 8e5, native: 8e5 },
  4096: { libzmq: 2e5, zeromqjs: 1e5, monocoque: 1e5, native: 1e5 },
  65536: { libzmq: 2e4, zeromqjs: 1.5e4, monocoque: 1.5e4, native: 1.5e4 },
};

function scenarios(idleConnections: number): Scenario[] {
  const list: Scenario[] = [];
  for (const transport of ["tcp", "ipc"]) {
    for (const size of SIZES) {
      list.push({
        id: `thr-${transport}-${size}`,
        kind: "thr",
        label: `PUSH→PULL ${transport} ${fmtSize(size)}`,
        plan: (ep, count) => [
          {
            role: "receiver",
            impl: "self",
            args: ["pull_recv", `@${ep}`, `${count}`],
            order: 1,
            holds: false,
          },
          {
            role: "sender",
            impl: "self",
            args: ["push_send", `>${ep}`, `${count}`, `${size}`],
            order: 2,
            holds: true,
          },
        ],
        prior: THR_PRIOR[size],
        bounds: [2000, 20_000_000],
        impls: transport === "tcp" ? WITH_NATIVE : DEFAULT_IMPLS,
      });
    }
  }
  for (
    const [pattern, server, client] of [["REQ/REP", "rep_echo", "req_rtt"], [
      "DEALER/ROUTER",
      "router_echo",
      "dealer_rtt",
    ]]
  ) {
    for (const size of [16, 4096]) {
      list.push({
        id: `rtt-${client.split("_")[0]}-${size}`,
        kind: "rtt",
        label: `${pattern} tcp ${fmtSize(size)}`,
        plan: (ep, count) => [
          {
            role: "server",
            impl: "self",
            args: [server, `@${ep}`, "0", `${size}`],
            order: 1,
            holds: true,
          },
          {
            role: "client",
            impl: "self",
            args: [client, `>${ep}`, `${count}`, `${size}`],
            order: 2,
            holds: false,
          },
        ],
        prior: { libzmq: 12000, zeromqjs: 6000, monocoque: 8000, native: 8000 },
        bounds: [500, 200_000],
        impls: client === "req_rtt" ? WITH_NATIVE : DEFAULT_IMPLS,
      });
    }
  }
  for (const nsubs of [1, 10, 100]) {
    // Subscribers of one implementation, at most 10 SUB sockets per process to fit 2 cores.
    const nprocs = Math.ceil(nsubs / 10);
    const perProc = nsubs / nprocs;
    list.push({
      id: `fanout-${nsubs}`,
      kind: "fanout",
      label: `PUB→${nsubs} SUB tcp 16 B`,
      plan: (ep, count) => {
        const perSub = Math.max(1, Math.round(count / nsubs));
        return [
          {
            role: "publisher",
            impl: "self",
            args: ["pub_send", `@${ep}`, `${perSub}`, "16", `${nsubs}`],
            order: 1,
            holds: true,
          },
          // The native run's subscribers are default Monocoque: only its publisher is native.
          ...Array.from({ length: nprocs }, (_, i): ProcSpec => ({
            role: `subscribers${i}`,
            impl: "base",
            args: ["sub_recv", `>${ep}`, `${perSub}`, `${perProc}`],
            order: 2,
            holds: false,
          })),
        ];
      },
      prior: { libzmq: 2.5e6, zeromqjs: 1.5e5, monocoque: 3e5, native: 3e5 },
      bounds: [Math.max(200, nsubs * 20), 50_000_000],
      impls: WITH_NATIVE,
    });
  }
  list.push(...curveScenarios(list));
  list.push({
    id: `router-${ROUTER_DEALERS}`,
    kind: "router",
    label: `ROUTER ← ${ROUTER_DEALERS} DEALERs tcp 16 B`,
    // One ROUTER echo of the implementation under test; the load is always
    // libzmq: ROUTER_PROCS processes of DEALERs, each DEALER with
    // ROUTER_WINDOW requests in flight.
    plan: (ep, count) => [
      {
        role: "server",
        impl: "self",
        args: ["router_echo", `@${ep}`, "0", "16"],
        order: 1,
        holds: true,
      },
      ...Array.from({ length: ROUTER_PROCS }, (_, i): ProcSpec => ({
        role: `load${i}`,
        impl: "libzmq",
        args: [
          "dealers_load",
          `>${ep}`,
          `${Math.max(1, Math.round(count / ROUTER_PROCS))}`,
          "16",
          `${ROUTER_DEALERS / ROUTER_PROCS}`,
        ],
        order: 2,
        holds: false,
      })),
    ],
    prior: { libzmq: 2.5e5, zeromqjs: 5e4, monocoque: 8e4, native: 8e4 },
    bounds: [ROUTER_DEALERS * ROUTER_WINDOW * 4, 50_000_000],
    impls: WITH_NATIVE,
  });
  list.push({
    id: "idle-conns",
    kind: "idle",
    label: `memory per idle connection (${idleConnections} peers)`,
    plan: (ep) => [
      {
        role: "server",
        impl: "self",
        args: ["idle_router", `@${ep}`, `${idleConnections}`],
        order: 1,
        holds: false,
      },
      // The peers are always libzmq: only the server side is measured.
      {
        role: "peers",
        impl: "libzmq",
        args: ["idle_dealers", `>${ep}`, `${idleConnections}`],
        order: 2,
        holds: true,
      },
    ],
    prior: { libzmq: 1, zeromqjs: 1, monocoque: 1, native: 1 },
    bounds: [1, 1],
  });
  return list;
}

/**
 * CURVE copies of PUSH→PULL tcp 16 B and 64 KiB and REQ/REP tcp 16 B: the same
 * processes with BENCH_CURVE set to a server and a client key pair (four Z85
 * keys), which every harness reads (bench/_curve.mjs, curve_opts in
 * bench/c/zmq_bench.c); the binding socket is the CURVE server. No ZAP handler.
 */
function curveScenarios(plain: Scenario[]): Scenario[] {
  const prior: Record<string, Record<Impl, number>> = {
    "thr-tcp-16": { libzmq: 8e5, zeromqjs: 1.2e5, monocoque: 1.5e5, native: 1.5e5 },
    "thr-tcp-65536": { libzmq: 1e4, zeromqjs: 8e3, monocoque: 2e3, native: 2e3 },
    "rtt-req-16": { libzmq: 10000, zeromqjs: 5000, monocoque: 5000, native: 5000 },
  };
  return plain.filter((s) => s.id in prior).map((s) => ({
    ...s,
    id: `curve-${s.id}`,
    label: `CURVE ${s.label}`,
    prior: prior[s.id],
    impls: DEFAULT_IMPLS,
    env: () => ({ BENCH_CURVE: curveKeys() }),
  }));
}

let curveKeysCache = "";
/** BENCH_CURVE: server public, server secret, client public, client secret (set in main). */
function curveKeys(): string {
  if (!curveKeysCache) throw new Error("CURVE keys were not generated");
  return curveKeysCache;
}

function command(impl: Impl, args: string[]): string[] {
  switch (impl) {
    case "libzmq":
      return [C_BIN, ...args];
    case "zeromqjs":
      return ["node", `${NODE_DIR}/zmq_bench.mjs`, ...args];
    case "monocoque":
      return [Deno.execPath(), "run", "-A", "--quiet", `${ROOT}/bench/monocoque_bench.ts`, ...args];
    case "native":
      return [
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        `${ROOT}/bench/monocoque_bench.ts`,
        "--native",
        ...args,
      ];
  }
}

let endpointSeq = 0;
async function endpoint(transport: string): Promise<{ ep: string; cleanup: () => void }> {
  if (transport === "ipc") {
    const path = `/tmp/monocoque-bench-${Deno.pid}-${++endpointSeq}.sock`;
    const cleanup = () => Deno.remove(path).catch(() => {});
    await cleanup();
    return { ep: `ipc://${path}`, cleanup: () => void cleanup() };
  }
  // A port the kernel just handed out and we released: free for the next few ms.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return { ep: `tcp://127.0.0.1:${port}`, cleanup: () => {} };
}

interface RunOutcome {
  ok: boolean;
  error?: string;
  metrics: Record<string, number>;
  rss: Record<string, number>;
  count: number;
  wallSecs: number;
}

/** Runs one scenario once for one implementation; never throws, never hangs. */
async function runOnce(
  s: Scenario,
  impl: Impl,
  count: number,
  timeoutMs: number,
): Promise<RunOutcome> {
  const transport = s.id.includes("-ipc-") ? "ipc" : "tcp";
  const { ep, cleanup } = await endpoint(transport);
  const specs = s.plan(ep, count);
  const procs: [ProcSpec, Proc][] = [];
  const start = performance.now();
  const outcome: RunOutcome = { ok: false, metrics: {}, rss: {}, count, wallSecs: 0 };
  const startAll = (order: 1 | 2) => {
    for (const spec of specs.filter((p) => p.order === order)) {
      const who = spec.impl === "self"
        ? impl
        : spec.impl === "base"
        ? (impl === "native" ? "monocoque" : impl)
        : spec.impl;
      const name = `${who} ${spec.args[0]}`;
      procs.push([spec, new Proc(name, command(who, spec.args), s.env?.())]);
    }
    return Promise.all(
      procs.filter(([sp]) => sp.order === order).map(([, p]) =>
        deadline(p.ready, 30_000, `${p.name} ready`)
      ),
    );
  };
  try {
    await startAll(1);
    await startAll(2);
    const finishers = procs.filter(([sp]) => !sp.holds);
    const results = new Map<string, Json>();
    await Promise.all(finishers.map(async ([sp, p]) => {
      results.set(sp.role, await deadline(p.result, timeoutMs, `${p.name} result`));
    }));
    const holders = procs.filter(([sp]) => sp.holds);
    for (const [, p] of holders) await p.closeStdin();
    await Promise.all(holders.map(async ([sp, p]) => {
      try {
        results.set(sp.role, await deadline(p.result, 10_000, `${p.name} result`));
      } catch (err) {
        console.error(`  warning: ${(err as Error).message}`);
      }
    }));
    for (const [role, r] of results) {
      if (typeof r.rss_peak_kb === "number") outcome.rss[role] = r.rss_peak_kb;
    }
    outcome.metrics = metricsOf(s, [...results.entries()]);
    outcome.ok = true;
  } catch (err) {
    outcome.error = (err as Error).message.slice(0, 300);
    for (const [, p] of procs) {
      const tail = p.stderrTail();
      if (tail && !outcome.error.includes(tail)) outcome.error += ` [${p.name}: ${tail}]`;
    }
  } finally {
    for (const [, p] of procs) p.kill();
    await Promise.all(procs.map(([, p]) => deadline(p.status, 5000, "exit").catch(() => {})));
    cleanup();
  }
  outcome.wallSecs = (performance.now() - start) / 1000;
  return outcome;
}

/** Turns the harness results of one run into the scenario's figures; throws on losses. */
function metricsOf(s: Scenario, results: [string, Json][]): Record<string, number> {
  const get = (role: string) => results.find(([r]) => r === role)?.[1];
  switch (s.kind) {
    case "thr": {
      const r = get("receiver")!;
      if (r.count !== r.expected) throw new Error(`receiver got ${r.count} of ${r.expected}`);
      return { msgs_per_s: +r.msgs_per_s, mb_per_s: +r.mb_per_s, rate: +r.msgs_per_s };
    }
    case "rtt": {
      const r = get("client")!;
      return {
        p50_us: +r.p50_us,
        p99_us: +r.p99_us,
        p999_us: +r.p999_us,
        mean_us: +r.mean_us,
        rate: +r.rtt_per_s,
      };
    }
    case "fanout":
    case "router": {
      const prefix = s.kind === "fanout" ? "subscribers" : "load";
      const subs = results.filter(([role]) => role.startsWith(prefix)).map(([, r]) => r);
      const got = subs.reduce((n, r) => n + +r.count, 0);
      const expected = subs.reduce((n, r) => n + +r.expected, 0);
      const first = Math.min(...subs.map((r) => +r.t_first_us));
      const last = Math.max(...subs.map((r) => +r.t_last_us));
      const secs = (last - first) / 1e6;
      if (got !== expected) {
        throw new Error(
          `lossy: ${prefix} got ${got} of ${expected} (${(100 * got / expected).toFixed(1)} %)`,
        );
      }
      const rate = secs > 0 ? got / secs : 0;
      return { msgs_per_s: rate, rate };
    }
    case "idle": {
      const r = get("server")!;
      return { kb_per_conn: +r.bytes_per_conn / 1024, rate: 1 };
    }
  }
}

// ---------------------------------------------------------------- statistics and output

interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

function summarize(values: number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length };
}

function fmtSize(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

function fmtNum(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e7 ? 1 : 2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  if (x >= 100) return x.toFixed(0);
  return x.toFixed(1);
}

function cell(s: Summary | undefined, runs: number): string {
  if (!s) return "failed";
  const spread = s.n > 1 ? ` [${fmtNum(s.min)}..${fmtNum(s.max)}]` : "";
  const failed = s.n < runs ? ` (${runs - s.n} failed)` : "";
  return `${fmtNum(s.median)}${spread}${failed}`;
}

function ratio(a: Summary | undefined, b: Summary | undefined): string {
  return a && b && b.median > 0 ? `${(a.median / b.median).toFixed(2)}×` : "–";
}

interface Metric {
  key: string;
  label: string;
  better: "higher" | "lower";
}

const METRICS: Record<Kind, Metric[]> = {
  thr: [{ key: "msgs_per_s", label: "msgs/s", better: "higher" }],
  rtt: [
    { key: "p50_us", label: "RTT p50 µs", better: "lower" },
    { key: "p99_us", label: "RTT p99 µs", better: "lower" },
    { key: "p999_us", label: "RTT p99.9 µs", better: "lower" },
  ],
  fanout: [{ key: "msgs_per_s", label: "delivered msgs/s", better: "higher" }],
  router: [{ key: "msgs_per_s", label: "round trips/s", better: "higher" }],
  idle: [{ key: "kb_per_conn", label: "KiB/conn", better: "lower" }],
};

/** A Markdown table; the first two columns are text, the rest are figures. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const left = (i: number) => i < 2;
  const line = (r: string[]) =>
    `| ${r.map((c, i) => left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" | ")} |`;
  const sep = `|${
    widths.map((w, i) => left(i) ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":").join("|")
  }|`;
  return [line(header), sep, ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------- setup

async function run(
  cmd: string[],
  opts: Deno.CommandOptions = {},
): Promise<{ ok: boolean; out: string }> {
  try {
    const o = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      ...opts,
    }).output();
    const dec = new TextDecoder();
    return { ok: o.success, out: (dec.decode(o.stdout) + dec.decode(o.stderr)).trim() };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

async function mtime(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch {
    return -1;
  }
}

/** Makes each implementation runnable; returns why the ones that are not, are not. */
async function prepare(impls: Impl[]): Promise<Map<Impl, string>> {
  const problems = new Map<Impl, string>();
  {
    // The C harness is also the idle-connection peer of every implementation.
    const src = `${ROOT}/bench/c/zmq_bench.c`;
    if ((await mtime(C_BIN)) < (await mtime(src))) {
      await Deno.mkdir(BUILD, { recursive: true });
      const cc = Deno.env.get("CC") ?? "cc";
      const r = await run([cc, "-O2", "-Wall", "-o", C_BIN, src, "-lzmq"]);
      if (!r.ok) {
        problems.set("libzmq", `build failed (install libzmq3-dev): ${r.out.slice(0, 300)}`);
      }
    }
  }
  if (impls.includes("zeromqjs")) {
    if ((await mtime(`${NODE_DIR}/node_modules/zeromq/package.json`)) < 0) {
      console.error(`installing zeromq@${ZEROMQ_VERSION} into bench/node/node_modules ...`);
      const r = await run([
        "npm",
        "install",
        "--prefix",
        NODE_DIR,
        `zeromq@${ZEROMQ_VERSION}`,
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--no-package-lock",
      ]);
      if (!r.ok) problems.set("zeromqjs", `npm install failed: ${r.out.slice(-300)}`);
    }
    if (!problems.has("zeromqjs")) {
      const r = await run(["node", "-e", "require('zeromq')"], { cwd: NODE_DIR });
      if (!r.ok) {
        problems.set("zeromqjs", `zeromq.js does not load under Node: ${r.out.slice(0, 300)}`);
      }
    }
  }
  if (impls.includes("monocoque")) {
    const probe = `const m = await import("${ROOT}/mod.ts");` +
      `for (const n of ["PushSocket","PullSocket","ReqSocket","RepSocket","DealerSocket","RouterSocket","XPubSocket","SubSocket"])` +
      `if (typeof m[n] !== "function") throw new Error(n + " is not exported");`;
    const r = await run([Deno.execPath(), "eval", "--quiet", probe]);
    if (!r.ok) {
      problems.set("monocoque", `mod.ts does not load: ${r.out.split("\n").slice(0, 3).join(" ")}`);
    }
  }
  if (impls.includes("native")) {
    const why = problems.get("monocoque") ?? await prepareNative();
    if (why) problems.set("native", why);
  }
  return problems;
}

/** Builds the io_uring library if missing and checks that it loads; returns why not. */
async function prepareNative(): Promise<string | undefined> {
  const src = `${ROOT}/native/monocoque.c`;
  if ((await mtime(NATIVE_LIB)) < (await mtime(src))) {
    console.error("building native/build/libmonocoque.so (make -C native) ...");
    const r = await run(["make", "-C", "native"]);
    if (!r.ok) return `make -C native failed: ${r.out.slice(-300)}`;
  }
  const probe = `import { probeNative } from "${ROOT}/ffi/mod.ts";` +
    `const p = probeNative(); if (!p.available) { console.log(p.reason); Deno.exit(3); }`;
  const r = await run([Deno.execPath(), "eval", "--quiet", probe]);
  if (!r.ok) return `the native transport cannot load: ${r.out.split("\n").slice(0, 3).join(" ")}`;
  return undefined;
}

async function versions(): Promise<Record<string, string>> {
  const v: Record<string, string> = { deno: Deno.version.deno };
  v.node = (await run(["node", "--version"])).out;
  v.libzmq = (await run(["pkg-config", "--modversion", "libzmq"])).out;
  v.zeromqjs = (await run([
    "node",
    "-e",
    "const z=require('zeromq');console.log(require('zeromq/package.json').version+' (libzmq '+z.version+')')",
  ], { cwd: NODE_DIR })).out;
  v.monocoque = (await run(["git", "rev-parse", "--short", "HEAD"])).out;
  v.kernel = (await run(["uname", "-r"])).out;
  v.cpus = String(navigator.hardwareConcurrency);
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    v.cpu = info.match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? "unknown";
  } catch {
    v.cpu = "unknown";
  }
  return v;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseArgs(Deno.args);
  if (o.micro) {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["bench", "-A", "src/"],
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    Deno.exit(r.code);
  }
  Deno.addSignalListener("SIGINT", () => {
    killAll();
    Deno.exit(130);
  });
  const problems = await prepare(o.only);
  const impls = o.only.filter((i) => !problems.has(i));
  for (const [impl, why] of problems) console.error(`${LABEL[impl]} skipped: ${why}`);
  if (!impls.length) Deno.exit(1);
  const all = scenarios(o.idleConnections).filter((s) =>
    o.filter.length === 0 || o.filter.some((f) => s.id.includes(f))
  );
  if (all.some((s) => s.env)) {
    // Fresh key pairs for this run, made by Monocoque (mod.ts exports curveKeyPair).
    const { curveKeyPair } = await import("../mod.ts");
    const [server, client] = [curveKeyPair(), curveKeyPair()];
    curveKeysCache = [server.publicKey, server.secretKey, client.publicKey, client.secretKey]
      .join(" ");
  }
  const meta = {
    date: new Date().toISOString(),
    runs: o.runs,
    secs: o.secs,
    versions: await versions(),
  };
  console.log(
    `side-by-side: ${
      impls.map((i) => LABEL[i]).join(", ")
    }; ${o.runs} run(s) each, ~${o.secs}s per run`,
  );
  console.log(Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(", "));

  const estimate = new Map<string, number>();
  const raw: Record<string, Record<string, RunOutcome[]>> = {};
  for (const s of all) {
    raw[s.id] = {};
    const here = impls.filter((i) => (s.impls ?? DEFAULT_IMPLS).includes(i));
    for (let r = 0; r < o.runs; r++) {
      // Interleaved, with the order rotated each run so no implementation always goes first.
      const order = here.map((_, i) => here[(i + r) % here.length]);
      for (const impl of order) {
        const key = `${s.id}/${impl}`;
        const rate = estimate.get(key) ?? s.prior[impl];
        const count = Math.round(Math.min(s.bounds[1], Math.max(s.bounds[0], rate * o.secs)));
        const expectSecs = count / rate;
        const timeoutMs = 1000 * (o.timeoutSecs ?? Math.max(20, 8 * expectSecs));
        const out = await runOnce(s, impl, count, timeoutMs);
        (raw[s.id][impl] ??= []).push(out);
        if (out.ok && out.metrics.rate > 0) estimate.set(key, out.metrics.rate);
        const shown = METRICS[s.kind].map((m) => `${m.label} ${fmtNum(out.metrics[m.key] ?? 0)}`)
          .join(", ");
        console.error(
          `  ${s.id.padEnd(14)} ${LABEL[impl].padEnd(18)} run ${r + 1}: ` +
            (out.ok ? shown : `FAILED ${out.error}`) + ` (${out.wallSecs.toFixed(1)}s, n=${count})`,
        );
      }
    }
  }

  // Tables.
  const summary: Record<string, Record<string, Record<string, Summary | undefined>>> = {};
  const header = ["scenario", "metric", ...impls.map((i) => LABEL[i])];
  // Ratio columns [numerator, denominator].
  const ratios: [Impl, Impl][] = [];
  for (const i of impls) if (i !== "libzmq" && impls.includes("libzmq")) ratios.push([i, "libzmq"]);
  if (impls.includes("monocoque") && impls.includes("zeromqjs")) {
    ratios.push(["monocoque", "zeromqjs"]);
  }
  if (impls.includes("native") && impls.includes("monocoque")) ratios.push(["native", "monocoque"]);
  for (const [a, b] of ratios) header.push(`${SHORT[a]}/${SHORT[b]}`);
  const rows: string[][] = [];
  for (const s of all) {
    summary[s.id] = {};
    for (const m of METRICS[s.kind]) {
      const byImpl = Object.fromEntries(impls.map((i) => [
        i,
        summarize((raw[s.id][i] ?? []).filter((x) => x.ok).map((x) => x.metrics[m.key])),
      ])) as Record<Impl, Summary | undefined>;
      summary[s.id][m.key] = byImpl;
      const row = [
        s.label,
        m.label,
        ...impls.map((i) => raw[s.id][i] ? cell(byImpl[i], o.runs) : "–"),
      ];
      for (const [a, b] of ratios) row.push(ratio(byImpl[a], byImpl[b]));
      rows.push(row);
    }
  }
  console.log(
    "\nmedian [min..max] of the runs; ratio = implementation ÷ reference (msgs/s: higher is better; µs and KiB: lower is better)\n",
  );
  console.log(table(header, rows));

  // Peak RSS per process role, MiB.
  const rssRows: string[][] = [];
  for (const s of all) {
    const roles = new Set<string>();
    for (const i of impls) {
      for (const x of raw[s.id][i] ?? []) {
        Object.keys(x.rss).forEach((k) => roles.add(k.replace(/\d+$/, "")));
      }
    }
    const row = [s.label, [...roles].join("/")];
    for (const i of impls) {
      const parts = [...roles].map((role) => {
        const v = summarize(
          (raw[s.id][i] ?? []).filter((x) => x.ok).map((x) =>
            Math.max(
              ...Object.entries(x.rss).filter(([k]) => k.replace(/\d+$/, "") === role).map((
                [, kb],
              ) => kb),
            )
          ).filter(Number.isFinite),
        );
        return v ? (v.median / 1024).toFixed(0) : "–";
      });
      row.push(raw[s.id][i] ? parts.join(" / ") : "–");
    }
    rssRows.push(row);
  }
  console.log("\npeak RSS per process (VmHWM, MiB, median; largest process of a role)\n");
  console.log(table(["scenario", "roles", ...impls.map((i) => LABEL[i])], rssRows));

  await Deno.mkdir(o.out.replace(/\/[^/]*$/, ""), { recursive: true });
  await Deno.writeTextFile(o.out, JSON.stringify({ meta, summary, raw }, null, 1) + "\n");
  console.log(`\nraw figures: ${o.out.replace(`${ROOT}/`, "")}`);
}

try {
  await main();
} finally {
  killAll();
}
