/**
 * Monocoque victim for bench/attacks.ts: one socket bound on 127.0.0.1, an
 * application that does only what the driver tells it, and a 1 ms timer that
 * records its worst lateness (how long the event loop was blocked). Same
 * protocol as victim_pyzmq.py, so the driver treats both alike:
 *
 *   deno run -A --v8-flags=--expose-gc bench/attacks/victim_monocoque.ts MODE PORT
 *
 * MODE: `xpub` (application reads and counts subscription messages),
 * `xpub_verbose` (the same with `verbose`), `pull` or `router` (application
 * reads nothing until told to). Default options otherwise: high-water marks
 * of 1000, as in libzmq.
 *
 * Prints `{"event":"ready"}` once bound, then serves one command per stdin
 * line with exactly one JSON line on stdout:
 *
 * - `mem`: collects garbage (when exposed), then `{"event":"mem","heap":..,"external":..,"rss_kb":..}`
 * - `count`: `{"event":"count","subs":..,"unsubs":..,"kept":..,"dropped":..}`
 * - `wait NAME N MS`: the same once counter NAME reaches N or MS pass
 * - `keep N MAX`: starts receiving N messages, keeping those of at most MAX bytes (others dropped)
 * - `publish M SIZE BATCH`: sends M messages, yielding to the event loop after every BATCH
 * - `loop SECS SIZE`: sends for SECS seconds in a loop that only awaits `send()` (it reads
 *   the clock every 1024 messages); replies with the count
 * - `stall_reset` / `stall`: resets / reports the worst timer lateness in ms (after 5 ms, so
 *   that a timer held up by a loop that just ended has fired and been counted)
 * - `exit`: closes the socket and exits
 *
 * @module
 */
import { PullSocket, RouterSocket, type Socket, XPubSocket } from "../../mod.ts";

const [mode, port] = Deno.args;
const gc = (globalThis as { gc?: () => void }).gc;

let sock: Socket;
switch (mode) {
  case "xpub":
    sock = new XPubSocket();
    break;
  case "xpub_verbose":
    sock = new XPubSocket({ verbose: true });
    break;
  case "pull":
    sock = new PullSocket();
    break;
  case "router":
    sock = new RouterSocket();
    break;
  default:
    console.error(`unknown mode ${mode}`);
    Deno.exit(2);
}
await sock.bind(`tcp://127.0.0.1:${port}`);

const counters: Record<string, number> = { subs: 0, unsubs: 0, kept: 0, dropped: 0 };
const kept: Uint8Array[][] = [];
const print = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const yieldTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

// The probe: a 1 ms timer; lateness = how much later than 1 ms it fired.
let worst = 0;
let last = performance.now();
const tick = () => {
  const now = performance.now();
  worst = Math.max(worst, now - last - 1);
  last = now;
  setTimeout(tick, 1);
};
setTimeout(tick, 1);

if (mode.startsWith("xpub")) {
  // Reads subscription messages as they come; yields every 256 so that the
  // application's own reading never counts as a stall of the library.
  (async () => {
    for (let n = 1;; n++) {
      const [frame] = await sock.receive();
      if (frame[0] === 1) counters.subs++;
      else counters.unsubs++;
      if (n % 256 === 0) await yieldTurn();
    }
  })().catch(() => {});
}

async function keep(n: number, max: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const msg = await sock.receive();
    const bytes = msg.reduce((s, f) => s + f.length, 0);
    if (bytes <= max) {
      kept.push(msg);
      counters.kept++;
    } else {
      counters.dropped++;
    }
    if (i % 256 === 255) await yieldTurn();
  }
}

async function waitFor(name: string, n: number, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while ((counters[name] ?? 0) < n && performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function rssKb(): number {
  const m = /^VmRSS:\s+(\d+)/m.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? Number(m[1]) : -1;
}

async function command(line: string): Promise<void> {
  const [cmd, ...a] = line.trim().split(/\s+/);
  const num = (i: number) => Number(a[i]);
  switch (cmd) {
    case "mem": {
      gc?.();
      await yieldTurn();
      gc?.();
      const m = Deno.memoryUsage();
      print({ event: "mem", heap: m.heapUsed, external: m.external, rss_kb: rssKb() });
      break;
    }
    case "count":
      print({ event: "count", ...counters });
      break;
    case "wait":
      await waitFor(a[0], num(1), num(2));
      print({ event: "count", ...counters });
      break;
    case "keep":
      keep(num(0), num(1)).catch(() => {});
      print({ event: "ok" });
      break;
    case "publish": {
      const msg = new Uint8Array(num(1)).fill(97);
      const batch = Math.max(1, num(2));
      const t0 = performance.now();
      for (let i = 0; i < num(0); i++) {
        await sock.send(msg);
        if (i % batch === batch - 1) await yieldTurn();
      }
      print({ event: "published", secs: (performance.now() - t0) / 1000 });
      break;
    }
    case "loop": {
      const msg = new Uint8Array(num(1)).fill(97);
      const t0 = performance.now();
      const end = t0 + 1000 * num(0);
      let sent = 0;
      do {
        for (let i = 0; i < 1024; i++) await sock.send(msg);
        sent += 1024;
      } while (performance.now() < end);
      print({ event: "looped", secs: (performance.now() - t0) / 1000, sent });
      break;
    }
    case "stall_reset":
      await yieldTurn();
      worst = 0;
      print({ event: "ok" });
      break;
    case "stall":
      await new Promise((resolve) => setTimeout(resolve, 5));
      print({ event: "stall", worst_ms: worst });
      break;
    case "exit":
      await Promise.race([sock.close(), new Promise((r) => setTimeout(r, 1000))]);
      Deno.exit(0);
      break;
    default:
      print({ event: "error", message: `unknown command ${cmd}` });
  }
}

print({ event: "ready" });
let buf = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buf += chunk;
  for (let nl; (nl = buf.indexOf("\n")) >= 0;) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (line.trim()) await command(line);
  }
}
Deno.exit(0);
