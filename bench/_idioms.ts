/**
 * The API idioms of issue 10, shared by `deno task bench:idioms`
 * (bench/idioms.ts and its worker) and the main runner's idiom rows
 * (bench/scenarios/idioms.ts, through the `idiom_recv` / `idiom_send` modes
 * of bench/monocoque_bench.ts): receiving with an `await receive()` loop,
 * `for await` of the socket, `for await` of `readable`, or
 * `readable.pipeTo()`; sending with awaited `send()`s, unawaited `send()`s
 * (fire them all, await the last) or a `writable` writer.
 *
 * Works on any object with Monocoque's socket API, so a run can import
 * another checkout's mod.ts (A/B).
 *
 * @module
 */

/** A message: one entry per frame. */
export type Msg = Uint8Array[];

/** The parts of a PushSocket / PullSocket the idioms use. */
export interface IdiomSocket {
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

/** A receiver idiom. */
export type ReceiveIdiom = "loop" | "iter" | "readable" | "pipeTo";
/** A sender idiom. */
export type SendIdiom = "await" | "unawaited" | "writer";

/** One receiver/sender combination: row 0 is the reference loop. */
export interface IdiomRow {
  /** Short id for scenario ids. */
  id: string;
  name: string;
  recv: ReceiveIdiom;
  send: SendIdiom;
}

/** The rows, the `await receive()` / `await send()` loop first. */
export const IDIOM_ROWS: IdiomRow[] = [
  { id: "loop", name: "await receive() loop ← await send()", recv: "loop", send: "await" },
  { id: "iter", name: "for await (msg of socket)", recv: "iter", send: "await" },
  { id: "readable", name: "for await (msg of socket.readable)", recv: "readable", send: "await" },
  { id: "pipeto", name: "readable.pipeTo(WritableStream)", recv: "pipeTo", send: "await" },
  {
    id: "unawaited",
    name: "unawaited send() ×count, await last",
    recv: "loop",
    send: "unawaited",
  },
  { id: "writer", name: "writable.getWriter(), await write()", recv: "loop", send: "writer" },
];

/** What a receiver saw: messages, payload bytes, seconds from the first to the last. */
export interface Received {
  got: number;
  bytes: number;
  secs: number;
}

/** Receives `count` messages with one idiom, timed from the first message to the last. */
export async function receiveWith(
  pull: IdiomSocket,
  idiom: string,
  count: number,
): Promise<Received> {
  let got = 0, bytes = 0, t0 = 0, t1 = 0;
  // Count, and time from the first message (the handshake is not the idiom's cost).
  const take = (msg: Msg): boolean => {
    if (got++ === 0) t0 = performance.now();
    for (const f of msg) bytes += f.length;
    if (got < count) return true;
    t1 = performance.now();
    return false;
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
  return { got, bytes, secs: (t1 - t0) / 1000 };
}

/** Sends `count` messages with one idiom; returns the seconds until the last is queued. */
export async function sendWith(
  push: IdiomSocket,
  idiom: string,
  count: number,
  buf: Uint8Array,
): Promise<number> {
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

/** What bench/monocoque_bench.ts hands the idiom modes. */
export interface IdiomHarness {
  socket(kind: "push" | "pull"): IdiomSocket;
  /** Resolves when stdin reaches end of file (the runner is done with this process). */
  stdinClosed: Promise<void>;
  print(line: string): void;
  /** VmHWM, KiB. */
  peakRssKb(): number;
}

/**
 * The runner's idiom modes, with the JSON lines of bench/_modes.mjs:
 *
 *   idiom_recv IDIOM [@]EP COUNT       PULL, binds; prints what pull_recv prints
 *   idiom_send IDIOM [>]EP COUNT SIZE  PUSH, connects; holds until stdin closes
 */
export async function idiomMode(h: IdiomHarness, argv: string[]): Promise<void> {
  const [mode, idiom, epArg, countArg, sizeArg] = argv;
  const ep = epArg.replace(/^[@>]/, "");
  const count = parseInt(countArg, 10);
  const print = (j: Record<string, unknown>) => h.print(JSON.stringify(j));
  const close = (s: IdiomSocket) =>
    Promise.race([s.close(), new Promise((r) => setTimeout(r, 2000))]);
  if (mode === "idiom_recv") {
    const pull = h.socket("pull");
    await pull.bind(ep);
    print({ event: "ready" });
    const r = await receiveWith(pull, idiom, count);
    print({
      event: "result",
      impl: "monocoque",
      mode,
      idiom,
      count: r.got,
      expected: count,
      sockets: 1,
      bytes: r.bytes,
      secs: r.secs,
      msgs_per_s: r.got > 1 && r.secs > 0 ? (r.got - 1) / r.secs : 0,
      mb_per_s: r.got > 1 && r.secs > 0 ? r.bytes / r.secs / 1e6 : 0,
      rss_peak_kb: h.peakRssKb(),
    });
    await close(pull);
  } else if (mode === "idiom_send") {
    const push = h.socket("push");
    push.connect(ep);
    print({ event: "ready" });
    const secs = await sendWith(push, idiom, count, new Uint8Array(parseInt(sizeArg, 10)).fill(97));
    await h.stdinClosed;
    print({
      event: "result",
      impl: "monocoque",
      mode,
      idiom,
      count,
      send_secs: secs,
      rss_peak_kb: h.peakRssKb(),
    });
    await close(push);
  } else {
    throw new Error(`unknown idiom mode ${mode}`);
  }
}
