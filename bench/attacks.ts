/**
 * Hostile-but-valid traffic, side by side (`deno task bench:attacks`): each
 * attack of issue 8 is run against a victim process of each implementation —
 * libzmq 4.3.4 through pyzmq (bench/attacks/victim_pyzmq.py) and Monocoque
 * under Deno (bench/attacks/victim_monocoque.ts) — by raw ZMTP 3.1 peers in
 * this process over 127.0.0.1. Memory is the victim's VmRSS growth read from
 * /proc/<pid>/status after a garbage collection (plus, for Monocoque,
 * heapUsed + external as the victim reports it), divided by the attack's
 * unit; stalls are the worst lateness of a 1 ms timer in the victim.
 *
 * Prints one table (attack | libzmq | Monocoque | ratio, medians of the runs,
 * implementations interleaved run by run) and writes every figure to
 * bench/results/attacks.json. A victim that dies is recorded as "crashed"
 * with its reason; the run goes on. Every wait is bounded and every victim is
 * killed when its run ends.
 *
 * Usage: deno run -A bench/attacks.ts [--runs N] [--quick] [--filter=ID,...]
 *   [--only=libzmq,monocoque] [--topic-mib N] [--topics N] [--out FILE]
 *
 * @module
 */
import { CrashedError, type Impl, killAll, Victim } from "./attacks/_victim.ts";
import { connectMany, handshaken, message, type RawPeer, subscribe } from "./attacks/_zmtp.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const IMPLS: Impl[] = ["libzmq", "monocoque"];
const LABEL: Record<Impl, string> = { libzmq: "libzmq", monocoque: "Monocoque" };
const KIB = 1024;
const MIB = 1024 * 1024;

interface Options {
  runs: number;
  filter: string[];
  only: Impl[];
  /** Total subscribed bytes of the topic attacks. */
  topicBytes: number;
  /** Stalled subscribers. */
  subscribers: number;
  /** Messages the victim publishes to its stalled subscribers. */
  published: number;
  /** Flooding peers. */
  flooders: number;
  /** Topics of the subscriber that leaves. */
  leaveTopics: number;
  /** Seconds the tight send loop runs. */
  loopSecs: number;
  out: string;
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    runs: 3,
    filter: [],
    only: [...IMPLS],
    topicBytes: MIB,
    subscribers: 500,
    published: 5000,
    flooders: 10,
    leaveTopics: 200_000,
    loopSecs: 1,
    out: `${ROOT}/bench/results/attacks.json`,
  };
  let quick = false;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--runs":
        o.runs = Math.max(1, parseInt(value(), 10));
        break;
      case "--quick":
        quick = true;
        break;
      case "--filter":
        o.filter = value().split(",").map((s) => s.trim()).filter(Boolean);
        break;
      case "--only":
        o.only = value().split(",").map((s) => s.trim().toLowerCase() as Impl);
        for (const impl of o.only) {
          if (!IMPLS.includes(impl)) throw new Error(`Unknown implementation ${impl}`);
        }
        break;
      case "--topic-mib":
        o.topicBytes = Math.round(parseFloat(value()) * MIB);
        break;
      case "--topics":
        o.leaveTopics = parseInt(value(), 10);
        break;
      case "--out":
        o.out = value();
        break;
      case "--help":
      case "-h":
        console.log(
          "deno task bench:attacks [--runs N] [--quick] [--filter=ID,...] [--only=libzmq,monocoque]\n" +
            "                        [--topic-mib N] [--topics N] [--out FILE]",
        );
        Deno.exit(0);
        break;
      default:
        throw new Error(`Unknown argument ${args[i]}`);
    }
  }
  if (quick) {
    if (!args.some((a) => a.startsWith("--runs"))) o.runs = 1;
    o.subscribers = 100;
    o.flooders = 4;
    if (!args.some((a) => a.startsWith("--topics"))) o.leaveTopics = 50_000;
    o.loopSecs = 0.3;
  }
  return o;
}

// ---------------------------------------------------------------- attacks

/** One figure of one run: the row's value, and Monocoque's heap + external per unit. */
interface Figures {
  value: number;
  heap?: number;
  [extra: string]: number | undefined;
}

interface Attack {
  id: string;
  label: string;
  /** Unit of the figure, e.g. "B/topic byte". */
  unit: string;
  /** Victim mode (see victim_monocoque.ts). */
  mode: string;
  run(v: Victim, peers: RawPeer[]): Promise<Figures>;
  /** Further figures of the same runs, each shown as a row of its own. */
  also?: { key: string; label: string; unit: string }[];
}

