/**
 * The slow-joiner cure for PUB and XPUB: `waitForSubscribers(n)` resolves
 * once `n` peers have completed their handshake and sent at least one
 * subscription, the moment from which a publisher's messages can reach them
 * (RFC 29: a subscriber with no subscription gets nothing). Internal.
 *
 * @module
 */

import { abortError, ZmqError } from "../errors.ts";
import type { Pipe } from "./_pipe.ts";
import type { WaitForSubscribersOptions } from "./options.ts";

interface Waiter {
  n: number;
  resolve(): void;
  reject(e: unknown): void;
}

/** Counts subscribed peers and wakes whoever waits for enough of them. */
export class SubscriberWaiters {
  readonly #subscribed = new Set<Pipe>();
  readonly #waiters = new Set<Waiter>();
  #closed = false;

  /** Peers connected now that have sent at least one subscription. */
  get count(): number {
    return this.#subscribed.size;
  }

  /** A peer sent a subscription. */
  subscribed(pipe: Pipe): void {
    if (this.#subscribed.has(pipe)) return;
    this.#subscribed.add(pipe);
    for (const w of this.#waiters) if (this.#subscribed.size >= w.n) w.resolve();
  }

  /** A peer left. */
  left(pipe: Pipe): void {
    this.#subscribed.delete(pipe);
  }

  /** Rejects every wait with ETERM; later waits reject at once. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters) w.reject(new ZmqError("ETERM", "The socket was closed"));
  }

  wait(n: number, options: WaitForSubscribersOptions | undefined): Promise<void> {
    if (typeof n !== "number" || !Number.isInteger(n)) {
      return Promise.reject(new TypeError(`The subscriber count must be an integer, got ${n}`));
    }
    if (n < 0) return Promise.reject(new RangeError(`The subscriber count must be at least 0`));
    const signal = options?.signal;
    const timeout = options?.timeout ?? -1;
    if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < -1) {
      return Promise.reject(new TypeError("Option timeout must be an integer of at least -1"));
    }
    if (this.#closed) return Promise.reject(new ZmqError("ETERM", "The socket is closed"));
    if (this.#subscribed.size >= n) return Promise.resolve();
    const what = "Waiting for subscribers";
    if (signal?.aborted) return Promise.reject(abortError(signal.reason, what));
    if (timeout === 0) {
      return Promise.reject(new ZmqError("EAGAIN", `${this.count} of ${n} subscribers so far`));
    }
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => waiter.reject(abortError(signal!.reason, what));
      const done = () => {
        this.#waiters.delete(waiter);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter = {
        n,
        resolve: () => {
          done();
          resolve();
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout > 0) {
        timer = setTimeout(() =>
          waiter.reject(
            new ZmqError(
              "EAGAIN",
              `${this.count} of ${n} subscribers after ${timeout} ms`,
            ),
          ), timeout);
      }
    });
  }
}
