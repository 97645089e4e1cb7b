/**
 * Round-robin choice among peers that have room, the outgoing policy of
 * PUSH, DEALER, REQ (RFC 28, RFC 30): each message goes to the next peer in
 * turn that can take it, so a slow peer is skipped rather than waited for.
 *
 * @module
 */

/** Round-robin over a changing set of items. */
export class LoadBalancer<T> {
  #items: T[] = [];
  #next = 0;

  /** The number of items. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds an item (no effect if present). */
  add(item: T): void {
    if (!this.#items.includes(item)) this.#items.push(item);
  }

  /** Removes an item (no effect if absent). */
  remove(item: T): void {
    const i = this.#items.indexOf(item);
    if (i < 0) return;
    this.#items.splice(i, 1);
    if (this.#next > i) this.#next--;
    if (this.#next >= this.#items.length) this.#next = 0;
  }

  /**
   * The next item in turn for which `ready` holds, advancing past it; or
   * `undefined` if none is ready.
   */
  next(ready: (item: T) => boolean): T | undefined {
    const items = this.#items;
    const n = items.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#next + k) % n;
      const item = items[i];
      if (ready(item)) {
        this.#next = (i + 1) % n;
        return item;
      }
    }
    return undefined;
  }
}
