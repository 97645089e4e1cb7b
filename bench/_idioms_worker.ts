/**
 * One side of a bench/idioms.ts run: a PULL receiver or a PUSH sender using
 * one API idiom, over tcp. Prints JSON lines for the runner:
 *
 *   deno run -A bench/_idioms_worker.ts recv IDIOM COUNT MOD_URL
 *     → {"event":"ready","ep":…} then {"event":"result","msgs_per_s":…}
 *   deno run -A bench/_idioms_worker.ts send IDIOM COUNT MOD_URL EP SIZE
 *     → {"event":"result","send_secs":…} once its stdin closes (receiver done)
 *
 * MOD_URL is the mod.ts to import, so one run can compare two checkouts.
 *
 * @module
 */

type Msg = Uint8Array[];
interface Sock {
  bind(ep: string): Promise<void>;
  connect(ep: string): void;
  send(m: Uint8Array): Promise<void>;
  receive(): Promise<Msg>;
  close(): Promise<void>;
  readonly lastEndpoint: string | undefined;
  readonly readable: ReadableStream<Msg>;
  readonly writable: WritableStream<Uint8Array>;
  [Symbol.asyncIterator](): AsyncIterator<Msg>;
}

const [role, idiom, countArg, modUrl, ep, sizeArg] = Deno.args;
const count = parseInt(countArg, 10);
const mod = await import(modUrl);
const print = (j: Record<string, unknown>) => console.log(JSON.stringify(j));

/** Receives `count` messages with one idiom; returns the first-to-last rate. */
async function receive(pull: Sock): Promise<number> {
  let got = 0, t0 = 0;
  // Count, and time from the first message (the handshake is not the idiom's cost).
  const take = (_msg: Msg): boolean => {
    if (got++ === 0) t0 = performance.now();
    return got < count;
  };
  switch (idiom) {
    case "loop":
      while (take(await pull.receive()));
      break;
    case "iter":
      for await (const msg of pull) if (!take(msg)) break;
      break;
    case "readable":
      for await (const msg of pull.readable) if (!take(msg)) break;
      break;
    case "pipeTo": {
      const stop = new AbortController();
      const sink = new WritableStream<Msg>({ write: (msg) => void (take(msg) || stop.abort()) });
      await pull.readable.pipeTo(sink, { signal: stop.signal }).catch(() => {});
      break;
    }
    default:
      throw new Error(`unknown receive idiom ${idiom}`);
  }
  const secs = (performance.now() - t0) / 1000;
  return (got - 1) / secs;
}

/** Sends `count` messages with one idiom; returns the seconds until the last is queued. */
async function send(push: Sock, buf: Uint8Array): Promise<number> {
  const t0 = performance.now();
  switch (idiom) {
    case "await":
      for (let i = 0; i < count; i++) await push.send(buf);
      break;
    case "unawaited": {
      let last: Promise<void> = Promise.resolve();
      for (let i = 0; i < count; i++) last = push.send(buf);
      await last;
      break;
    }
    case "writer": {
      const w = push.writable.getWriter();
      for (let i = 0; i < count; i++) await w.write(buf);
      w.releaseLock();
      break;
    }
    default:
      throw new Error(`unknown send idiom ${idiom}`);
  }
  return (performance.now() - t0) / 1000;
}

if (role === "recv") {
  const pull: Sock = new mod.PullSocket({ linger: 0 });
  await pull.bind("tcp://127.0.0.1:0");
  print({ event: "ready", ep: pull.lastEndpoint });
  const rate = await receive(pull);
  print({ event: "result", msgs_per_s: rate, rss_peak_kb: peakRssKb() });
  await pull.close();
} else if (role === "send") {
  const push: Sock = new mod.PushSocket({ linger: 2000 });
  push.connect(ep);
  const secs = await send(push, new Uint8Array(parseInt(sizeArg, 10)).fill(97));
  // Hold the connection until the receiver has everything.
  for await (const _ of Deno.stdin.readable) { /* until end of file */ }
  print({ event: "result", send_secs: secs, rss_peak_kb: peakRssKb() });
  await push.close();
} else {
  console.error("usage: recv|send IDIOM COUNT MOD_URL [EP SIZE]");
  Deno.exit(2);
}
Deno.exit(0);

function peakRssKb(): number {
  const line = Deno.readTextFileSync("/proc/self/status").split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return line ? parseInt(line.slice(6), 10) : -1;
}
