/**
 * Allocation per round trip (issue 10, tails): REQ/REP and DEALER/ROUTER,
 * both peers Monocoque in one process over tcp, so the figures cover both
 * sides of each round trip. Two figures per row:
 *
 * - JS heap octets allocated per round trip: `Deno.memoryUsage().heapUsed`
 *   deltas over `--count` round trips with a young generation too large to
 *   be collected meanwhile (`--min-semi-space-size=128`). A collection forced
 *   by external memory pressure (`ArrayBuffer` backing stores, at 4 KiB) only
 *   lowers a repetition's figure, so the median of the upper half of the
 *   repetitions is reported;
 * - young-generation collections (scavenges) per 10 000 round trips with
 *   V8's default heap sizes, counted from `--trace-gc` as the difference
 *   between a run with them and a run of the warm-up alone.
 *
 * Young-generation collections are what lengthens a round trip's tail: each
 * one stops the process for a fraction of a millisecond.
 *
 *   deno run -A bench/alloc.ts [--count 1000] [--sizes 16,4096] [--base path/to/mod.ts]
 *
 * `--base` measures another checkout's mod.ts beside this one (A/B); it is
 * run with that checkout's deno.json.
 *
 * @module
 */

const WARMUP = 2000;
const GC_ROUND_TRIPS = 10_000;

type Row = { heap: number; scavenges: number };

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

// ---- child: runs round trips and reports ---------------------------------

async function child(
  modUrl: string,
  pattern: string,
  size: number,
  count: number,
  measure: boolean,
): Promise<void> {
  const mod = await import(modUrl);
  const dealer = pattern === "dealer";
  const server = dealer ? new mod.RouterSocket({ linger: 0 }) : new mod.RepSocket({ linger: 0 });
  const client = dealer ? new mod.DealerSocket({ linger: 0 }) : new mod.ReqSocket({ linger: 0 });
  await server.bind("tcp://127.0.0.1:0");
  client.connect(server.lastEndpoint);
  const echo = (async () => {
    try {
      for (;;) await server.send(await server.receive());
    } catch {
      // closed
    }
  })();
  const payload = new Uint8Array(size).fill(97);
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await client.send(payload);
      await client.receive();
    }
  };
  await run(WARMUP);
  if (measure) {
    const gc = (globalThis as { gc?: () => void }).gc!;
    const reps: number[] = [];
    for (let r = 0; r < 15; r++) {
      gc();
      const before = Deno.memoryUsage();
      await run(count);
      const after = Deno.memoryUsage();
      reps.push((after.heapUsed - before.heapUsed) / count);
    }
    reps.sort((a, b) => a - b);
    const upper = reps.slice(reps.length >> 1);
    const heap = upper[upper.length >> 1];
    console.log(JSON.stringify({ heap }));
  } else {
    await run(count);
  }
  await client.close();
  await server.close();
  await echo;
}

// ---- parent: spawns children, prints the table ---------------------------

async function spawn(
  config: string | undefined,
  flags: string,
  args: string[],
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(config ? ["--config", config] : []),
      `--v8-flags=${flags}`,
      new URL(import.meta.url).pathname,
      "--child",
      ...args,
    ],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`child ${args.join(" ")} failed`);
  return new TextDecoder().decode(out.stdout);
}

async function measure(
  modUrl: string,
  config: string | undefined,
  pattern: string,
  size: number,
  count: number,
): Promise<Row> {
  const common = [modUrl, pattern, String(size)];
  const bytes = JSON.parse(
    (await spawn(
      config,
      "--expose-gc,--min-semi-space-size=128,--max-semi-space-size=128",
      [...common, String(count), "measure"],
    )).trim().split("\n").pop()!,
  );
  const scavenges = async (n: number) =>
    (await spawn(config, "--trace-gc", [...common, String(n), "run"])).split("\n")
      .filter((l) => l.includes("Scavenge")).length;
  const [warm, full] = [await scavenges(0), await scavenges(GC_ROUND_TRIPS)];
  return { heap: bytes.heap, scavenges: full - warm };
}

if (Deno.args[0] === "--child") {
  const [, modUrl, pattern, size, count, what] = Deno.args;
  await child(modUrl, pattern, +size, +count, what === "measure");
} else {
  const count = parseInt(arg("count", "1000"), 10);
  const sizes = arg("sizes", "16,4096").split(",").map((s) => parseInt(s, 10));
  const base = arg("base", "");
  const libs: [string, string, string | undefined][] = [[
    "this",
    new URL("../mod.ts", import.meta.url).href,
    new URL("../deno.json", import.meta.url).pathname,
  ]];
  if (base !== "") {
    const url = new URL(base, `file://${Deno.cwd()}/`);
    libs.push(["base", url.href, new URL("deno.json", url).pathname]);
  }
  console.log(
    "| pattern | size | checkout | heap B/RT | scavenges / 10k RT |\n" +
      "|---|---:|---|---:|---:|",
  );
  for (const pattern of ["req", "dealer"]) {
    for (const size of sizes) {
      for (const [name, url, config] of libs) {
        const r = await measure(url, config, pattern, size, count);
        const label = pattern === "req" ? "REQ/REP" : "DEALER/ROUTER";
        console.log(
          `| ${label} | ${size} | ${name} | ${Math.round(r.heap)} | ${r.scavenges} |`,
        );
      }
    }
  }
}
