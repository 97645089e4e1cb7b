/**
 * Every API idiom against the best loop (issue 10): PUSH→PULL over tcp, one
 * row per receiver idiom (`await receive()` loop, `for await` of the socket,
 * `for await` of `readable`, `readable.pipeTo()`) and per sender idiom
 * (awaited `send()` loop, unawaited `send()`s then await the last, a
 * `writable` writer). Each row is a ratio to the `await receive()` /
 * `await send()` row of the same repetition, so load on the machine cancels
 * out; the table gives the median and the range over the repetitions.
 *
 *   deno task bench:idioms [--count N] [--sizes 16,256] [--reps 5] [--base path/to/mod.ts]
 *                          [--rows 1,4] [--timeout ms]
 *
 * `--base` runs every row a second time against another checkout's mod.ts,
 * interleaved with this one (A/B in the same run). Rates are measured at the
 * receiver, first to last message; the sender column is first `send()` call
 * to the last one resolved (for unawaited sends: issuing them all). `--rows` picks rows by index (the await
 * loop, row 0, always runs); `--timeout` bounds one run (default 60 s).
 *
 * @module
 */

import { IDIOM_ROWS as ROWS } from "./_idioms.ts";

type Json = Record<string, unknown>;

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

const count = parseInt(arg("count", "1000000"), 10);
const sizes = arg("sizes", "16,256").split(",").map((s) => parseInt(s, 10));
const reps = parseInt(arg("reps", "5"), 10);
const timeoutMs = parseInt(arg("timeout", "60000"), 10);
const base = arg("base", "");
const only = arg("rows", "").split(",").filter((x) => x !== "").map(Number);
const libs: [string, string][] = [["this", new URL("../mod.ts", import.meta.url).href]];
if (base !== "") libs.push(["base", new URL(base, `file://${Deno.cwd()}/`).href]);
const WORKER = new URL("./_idioms_worker.ts", import.meta.url).pathname;

/** Spawns a worker; yields its JSON lines. */
function spawn(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const next = async (): Promise<Json> => {
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith("{")) return JSON.parse(line);
        continue;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error(`worker ${args.slice(0, 2).join(" ")} ended early`);
      buf += value;
    }
  };
  return { child, next };
}

/**
 * One receiver/sender pair: the receiver's rate (first to last message) and
 * the sender's (first send() call to the last one resolved), NaN on failure.
 */
async function runPair(
  mod: string,
  row: typeof ROWS[0],
  size: number,
): Promise<[number, number]> {
  const recv = spawn(["recv", row.recv, String(count), mod]);
  let send: ReturnType<typeof spawn> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const kill = () => {
    for (const c of [recv.child, send?.child]) {
      try {
        c?.kill("SIGKILL");
      } catch { /* gone */ }
    }
  };
  try {
    const ready = await recv.next();
    send = spawn(["send", row.send, String(count), mod, String(ready.ep), String(size)]);
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    const result = await Promise.race([recv.next(), expired]);
    await send.child.stdin.close();
    const sent = await Promise.race([send.next(), expired]);
    return [Number(result.msgs_per_s), count / Number(sent.send_secs)];
  } catch (e) {
    console.error(`${row.name} ${size} B: ${(e as Error).message}`);
    kill();
    return [NaN, NaN];
  } finally {
    clearTimeout(timer);
    if (!send) await recv.child.stdin.close().catch(() => {});
    await Promise.allSettled([recv.child.status, send?.child.status]);
    await recv.child.stdout.cancel().catch(() => {});
  }
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[(s.length - 1) >> 1];
};
const fmt = (x: number, unit = "") =>
  Number.isNaN(x)
    ? "—"
    : x >= 1e6
    ? `${(x / 1e6).toFixed(2)} M${unit}`
    : `${(x / 1e3).toFixed(0)} k${unit}`;

// rates[lib][size][row][rep]
const rates = new Map<string, number[]>();
const sendRates = new Map<string, number[]>();
const key = (lib: string, size: number, row: number) => `${lib}/${size}/${row}`;
for (let rep = 0; rep < reps; rep++) {
  for (const size of sizes) {
    for (let r = 0; r < ROWS.length; r++) {
      if (r > 0 && only.length > 0 && !only.includes(r)) continue;
      for (const [lib, mod] of libs) {
        const [rate, sendRate] = await runPair(mod, ROWS[r], size);
        const k = key(lib, size, r);
        rates.set(k, [...(rates.get(k) ?? []), rate]);
        sendRates.set(k, [...(sendRates.get(k) ?? []), sendRate]);
      }
    }
  }
  console.error(`repetition ${rep + 1}/${reps} done`);
}

console.log(
  `\nPUSH→PULL over tcp, ${count} messages per run, ${reps} repetitions; ` +
    `ratio = row ÷ the await-loop row of the same repetition, median [min–max]\n`,
);
for (const size of sizes) {
  const head = libs.map(([lib]) => `${lib} msgs/s | ${lib} ratio | ${lib} sender msgs/s`)
    .join(" | ");
  console.log(`| ${size} B idiom | ${head} |`);
  console.log(`|---|${libs.map(() => "---|---|---|").join("")}`);
  for (let r = 0; r < ROWS.length; r++) {
    if (!rates.has(key(libs[0][0], size, r))) continue;
    const cells = libs.map(([lib]) => {
      const xs = rates.get(key(lib, size, r))!;
      const ref = rates.get(key(lib, size, 0))!;
      const ratios = xs.map((x, i) => x / ref[i]).filter((x) => !Number.isNaN(x));
      const range = ratios.length === 0
        ? "—"
        : `${median(ratios).toFixed(2)} [${Math.min(...ratios).toFixed(2)}–${
          Math.max(...ratios).toFixed(2)
        }]`;
      return `${fmt(median(xs))} | ${range} | ${fmt(median(sendRates.get(key(lib, size, r))!))}`;
    });
    console.log(`| ${ROWS[r].name} | ${cells.join(" | ")} |`);
  }
  console.log();
}
