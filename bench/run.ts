/**
 * Side-by-side benchmark runner (`deno task bench`): Monocoque against libzmq
 * (small C programs, bench/c/) and zeromq.js (under Node, bench/node/), each
 * peer a separate process over loopback, the implementations interleaved
 * within one run so that the machine's noise hits them alike. A fourth
 * implementation, "Monocoque (native)", is Monocoque with the io_uring
 * transport of ffi/ on every socket of the process under test; it runs in the
 * scenarios where issue 5 sets it a target (tcp throughput, REQ/REP, PUB
 * fan-out, ROUTER with 100 DEALERs).
 * Prints medians with their min..max spread, the ratios between
 * implementations and how noisy each row was (load average before and after
 * the scenario, max/min of the runs), and writes every raw figure to
 * bench/results/latest.json.
 *
 * The scenarios are in bench/scenarios/ (one file per family, registered in
 * bench/scenarios/mod.ts); building, spawning, deadlines and statistics in
 * bench/_runner/.
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
 *   [--only=libzmq,zeromqjs,monocoque,native] [--filter=thr-tcp,rtt,idiom,gc,fanout,pub-100,router,idle]
 *   [--timeout S] [--out FILE] [--micro]
 *
 * @module
 */

import { ALL_IMPLS, DEFAULT_IMPLS, type Impl, LABEL, ROOT, SHORT } from "./_runner/impls.ts";
import { loadAverage, prepare, versions } from "./_runner/prepare.ts";
import { killAll } from "./_runner/proc.ts";
import { runOnce, type RunOutcome } from "./_runner/run_once.ts";
import {
  cell,
  fmtLoad,
  fmtNum,
  fmtSpread,
  NOISY_SPREAD,
  ratio,
  spreadOf,
  summarize,
  type Summary,
  table,
} from "./_runner/summary.ts";
import type { Scenario } from "./_runner/types.ts";
import { scenarios } from "./scenarios/mod.ts";

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

/** The scenarios `--filter` selects, plus the ones they are read against. */
function select(all: Scenario[], filter: string[]): Scenario[] {
  if (filter.length === 0) return all;
  const picked = new Set(all.filter((s) => filter.some((f) => s.id.includes(f))).map((s) => s.id));
  for (const s of all) if (picked.has(s.id) && s.reference) picked.add(s.reference);
  return all.filter((s) => picked.has(s.id));
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseArgs(Deno.args);
  if (o.micro) {
    // Every Deno.bench under src/, src/socket/receive_bench.ts (decode → inbox → idiom) among them.
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
  const all = select(scenarios({ idleConnections: o.idleConnections }), o.filter);
  for (const before of new Set(all.flatMap((s) => s.before ? [s.before] : []))) await before();
  const meta = {
    date: new Date().toISOString(),
    runs: o.runs,
    secs: o.secs,
    versions: await versions(),
  };
  const cores = navigator.hardwareConcurrency;
  console.log(
    `side-by-side: ${
      impls.map((i) => LABEL[i]).join(", ")
    }; ${o.runs} run(s) each, ~${o.secs}s per run`,
  );
  console.log(Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(", "));

  const idWidth = Math.max(14, ...all.map((s) => s.id.length));
  const estimate = new Map<string, number>();
  const raw: Record<string, Record<string, RunOutcome[]>> = {};
  /** 1-minute load average before and after each scenario. */
  const load: Record<string, [number, number]> = {};
  for (const s of all) {
    raw[s.id] = {};
    const loadBefore = loadAverage();
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
        const shown = s.metrics.map((m) => `${m.label} ${fmtNum(out.metrics[m.key] ?? 0)}`)
          .join(", ");
        console.error(
          `  ${s.id.padEnd(idWidth)} ${LABEL[impl].padEnd(18)} run ${r + 1}: ` +
            (out.ok ? shown : `FAILED ${out.error}`) + ` (${out.wallSecs.toFixed(1)}s, n=${count})`,
        );
      }
    }
    load[s.id] = [loadBefore, loadAverage()];
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
  header.push("spread", "load 1m");
  const rows: string[][] = [];
  for (const s of all) {
    summary[s.id] = {};
    for (const m of s.metrics) {
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
      row.push(fmtSpread(spreadOf(Object.values(byImpl))), fmtLoad(...load[s.id], cores));
      rows.push(row);
    }
  }
  console.log(
    "\nmedian [min..max] of the runs; ratio = implementation ÷ reference (msgs/s: higher is better; µs, KiB and GC: lower is better)\n",
  );
  console.log(table(header, rows));
  console.log(
    `\nspread: the largest max/min of one implementation's runs on the row ("!" above ${NOISY_SPREAD}×: ` +
      `differences of that size are noise; "–" with one run). load 1m: the 1-minute load average ` +
      `before → after the scenario ("!" above the ${cores} cores: other work shared the machine). ` +
      `GC rows: per 10 000 round trips.`,
  );

  // Rows read against another row (idioms against the await receive() loop).
  const refRows: string[][] = [];
  for (const s of all) {
    if (!s.reference || !summary[s.reference]) continue;
    const m = s.metrics[0].key;
    const mine = summary[s.id][m];
    const ref = summary[s.reference][m];
    refRows.push([
      s.label,
      s.metrics[0].label,
      mine.monocoque ? fmtNum(mine.monocoque.median) : "–",
      ratio(mine.monocoque, ref.monocoque),
      ratio(mine.monocoque, mine.libzmq),
    ]);
  }
  if (refRows.length) {
    console.log(
      "\nidioms: Monocoque's median against its `await receive()` / `await send()` loop row " +
        "(PUSH→PULL of the same size, run earlier) and against libzmq (run beside the idiom)\n",
    );
    console.log(table(
      ["scenario", "metric", "Monocoque", "÷ loop", "÷ libzmq"],
      refRows,
    ));
  }

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
  await Deno.writeTextFile(o.out, JSON.stringify({ meta, load, summary, raw }, null, 1) + "\n");
  console.log(`\nraw figures: ${o.out.replace(`${ROOT}/`, "")}`);
}

try {
  await main();
} finally {
  killAll();
}
