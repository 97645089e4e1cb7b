/**
 * Write ordering for a connection whose writes may have to wait for room (the
 * shm rings): a write that fits while none waits completes at once, any other
 * runs after every write before it, and a failed write does not stop the
 * ones queued behind it from running (they fail or succeed on their own).
 *
 * @module
 */

/** The chain of a connection's waiting writes. */
export class WriteChain {
  #tail: Promise<void> | null = null;

  /** Whether no write is waiting: the caller may try its fast path. */
  get idle(): boolean {
    return this.#tail === null;
  }

  /**
   * Runs `slow` once every write chained before it has settled.
   *
   * @returns `slow`'s promise; the caller handles its rejection.
   */
  chain(slow: () => Promise<void>): Promise<void> {
    const result = this.#tail === null ? slow() : this.#tail.then(slow, slow);
    const tracked: Promise<void> = result.finally(() => {
      if (this.#tail === tracked) this.#tail = null;
    });
    tracked.catch(() => {}); // the caller gets `result`'s rejection; this copy only tracks order
    this.#tail = tracked;
    return result;
  }
}
