/**
 * Monocoque on each runtime, side by side (`deno task bench:runtimes`):
 * PUSH→PULL over tcp with 16 B and 64 KiB messages and REQ/REP round trips
 * of 16 B, with both peers of one implementation in separate processes:
 * Monocoque under Deno (bench/monocoque_bench.ts), under Node and under Bun
 * (bench/node/monocoque_bench.ts, bundled with the pinned esbuild into
 * bench/build/monocoque_node.mjs; tcp is the `node:net` transport there),
 * zeromq.js 6.8.0 under Node (bench/node/zmq_bench.mjs), and libzmq (the C
 * harness of `deno task bench`, when bench/build/zmq_bench is built).
 * Implementations are interleaved run by run so the machine's noise hits
 * them alike; medians with min..max, and ratios to Deno and to zeromq.js.
 *
 * Usage: deno run -A bench/runtimes.ts [--runs N] [--secs S] [--only=deno,node,bun,zeromqjs,libzmq]
 *
 * @module
 */

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const TOOLS = `${ROOT}/tools/node_modules`;
const BUNDLE = `${ROOT}/bench/build/monocoque_node.mjs`;
const C_BIN = `${ROOT}/bench/build/zmq_bench`;
const ZEROMQ_DIR = `${ROOT}/tests/interop/peers`; // tools/setup.sh installs zeromq@6.8.0 there

type Impl = "deno" | "node" | "bun" | "zeromqjs" | "libzmq";
const LABEL: Record<Impl, string> = {
  deno: "Deno",
  node: "Node",
  bun: "Bun",
  zeromqjs: "zeromq.js (Node)",
  libzmq: "libzmq",
};

interface Scenario {
  id: string;
  label: string;
  kind: "thr" | "rtt";
  size: number;
  /** A guess of each implementation's rate, to size a run to about --secs seconds. */
  prior: Record<Impl, number>;
}

const SCENARIOS: Scenario[] = [
  {
    id: "thr-16",
    label: "PUSH→PULL tcp 16 B",
    kind: "thr",
    size: 16,
    prior: { deno: 1.5e6, node: 1e6, bun: 1e6, zeromqjs: 1.5e5, libzmq: 3e6 },
  },
  {
    id: "thr-65536",
    label: "PUSH→PULL tcp 64 KiB",
    kind: "thr",
    size: 65536,
    prior: { deno: 1.5e4, node: 1.5e4, bun: 1.5e4, zeromqjs: 1.5e4, libzmq: 2e4 },
  },
  {
    id: "rtt-16",
    label: "REQ/REP tcp 16 B",
    kind: "rtt",
    size: 16,
    prior: { deno: 8000, node: 8000, bun: 8000, zeromqjs: 6000, libzmq: 12000 },
  },
];

function parseArgs(args: string[]): { runs: number; secs: number; only: Impl[] } {
  const o = { runs: 3, secs: 1.5, only: Object.keys(LABEL) as Impl[] };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => inline ?? args[++i];
    if (flag === "--runs") o.runs = Math.max(1, parseInt(value(), 10));
    else if (flag === "--secs") o.secs = parseFloat(value());
    else if (flag === "--only") o.only = value().split(",").map((s) => s.trim() as Impl);
    else throw new Error(`Unknown argument ${args[i]}`);
  }
  return o;
}

function command(impl: Impl, args: string[]): string[] {
  switch (impl) {
    case "deno":
      return [Deno.execPath(), "run", "-A", "--quiet", `${ROOT}/bench/monocoque_bench.ts`, ...args];
    case "node":
      return ["node", BUNDLE, ...args];
    case "bun":
      return [`${TOOLS}/.bin/bun`, BUNDLE, ...args];
    case "zeromqjs":
      return ["node", `${ROOT}/bench/node/zmq_bench.mjs`, ...args];
    case "libzmq":
      return [C_BIN, ...args];
  }
}

type Json = Record<string, number | string>;

/** One harness process: its JSON lines ("ready", then "result") as promises. */
class Proc {
  readonly ready: Promise<void>;
  readonly result: Promise<Json>;
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stderr = "";

  constructor(cmd: string[]) {
    const child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: ROOT,
      // zmq_bench.mjs requires zeromq from its own folder; give it the one setup.sh installed.
      env: { NODE_PATH: `${ZEROMQ_DIR}/node_modules` },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
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
        for (let nl; (nl = buf.indexOf("\n")) >= 0;) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line.startsWith("{")) continue;
          const j = JSON.parse(line) as Json;
          if (j.event === "ready") ready.resolve();
          else if (j.event === "result") result.resolve(j);
        }
      }
      const err = new Error(`${cmd.slice(0, 3).join(" ")} exited: ${this.#stderr.slice(-300)}`);
      ready.reject(err);
      result.reject(err);
    })();
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-2000);
      }
    })();
  }

  async closeStdin(): Promise<void> {
    try {
      await this.#stdin.close();
    } catch { /* gone */ }
  }

  async end(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* exited */ }
    await this.#child.status;
  }
}

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timeout: ${what} after ${ms / 1000}s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** One run: msgs/s for throughput, round trips/s and p50 µs for REQ/REP. */
async function runOnce(s: Scenario, impl: Impl, count: number): Promise<Json> {
  const ep = `tcp://127.0.0.1:${freePort()}`;
  const [first, second] = s.kind === "thr"
    ? [["pull_recv", `@${ep}`, `${count}`], ["push_send", `>${ep}`, `${count}`, `${s.size}`]]
    : [["rep_echo", `@${ep}`, "0", `${s.size}`], ["req_rtt", `>${ep}`, `${count}`, `${s.size}`]];
  const a = new Proc(command(impl, first));
  let b: Proc | undefined;
  try {
    await deadline(a.ready, 30_000, `${impl} ${first[0]} ready`);
    b = new Proc(command(impl, second));
    await deadline(b.ready, 30_000, `${impl} ${second[0]} ready`);
    const [done, holder] = s.kind === "thr" ? [a, b] : [b, a];
    const r = await deadline(done.result, 120_000, `${impl} result`);
    await holder.closeStdin();
    if (s.kind === "thr" && r.count !== r.expected) {
      throw new Error(`receiver got ${r.count} of ${r.expected}`);
    }
    return r;
  } finally {
    await a.end();
    await b?.end();
  }
}

