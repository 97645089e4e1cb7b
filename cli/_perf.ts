/**
 * `monocoque perf`: libzmq's four perf tools (perf/local_thr.cpp,
 * remote_thr.cpp, local_lat.cpp, remote_lat.cpp) with the same arguments,
 * the same sockets and the same figures, so either end can be libzmq's tool:
 *
 * - `local-thr BIND SIZE COUNT`: PULL binds, receives COUNT messages; the
 *   clock starts at the first one (as local_thr.cpp), and it prints message
 *   size, message count, mean throughput [msg/s] and [Mb/s].
 * - `remote-thr CONNECT SIZE COUNT`: PUSH connects, sends COUNT messages.
 * - `local-lat BIND SIZE COUNT`: REP binds, echoes COUNT round trips.
 * - `remote-lat CONNECT SIZE COUNT`: REQ connects, times COUNT round trips
 *   and prints message size, roundtrip count and average latency [us]
 *   (half a round trip, as remote_lat.cpp).
 *
 * A run that lasts over a second also shows a live rate on stderr, once a
 * second (rewritten in place on a terminal); `--quiet` turns it off.
 *
 * @module
 */

import { PullSocket, PushSocket, RepSocket, ReqSocket, type Socket } from "../mod.ts";
import type { Io } from "./_io.ts";
import { firstPeer } from "./_monitor.ts";
import { UsageError } from "./_usage.ts";

/** The four perf tools. */
export const PERF_TESTS = ["local-thr", "remote-thr", "local-lat", "remote-lat"] as const;

/** One of {@linkcode PERF_TESTS}. */
export type PerfTest = typeof PERF_TESTS[number];

/** Flags of `perf`. */
export interface PerfFlags {
  /** No live rate line. */
  quiet?: boolean;
}

/**
 * The figures local_thr prints, in its format.
 *
 * @param size Message size in bytes.
 * @param count Messages received.
 * @param elapsedUs Microseconds from the first message to the last.
 * @returns Four lines.
 *
 * @example
 * ```ts
 * import { throughputReport } from "./_perf.ts";
 * const text = throughputReport(100, 1000, 1000);
 * console.assert(text.includes("mean throughput: 1000000 [msg/s]"));
 * console.assert(text.includes("mean throughput: 800.000 [Mb/s]"));
 * ```
 */
export function throughputReport(size: number, count: number, elapsedUs: number): string {
  const elapsed = Math.max(elapsedUs, 1);
  const throughput = count / elapsed * 1_000_000;
  const megabits = throughput * size * 8 / 1_000_000;
  return `message size: ${size} [B]\n` +
    `message count: ${count}\n` +
    `mean throughput: ${Math.trunc(throughput)} [msg/s]\n` +
    `mean throughput: ${megabits.toFixed(3)} [Mb/s]\n`;
}

/**
 * The figures remote_lat prints, in its format.
 *
 * @param size Message size in bytes.
 * @param roundtrips Round trips made.
 * @param elapsedUs Microseconds they took.
 * @returns Three lines.
 *
 * @example
 * ```ts
 * import { latencyReport } from "./_perf.ts";
 * console.assert(latencyReport(1, 10, 200).endsWith("average latency: 10.000 [us]\n"));
 * ```
 */
export function latencyReport(size: number, roundtrips: number, elapsedUs: number): string {
  return `message size: ${size} [B]\n` +
    `roundtrip count: ${roundtrips}\n` +
    `average latency: ${(elapsedUs / (roundtrips * 2)).toFixed(3)} [us]\n`;
}

function positive(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`${what} must be an integer of at least ${min}, not "${text}"`);
  }
  return n;
}

/** A once-a-second progress line on stderr, for runs longer than a second. */
class Rate {
  #io: Io;
  #what: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = 0;
  #lastAt = performance.now();
  #shown = false;
  done = 0;

  constructor(io: Io, what: string, quiet: boolean) {
    this.#io = io;
    this.#what = what;
    if (!quiet) this.#timer = setInterval(() => this.#show(), 1000);
  }

