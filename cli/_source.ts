/**
 * Where the messages a command sends come from, and when: messages given as
 * arguments or `--data`, one read from `--file`, or stdin records in the
 * chosen format; paced by `--delay` (before the first) and `--interval`
 * (between sends, aligned to the clock so that pacing does not drift), and
 * limited by `--count`.
 *
 * @module
 */

import { type Format, parseLine, readMessages } from "./_format.ts";
import type { Io } from "./_io.ts";

/** The flags that say what to send and when. */
export interface SourceFlags {
  /** Messages given with `--data` (and positional arguments, appended by the caller). */
  data?: string[];
  /** `--file`: a file whose whole content is one single-frame message; `-` is stdin. */
  file?: string;
  /** Seconds between sends. */
  interval?: number;
  /** Seconds before the first send. */
  delay?: number;
  /** How many messages to send (and receive); 0 or undefined means no limit. */
  count?: number;
  /** The format of stdin records and of `--data` messages. */
  format: Format;
}

/** A message to send: one byte array per frame. */
export type Frames = Uint8Array<ArrayBuffer>[];

/**
 * Waits `ms`, or less if `signal` aborts; never rejects.
 *
 * @param ms Milliseconds.
 * @param signal Cuts the wait short.
 * @returns Whether the whole time passed (false when aborted).
 *
 * @example
 * ```ts
 * import { pause } from "./_source.ts";
 * console.assert(await pause(1, new AbortController().signal));
 * ```
 */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (full: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", aborted);
      resolve(full);
    };
    const aborted = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", aborted);
  });
}

/**
 * Whether the flags give the messages themselves (else they come from stdin).
 *
 * @param flags The flags.
 * @returns True with `--data`, arguments or `--file`.
 *
 * @example
 * ```ts
 * import { hasFixedMessages } from "./_source.ts";
 * console.assert(!hasFixedMessages({ format: "ascii" }));
 * ```
 */
export function hasFixedMessages(flags: SourceFlags): boolean {
  return (flags.data?.length ?? 0) > 0 || flags.file !== undefined;
}

async function fixedMessages(flags: SourceFlags, io: Io): Promise<Frames[]> {
  // Arguments are text even in the binary formats: they are typed, not piped.
  const format = flags.format === "quoted" || flags.format === "jsonl" ? flags.format : "ascii";
  const messages = (flags.data ?? []).map((d) => parseLine(d, format));
  if (flags.file === "-") {
    messages.push([new Uint8Array(await new Response(io.stdin()).arrayBuffer())]);
  } else if (flags.file !== undefined) {
    messages.push([await Deno.readFile(flags.file)]);
  }
  return messages;
}

/**
 * The messages to send, paced and counted as the flags say. Fixed messages
 * are sent once each, or cycled while `--interval` or `--count` ask for more;
 * stdin records are sent as they come until stdin ends.
 *
 * @param flags What to send and when.
 * @param io Where stdin is, and the signal that stops everything.
 * @returns The messages, each yielded when it is time to send it.
 *
 * @example
 * ```ts
 * import { outgoing } from "./_source.ts";
 * import type { Io } from "./_io.ts";
 * const io = { signal: new AbortController().signal } as Io;
 * const sent = [];
 * for await (const m of outgoing({ data: ["tick"], count: 3, format: "ascii" }, io)) sent.push(m);
 * console.assert(sent.length === 3);
 * ```
 */
export async function* outgoing(flags: SourceFlags, io: Io): AsyncGenerator<Frames> {
  const limit = flags.count !== undefined && flags.count > 0 ? flags.count : Infinity;
  const interval = (flags.interval ?? 0) * 1000;
  if (!await pause((flags.delay ?? 0) * 1000, io.signal)) return;
  const start = performance.now();
  let sent = 0;
  const paced = async (): Promise<boolean> => {
    if (sent === 0 || interval <= 0) return !io.signal.aborted;
    return await pause(start + sent * interval - performance.now(), io.signal);
  };
  if (hasFixedMessages(flags)) {
    const messages = await fixedMessages(flags, io);
    const repeat = interval > 0 || limit !== Infinity;
    const total = repeat ? limit : messages.length;
    while (sent < total && messages.length > 0) {
      if (!await paced()) return;
      yield messages[sent % messages.length];
      sent++;
    }
    return;
  }
  for await (const message of untilAborted(readMessages(io.stdin(), flags.format), io.signal)) {
    if (sent >= limit || !await paced()) return;
    yield message;
    sent++;
  }
}

/** Ends the iteration when `signal` aborts, even while a read (a terminal's stdin) is pending. */
async function* untilAborted<T>(items: AsyncGenerator<T>, signal: AbortSignal): AsyncGenerator<T> {
  let abort: () => void = () => {};
  const aborted = new Promise<IteratorResult<T>>((resolve) => {
    abort = () => resolve({ done: true, value: undefined });
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  });
  try {
    for (;;) {
      const pending = items.next();
      pending.catch(() => {}); // raced: a late failure after an abort must not go unhandled
      const next = await Promise.race([pending, aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    signal.removeEventListener("abort", abort);
    // A read still pending keeps the stream locked; the process exits soon after anyway.
    if (!signal.aborted) await items.return(undefined);
  }
}