function median(v: number[]): number {
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(x >= 100 ? 0 : 1);
}

async function prepare(only: Impl[]): Promise<Impl[]> {
  const usable: Impl[] = [];
  for (const impl of only) {
    if (impl === "node" || impl === "bun") {
      const { code, stderr } = await new Deno.Command(`${TOOLS}/.bin/esbuild`, {
        args: [
          `${ROOT}/bench/node/monocoque_bench.ts`,
          "--bundle",
          "--format=esm",
          "--platform=node",
          "--target=node20",
          `--outfile=${BUNDLE}`,
          "--log-level=error",
        ],
        env: { NODE_PATH: TOOLS },
      }).output();
      if (code !== 0) {
        console.error(
          `skip ${impl}: esbuild failed (run tools/setup.sh): ${new TextDecoder().decode(stderr)}`,
        );
        continue;
      }
    }
    if (impl === "libzmq") {
      try {
        await Deno.stat(C_BIN);
      } catch {
        console.error(
          "skip libzmq: bench/build/zmq_bench is not built (deno task bench builds it)",
        );
        continue;
      }
    }
    usable.push(impl);
  }
  return usable;
}

const o = parseArgs(Deno.args);
const impls = await prepare(o.only);
const results: Record<string, Record<string, number[]>> = {};
const p50: Record<string, Record<string, number[]>> = {};
for (const s of SCENARIOS) {
  results[s.id] = {};
  p50[s.id] = {};
  for (let run = 0; run < o.runs; run++) {
    for (const impl of impls) {
      const count = Math.max(s.kind === "thr" ? 2000 : 500, Math.round(s.prior[impl] * o.secs));
      try {
        const r = await runOnce(s, impl, count);
        const rate = s.kind === "thr" ? +r.msgs_per_s : +r.rtt_per_s;
        (results[s.id][impl] ??= []).push(rate);
        if (s.kind === "rtt") (p50[s.id][impl] ??= []).push(+r.p50_us);
        console.error(`${s.id} ${impl} run ${run + 1}: ${fmt(rate)}/s`);
      } catch (err) {
        console.error(`${s.id} ${impl} run ${run + 1} failed: ${(err as Error).message}`);
      }
    }
  }
}

const header = ["scenario", "figure", ...impls.map((i) => LABEL[i])];
const ratios = impls.filter((i) => i !== "deno").map((i) => `${LABEL[i]}/Deno`);
if (impls.includes("zeromqjs")) {
  for (const i of impls) if (i === "node" || i === "bun") ratios.push(`${LABEL[i]}/zeromq.js`);
}
const rows: string[][] = [];
for (const s of SCENARIOS) {
  const cell = (impl: Impl) => {
    const v = results[s.id][impl];
    return v?.length
      ? `${fmt(median(v))} [${fmt(Math.min(...v))}..${fmt(Math.max(...v))}]`
      : "failed";
  };
  const m = (impl: Impl) => results[s.id][impl]?.length ? median(results[s.id][impl]) : NaN;
  const r = (a: Impl, b: Impl) => {
    const x = m(a) / m(b);
    return Number.isFinite(x) ? `${x.toFixed(2)}×` : "–";
  };
  const row = [s.label, s.kind === "thr" ? "msgs/s" : "round trips/s", ...impls.map(cell)];
  for (const i of impls) if (i !== "deno") row.push(impls.includes("deno") ? r(i, "deno") : "–");
  if (impls.includes("zeromqjs")) {
    for (const i of impls) if (i === "node" || i === "bun") row.push(r(i, "zeromqjs"));
  }
  rows.push(row);
  if (s.kind === "rtt") {
    const p = (impl: Impl) =>
      p50[s.id][impl]?.length ? `${median(p50[s.id][impl]).toFixed(0)}` : "–";
    rows.push([s.label, "RTT p50 µs", ...impls.map(p), ...ratios.map(() => "")]);
  }
}
const all = [...header, ...ratios];
const widths = all.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(`${o.runs} interleaved runs each, medians [min..max]; higher is better\n`);
console.log([line(all), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
  .join("\n"));
await Deno.mkdir(`${ROOT}/bench/results`, { recursive: true });
await Deno.writeTextFile(
  `${ROOT}/bench/results/runtimes.json`,
  JSON.stringify({ date: new Date().toISOString(), runs: o.runs, results, p50 }, null, 2),
);