/** Memory growth between two samples, divided by `units`. */
function growth(
  before: { rss: number; heap: number },
  after: { rss: number; heap: number },
  units: number,
): Figures {
  return { value: (after.rss - before.rss) / units, heap: (after.heap - before.heap) / units };
}

/** Distinct topics of `size` bytes: a counter in the first bytes, filler after. */
function topics(count: number, size: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const t = new Uint8Array(size).fill(0x74);
    const digits = new TextEncoder().encode(String(i).padStart(Math.min(size, 8), "0"));
    t.set(digits.subarray(0, size));
    return t;
  });
}

/** Writes the messages in writes of about 1 MiB. */
async function writeBatched(peer: RawPeer, msgs: Uint8Array[]): Promise<void> {
  let batch: Uint8Array[] = [];
  let bytes = 0;
  const flush = async () => {
    if (!(await peer.write(concat(batch), 30_000))) throw new Error("victim stopped reading");
    batch = [];
    bytes = 0;
  };
  for (const m of msgs) {
    batch.push(m);
    bytes += m.length;
    if (bytes >= MIB) await flush();
  }
  if (batch.length) await flush();
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Waits for a victim counter; throws when it does not get there within `ms`. */
async function waitCount(v: Victim, name: string, n: number, ms: number): Promise<number> {
  const r = await v.ask(`wait ${name} ${n} ${ms}`, "count", ms + 10_000);
  const got = Number(r[name]);
  if (got < n) throw new Error(`victim counted ${got} of ${n} ${name} within ${ms / 1000}s`);
  return got;
}

/** SUBSCRIBEs `list` from one peer and returns memory per subscribed topic byte. */
async function subscribeAttack(v: Victim, peers: RawPeer[], list: Uint8Array[]): Promise<Figures> {
  const before = await v.memory();
  const peer = await handshaken(v.port, "SUB");
  peers.push(peer);
  await writeBatched(peer, list.map(subscribe));
  await waitCount(v, "subs", list.length, 60_000);
  await v.settle();
  const after = await v.memory();
  return growth(before, after, list.reduce((n, t) => n + t.length, 0));
}

/**
 * K peers each send one 200 KiB message (the attacker's way to grow read
 * buffers), then `size`-byte messages until the victim stops taking them
 * (a write not accepted within 300 ms) or 32 MiB were written.
 */
async function floodAttack(
  v: Victim,
  peers: RawPeer[],
  socketType: string,
  k: number,
  size: number,
): Promise<Figures> {
  const before = await v.memory();
  const opener = message(new Uint8Array(200 * KIB));
  const group = await connectMany(v.port, k, socketType, opener);
  peers.push(...group);
  const one = message(new Uint8Array(size));
  const chunk = concat(Array.from({ length: Math.ceil(64 * KIB / one.length) }, () => one));
  await Promise.all(group.map(async (p) => {
    while (p.written < 32 * MIB && (await p.write(chunk, 300))) { /* flood */ }
  }));
  await v.settle();
  const after = await v.memory();
  const stalled = group.filter((p) => p.stalled).length;
  const mib = group.reduce((n, p) => n + p.written, 0) / k / MIB;
  return { ...growth(before, after, k), stalled, mib_written_per_peer: mib };
}

/** The victim keeps what it receives; memory per kept message once the sender left. */
async function keepAttack(
  v: Victim,
  peers: RawPeer[],
  count: number,
  between: number,
): Promise<Figures> {
  const before = await v.memory();
  const total = between > 0 ? 2 * count : count;
  await v.ask(`keep ${total} 16`, "ok");
  const peer = await handshaken(v.port, "PUSH");
  peers.push(peer);
  const small = message(new Uint8Array(10).fill(0x6b));
  if (between > 0) {
    // Each kept message arrives after a large one the application drops.
    const pair = concat([message(new Uint8Array(between)), small]);
    for (let i = 0; i < count; i++) {
      if (!(await peer.write(pair, 10_000))) throw new Error("victim stopped reading");
    }
  } else {
    await writeBatched(peer, Array.from({ length: count }, () => small));
  }
  await waitCount(v, "kept", count, 30_000);
  peer.close();
  await v.settle();
  const after = await v.memory();
  return growth(before, after, count);
}

function attacks(o: Options): Attack[] {
  const mib = o.topicBytes / MIB;
  const kib1 = Math.max(1, Math.round(o.topicBytes / KIB));
  return [
    {
      id: "topic-long",
      label: `1 topic of ${mib} MiB subscribed (XPUB)`,
      unit: "B/topic byte",
      mode: "xpub",
      run: (v, peers) => subscribeAttack(v, peers, topics(1, o.topicBytes)),
    },
    {
      id: "topic-many",
      label: `${kib1} topics of 1 KiB subscribed (XPUB)`,
      unit: "B/topic byte",
      mode: "xpub",
      run: (v, peers) => subscribeAttack(v, peers, topics(kib1, KIB)),
    },
    {
      id: "stalled-subs",
      label: `${o.subscribers} subscribers never read, ${o.published} × 100 B published`,
      unit: "KiB/subscriber",
      mode: "xpub_verbose",
      async run(v, peers) {
        const before = await v.memory();
        peers.push(...await connectMany(v.port, o.subscribers, "SUB", EVERYTHING));
        await waitCount(v, "subs", o.subscribers, 30_000);
        const pub = await v.ask(`publish ${o.published} 100 100`, "published", 60_000);
        await v.settle();
        const after = await v.memory();
        const g = growth(before, after, o.subscribers * KIB);
        return { ...g, publish_secs: Number(pub.secs) };
      },
    },
    {
      id: "flood-pull-empty",
      label: `${o.flooders} peers flood empty messages, PULL never reads`,
      unit: "MiB/peer",
      mode: "pull",
      run: async (v, peers) => perMib(await floodAttack(v, peers, "PUSH", o.flooders, 0)),
    },
    {
      id: "flood-pull-1k",
      label: `${o.flooders} peers flood 1 KiB messages, PULL never reads`,
      unit: "MiB/peer",
      mode: "pull",
      run: async (v, peers) => perMib(await floodAttack(v, peers, "PUSH", o.flooders, KIB)),
    },
    {
      id: "flood-router-empty",
      label: `${o.flooders} peers flood empty messages, ROUTER never reads`,
      unit: "MiB/peer",
      mode: "router",
      run: async (v, peers) => perMib(await floodAttack(v, peers, "DEALER", o.flooders, 0)),
    },
    {
      id: "kept-burst",
      label: "10 000 × 10 B messages kept (one burst)",
      unit: "B/kept msg",
      mode: "pull",
      run: (v, peers) => keepAttack(v, peers, 10_000, 0),
    },
    {
      id: "kept-interleaved",
      label: "1000 × 10 B kept, each after a 100 KiB one dropped",
      unit: "KiB/kept msg",
      mode: "pull",
      run: async (v, peers) => perKib(await keepAttack(v, peers, 1000, 100 * KIB)),
    },
    {
      id: "stall-leave-many",
      label: `a subscriber with ${o.leaveTopics} topics of 8 B leaves (XPUB)`,
      unit: "worst stall ms",
      mode: "xpub",
      run: (v, peers) => leaveAttack(v, peers, topics(o.leaveTopics, 8)),
    },
    {
      id: "stall-leave-long",
      label: `a subscriber with 1 topic of ${mib} MiB leaves (XPUB)`,
      unit: "worst stall ms",
      mode: "xpub",
      run: (v, peers) => leaveAttack(v, peers, topics(1, o.topicBytes)),
    },
    {
      id: "stall-loop-reader",
      label: `tight send loop of 100 B for ${o.loopSecs} s, 1 reading subscriber`,
      unit: "worst stall ms",
      mode: "xpub",
      run: (v, peers) => loopAttack(v, peers, o.loopSecs, EVERYTHING),
      also: [
        { key: "sent", label: "… messages the loop sent", unit: "msgs" },
        { key: "delivered_pct", label: "… of which the reading subscriber got", unit: "%" },
        {
          key: "new_peer_ms",
          label: "… handshake of a peer connecting during the loop",
          unit: "ms",
        },
      ],
    },
    {
      id: "stall-loop-filtered",
      label: `tight send loop of 100 B for ${o.loopSecs} s, no subscriber matches`,
      unit: "worst stall ms",
      mode: "xpub",
      run: (v, peers) => loopAttack(v, peers, o.loopSecs, subscribe(new Uint8Array([0x7a]))),
      also: [
        { key: "sent", label: "… messages the loop sent", unit: "msgs" },
        {
          key: "new_peer_ms",
          label: "… handshake of a peer connecting during the loop",
          unit: "ms",
        },
      ],
    },
  ];
}

/** A subscriber SUBSCRIBEs `list`, then disconnects: the worst stall while the victim forgets it. */
async function leaveAttack(v: Victim, peers: RawPeer[], list: Uint8Array[]): Promise<Figures> {
  const peer = await handshaken(v.port, "SUB");
  peers.push(peer);
  const t0 = performance.now();
  await writeBatched(peer, list.map(subscribe));
  await waitCount(v, "subs", list.length, 120_000);
  const subscribeSecs = (performance.now() - t0) / 1000;
  await v.ask("stall_reset", "ok");
  const t1 = performance.now();
  peer.close();
  // XPUB passes each topic nobody wants any more on as an unsubscription.
  await waitCount(v, "unsubs", list.length, 60_000);
  const leaveSecs = (performance.now() - t1) / 1000;
  await new Promise((r) => setTimeout(r, 100));
  const s = await v.ask("stall", "stall");
  return { value: Number(s.worst_ms), subscribe_secs: subscribeSecs, leave_secs: leaveSecs };
}

/**
 * The victim sends messages of 100 B for `secs` seconds in a loop that only
 * awaits send(), to one raw subscriber that reads everything and has sent
 * `subscription` ("" matches every message; "z" none). Meanwhile a new peer
 * connects: how long until the victim answers its handshake.
 */
async function loopAttack(
  v: Victim,
  peers: RawPeer[],
  secs: number,
  subscription: Uint8Array,
): Promise<Figures> {
  const peer = await handshaken(v.port, "SUB");
  peers.push(peer);
  await peer.write(subscription);
  const drained = peer.drain(120_000);
  await waitCount(v, "subs", 1, 10_000);
  await v.ask("stall_reset", "ok");
  const looped = v.ask(`loop ${secs} 100`, "looped", 30_000 + 2000 * secs);
  // A newcomer, once the loop has surely started.
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  const newcomer = await handshaken(v.port, "SUB").then((p) => {
    peers.push(p);
    return performance.now() - t0;
  }, () => NaN);
  const r = await looped;
  const s = await v.ask("stall", "stall");
  // Let the subscriber take what is still on its way (quiet for 300 ms, at most 5 s).
  const end = performance.now() + 5000;
  for (let last = -1; peer.read !== last && performance.now() < end;) {
    last = peer.read;
    await new Promise((res) => setTimeout(res, 300));
  }
  peer.close();
  await drained;
  // Each message is 102 bytes on the wire (the handshake was read before).
  const delivered = Math.floor(peer.read / 102);
  const sent = Number(r.sent);
  return {
    value: Number(s.worst_ms),
    loop_secs: Number(r.secs),
    sent,
    delivered_pct: 100 * delivered / sent,
    new_peer_ms: newcomer,
  };
}

/** A subscription to everything. */
const EVERYTHING = subscribe(new Uint8Array(0));

function perMib(f: Figures): Figures {
  return { ...f, value: f.value / MIB, heap: (f.heap ?? NaN) / MIB };
}

function perKib(f: Figures): Figures {
  return { ...f, value: f.value / KIB, heap: (f.heap ?? NaN) / KIB };
}

// ---------------------------------------------------------------- runs

interface Outcome {
  ok: boolean;
  crashed?: string;
  error?: string;
  figures?: Figures;
  secs: number;
}

/** Runs one attack once against a fresh victim; never throws, never hangs. */
async function runOnce(a: Attack, impl: Impl): Promise<Outcome> {
  const t0 = performance.now();
  const peers: RawPeer[] = [];
  let victim: Victim | undefined;
  const outcome: Outcome = { ok: false, secs: 0 };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    victim = await Victim.start(impl, a.mode);
    const v = victim;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout: run exceeded 180 s")), 180_000);
    });
    outcome.figures = await Promise.race([a.run(v, peers), limit]);
    outcome.ok = true;
  } catch (err) {
    // A victim that died mid-attack is a crash, whatever error surfaced first.
    if (victim) await Promise.race([victim.status, new Promise((r) => setTimeout(r, 300))]);
    if (err instanceof CrashedError || victim?.exited) {
      outcome.crashed = victim?.crashReason() ?? (err as Error).message;
    } else {
      outcome.error = (err as Error).message.slice(0, 300);
    }
  } finally {
    clearTimeout(timer);
    await victim?.stop();
    for (const p of peers) p.close();
  }
  outcome.secs = (performance.now() - t0) / 1000;
  return outcome;
}

