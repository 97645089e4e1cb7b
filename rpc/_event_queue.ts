/**
 * A bounded event feed for the RPC server and client: each `subscribe()`
 * returns an async iterator that sees events from then on; a reader that
 * falls behind loses the oldest events (never more than `capacity` are kept
 * per reader), and every iterator ends when the feed closes.
 *
 * @module
 */

interface Reader<T> {
  buffer: T[];
  wake: (() => void) | undefined;
}

/** A bounded, multi-reader event feed. */
export class EventFeed<T> {
  readonly #capacity: number;
  readonly #readers = new Set<Reader<T>>();
  #closed = false;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Delivers an event to every reader. */
  emit(event: T): void {
    for (const r of this.#readers) {
      if (r.buffer.length >= this.#capacity) r.buffer.shift();
      r.buffer.push(event);
      r.wake?.();
    }
  }

  /** Ends every iterator once its buffered events are read. */
  close(): void {
    this.#closed = true;
    for (const r of this.#readers) r.wake?.();
  }

  /** An iterator of the events from now on; `signal` ends it early. */
  subscribe(signal?: AbortSignal): AsyncIterableIterator<T> {
    const reader: Reader<T> = { buffer: [], wake: undefined };
    const readers = this.#readers;
    const closed = () => this.#closed;
    const onAbort = () => reader.wake?.();
    if (!this.#closed && !signal?.aborted) {
      readers.add(reader);
      signal?.addEventListener("abort", onAbort, { once: true });
    }
    const finish = (): IteratorResult<T> => {
      readers.delete(reader);
      signal?.removeEventListener("abort", onAbort);
      return { done: true, value: undefined };
    };
    return {
      async next(): Promise<IteratorResult<T>> {
        while (true) {
          if (reader.buffer.length > 0) return { done: false, value: reader.buffer.shift()! };
          if (closed() || signal?.aborted || !readers.has(reader)) return finish();
          await new Promise<void>((resolve) => reader.wake = resolve);
          reader.wake = undefined;
        }
      },
      return(): Promise<IteratorResult<T>> {
        const done = finish();
        reader.wake?.();
        return Promise.resolve(done);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