  #show(): void {
    const now = performance.now();
    const rate = (this.done - this.#last) / ((now - this.#lastAt) / 1000);
    this.#last = this.done;
    this.#lastAt = now;
    const line = `${this.#what}: ${this.done} done, ${Math.round(rate)} per second`;
    this.#io.log(this.#io.stderrIsTerminal ? `\r\x1b[K${line}\r` : line);
    this.#shown = true;
  }

  stop(): void {
    clearInterval(this.#timer);
    if (this.#shown && this.#io.stderrIsTerminal) this.#io.log("");
  }
}

async function received(socket: Socket, size: number, signal: AbortSignal): Promise<Uint8Array> {
  const message = await socket.receive({ signal });
  if (message.length !== 1 || message[0].length !== size) {
    throw new Error("message of incorrect size received");
  }
  return message[0];
}

/**
 * Runs one perf tool; its figures go to stdout as libzmq's tool prints them.
 *
 * @param test Which tool.
 * @param args Its three arguments: endpoint, message size, message (or round trip) count.
 * @param flags `quiet` for no live rate line.
 * @param io The terminal.
 * @returns Resolves when the run is over.
 * @throws {UsageError} For wrong arguments.
 *
 * @example
 * ```ts ignore
 * import { runPerf } from "./_perf.ts";
 * import { denoIo } from "./_io.ts";
 * await runPerf("local-thr", ["tcp://127.0.0.1:5555", "100", "100000"], {}, denoIo(new AbortController().signal));
 * ```
 */
export async function runPerf(
  test: PerfTest,
  args: string[],
  flags: PerfFlags,
  io: Io,
): Promise<void> {
  if (args.length !== 3) {
    throw new UsageError(`perf ${test} takes <endpoint> <message-size> <message-count>`);
  }
  const [endpoint, sizeText, countText] = args;
  const size = positive(sizeText, "<message-size>", 0);
  const count = positive(
    countText,
    test.endsWith("lat") ? "<roundtrip-count>" : "<message-count>",
    1,
  );
  const signal = io.signal;
  // HWMs as libzmq's defaults (1000): the tools measure the library as it ships.
  const quiet = flags.quiet ?? false;
  switch (test) {
    case "local-thr": {
      await using pull = new PullSocket({ linger: 0 });
      await pull.bind(endpoint);
      await received(pull, size, signal);
      const rate = new Rate(io, test, quiet);
      const start = performance.now();
      try {
        for (rate.done = 1; rate.done < count; rate.done++) await received(pull, size, signal);
      } finally {
        rate.stop();
      }
      const elapsedUs = (performance.now() - start) * 1000;
      await io.write(new TextEncoder().encode(throughputReport(size, count, elapsedUs)));
      return;
    }
    case "remote-thr": {
      // linger -1: close() waits until every message is written, as zmq_ctx_term does.
      await using push = new PushSocket({ linger: -1 });
      // Messages queued for a connection not yet made are dropped at close: start once it is.
      const ready = firstPeer(push, signal);
      push.connect(endpoint);
      await ready;
      const payload = new Uint8Array(size);
      const rate = new Rate(io, test, quiet);
      try {
        for (; rate.done < count; rate.done++) await push.send(payload, { signal });
      } finally {
        rate.stop();
      }
      return;
    }
    case "local-lat": {
      await using rep = new RepSocket({ linger: -1 });
      await rep.bind(endpoint);
      const rate = new Rate(io, test, quiet);
      try {
        for (; rate.done < count; rate.done++) await rep.send(await received(rep, size, signal));
      } finally {
        rate.stop();
      }
      return;
    }
    case "remote-lat": {
      await using req = new ReqSocket({ linger: 0 });
      const ready = firstPeer(req, signal);
      req.connect(endpoint);
      await ready;
      const payload = new Uint8Array(size);
      const rate = new Rate(io, test, quiet);
      const start = performance.now();
      try {
        for (; rate.done < count; rate.done++) {
          await req.send(payload, { signal });
          await received(req, size, signal);
        }
      } finally {
        rate.stop();
      }
      const elapsedUs = (performance.now() - start) * 1000;
      await io.write(new TextEncoder().encode(latencyReport(size, count, elapsedUs)));
      return;
    }
  }
}