// ---------------------------------------------------------------- output

interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

function summarize(values: number[]): Summary | undefined {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length };
}

function fmt(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function cell(outs: Outcome[] | undefined, pick: (f: Figures) => number | undefined): string {
  if (!outs) return "–";
  const s = summarize(outs.filter((o) => o.ok).map((o) => pick(o.figures!) ?? NaN));
  const crashed = outs.filter((o) => o.crashed).length;
  const failed = outs.filter((o) => !o.ok && !o.crashed).length;
  const notes = [crashed && `${crashed} crashed`, failed && `${failed} failed`].filter(Boolean);
  if (!s) return crashed ? "crashed" : "failed";
  const spread = s.n > 1 ? ` [${fmt(s.min)}..${fmt(s.max)}]` : "";
  return `${fmt(s.median)}${spread}${notes.length ? ` (${notes.join(", ")})` : ""}`;
}

function ratio(x: number): string {
  return `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toPrecision(2)}×`;
}

function median(outs: Outcome[] | undefined, pick: (f: Figures) => number | undefined) {
  return summarize((outs ?? []).filter((o) => o.ok).map((o) => pick(o.figures!) ?? NaN))?.median;
}

/** A Markdown table; the first column is text, the rest are figures. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(" | ")} |`;
  const sep = `|${
    widths.map((w, i) => i < 2 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":").join("|")
  }|`;
  return [line(header), sep, ...rows.map(line)].join("\n");
}

async function git(args: string[]): Promise<string> {
  try {
    const o = await new Deno.Command("git", { args, cwd: ROOT, stdout: "piped", stderr: "null" })
      .output();
    return new TextDecoder().decode(o.stdout).trim();
  } catch {
    return "unknown";
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseArgs(Deno.args);
  const all = attacks(o).filter((a) =>
    o.filter.length === 0 || o.filter.some((f) => a.id.includes(f))
  );
  const meta = {
    date: new Date().toISOString(),
    runs: o.runs,
    options: { ...o, out: undefined },
    deno: Deno.version.deno,
    monocoque: await git(["rev-parse", "--short", "HEAD"]),
    libzmq: "pyzmq on /usr/bin/python3 (Debian libzmq 4.3.4)",
  };
  console.log(
    `attacks: ${o.only.map((i) => LABEL[i]).join(" vs ")}, ${o.runs} run(s) each; ` +
      `Monocoque ${meta.monocoque}, Deno ${meta.deno}`,
  );
  const raw: Record<string, Partial<Record<Impl, Outcome[]>>> = {};
  for (const a of all) {
    raw[a.id] = {};
    for (let r = 0; r < o.runs; r++) {
      // Interleaved, the order swapped each run.
      const order = o.only.map((_, i) => o.only[(i + r) % o.only.length]);
      for (const impl of order) {
        const out = await runOnce(a, impl);
        (raw[a.id][impl] ??= []).push(out);
        const extra = out.figures
          ? Object.entries(out.figures).filter(([k, x]) => k !== "value" && Number.isFinite(x))
            .map(([k, x]) => `${k} ${fmt(x!)}`).join(", ")
          : "";
        console.error(
          `  ${a.id.padEnd(18)} ${LABEL[impl].padEnd(9)} run ${r + 1}: ` +
            (out.ok
              ? `${fmt(out.figures!.value)} ${a.unit}${extra ? ` (${extra})` : ""}`
              : out.crashed
              ? `CRASHED ${out.crashed}`
              : `FAILED ${out.error}`) +
            ` [${out.secs.toFixed(1)}s]`,
        );
      }
    }
  }

  const header = [
    "attack",
    "unit",
    "libzmq",
    "Monocoque",
    "Monocoque/libzmq",
    "Monocoque heap+ext",
  ];
  const rows = all.flatMap((a) => {
    const row = (label: string, unit: string, pick: (f: Figures) => number | undefined) => {
      const lz = median(raw[a.id].libzmq, pick);
      const mq = median(raw[a.id].monocoque, pick);
      const isMemory = unit.includes("/");
      return [
        label,
        unit,
        cell(raw[a.id].libzmq, pick),
        cell(raw[a.id].monocoque, pick),
        lz !== undefined && mq !== undefined && lz > 0 ? ratio(mq / lz) : "–",
        isMemory ? cell(raw[a.id].monocoque, (f) => f.heap) : "–",
      ];
    };
    return [
      row(a.label, a.unit, (f) => f.value),
      ...(a.also ?? []).map((x) => row(x.label, x.unit, (f) => f[x.key])),
    ];
  });
  console.log(
    "\nmedian [min..max] of the runs; memory = VmRSS growth after GC per unit (heap+ext: " +
      "Monocoque's heapUsed + external per unit); stall = worst lateness of a 1 ms timer\n",
  );
  console.log(table(header, rows));
  await Deno.mkdir(o.out.replace(/\/[^/]*$/, ""), { recursive: true });
  await Deno.writeTextFile(o.out, JSON.stringify({ meta, raw }, null, 1) + "\n");
  console.log(`\nraw figures: ${o.out.replace(`${ROOT}/`, "")}`);
}

Deno.addSignalListener("SIGINT", () => {
  killAll();
  Deno.exit(130);
});
try {
  await main();
} finally {
  killAll();
}
