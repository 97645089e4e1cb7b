/**
 * Cooperative slicing for work whose size a peer controls (a million topics
 * to unsubscribe when a subscriber leaves, or to resend when a publisher
 * connects): the work is a generator that yields after each item, run for at
 * most {@linkcode SLICE_MS} at a time with a macrotask between slices, so
 * reads, writes, accepts and timers keep running; internal.
 *
 * @module
 */

import { macrotask } from "./_macrotask.ts";

/** Longest stretch of work between two yields to the event loop, in ms. */
export const SLICE_MS = 5;

/** Items done between two looks at the clock. */
const CHECK_EVERY = 64;

/** How a sliced job is stopped and where its errors go. */
export interface SliceOptions {
  /** Checked before each slice: true ends the job. */
  stopped?: () => boolean;
  /** A step threw; the job ended. */
  onError?: (error: unknown) => void;
}

/** One macrotask later (after pending I/O callbacks and timers). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => macrotask(resolve as () => void));
}

/**
 * Runs `work` a slice at a time. A step may yield a promise: the job waits
 * for it (and then checks `stopped`) before going on, which is how it waits
 * for room. The result never rejects; the first step runs now, synchronously.
 *
 * @param work Steps: one item each.
 * @param options When to stop and where errors go.
 * @returns Resolves when the work is done, stopped or failed.
 */
export function runSliced(
  work: Iterator<unknown>,
  options: SliceOptions = {},
): Promise<void> {
  const { stopped = () => false, onError = () => {} } = options;
  // One slice now, so small jobs (the common case) finish synchronously.
  const first = slice(work, onError);
  if (first === DONE) return Promise.resolve();
  return (async () => {
    let wait: Promise<unknown> | undefined = first;
    for (;;) {
      try {
        await (wait ?? nextTurn());
      } catch (e) {
        onError(e);
        work.return?.();
        return;
      }
      if (stopped()) {
        work.return?.();
        return;
      }
      const next = slice(work, onError);
      if (next === DONE) return;
      wait = next;
    }
  })();
}

const DONE = Symbol("done");

/** Runs steps for up to SLICE_MS; returns DONE, a promise a step yielded, or undefined (time's up). */
function slice(
  work: Iterator<unknown>,
  onError: (error: unknown) => void,
): typeof DONE | Promise<unknown> | undefined {
  const until = performance.now() + SLICE_MS;
  try {
    for (let n = 1;; n++) {
      const r = work.next();
      if (r.done) return DONE;
      if (r.value instanceof Promise) return r.value;
      if (n % CHECK_EVERY === 0 && performance.now() >= until) return undefined;
    }
  } catch (e) {
    onError(e);
    return DONE;
  }
}
