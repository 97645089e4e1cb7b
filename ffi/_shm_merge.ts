/**
 * One listener over two: a native shm:// bind serves connecters of other
 * processes (the host's Unix rendezvous) and of Workers of its own process
 * (the Worker rings) under one name. Each source is accepted from in the
 * background into one queue; neither can reject into the caller.
 *
 * @module
 */

import type { Connection, Listener } from "../src/transport/types.ts";

/** A {@linkcode Listener} accepting from every one of `sources`, closing them all at close. */
class MergedListener implements Listener, Disposable {
  readonly endpoint: string;
  #sources: Listener[];
  #ready: Connection[] = [];
  #accepting: ((conn: Connection | null) => void)[] = [];
  #closed = false;
  #open: number;

  constructor(sources: Listener[]) {
    this.#sources = sources;
    this.endpoint = sources[0].endpoint;
    this.#open = sources.length;
    for (const source of sources) this.#pump(source).catch(() => {}); // #pump handles its own errors
  }

  async #pump(source: Listener): Promise<void> {
    for (;;) {
      let conn: Connection | null;
      try {
        conn = await source.accept();
      } catch {
        conn = null;
      }
      if (conn === null) break;
      if (this.#closed) {
        conn.close();
        continue;
      }
      const accept = this.#accepting.shift();
      if (accept !== undefined) accept(conn);
      else this.#ready.push(conn);
    }
    // A source that ended on its own: once all have, so has this listener.
    if (--this.#open === 0) this.close();
  }

  accept(): Promise<Connection | null> {
    if (this.#closed) return Promise.resolve(null);
    const conn = this.#ready.shift();
    if (conn !== undefined) return Promise.resolve(conn);
    return new Promise((resolve) => this.#accepting.push(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const source of this.#sources) source.close();
    for (const accept of this.#accepting) accept(null);
    this.#accepting = [];
    for (const conn of this.#ready) conn.close();
    this.#ready = [];
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Merges listeners of one endpoint; the result's `endpoint` is the first's.
 *
 * @param first The listener whose endpoint names the result.
 * @param rest More listeners of the same endpoint.
 * @returns A listener that accepts from all and closes all.
 */
export function mergeListeners(first: Listener, ...rest: Listener[]): Listener & Disposable {
  return new MergedListener([first, ...rest]);
}
