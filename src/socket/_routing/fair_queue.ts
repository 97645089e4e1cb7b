/**
 * Fair queuing of incoming messages, the policy of PULL, DEALER, ROUTER,
 * REP, SUB (RFC 28, 29, 30): each peer has its own FIFO and the reader takes
 * one message from each non-empty peer in turn, so a flooding peer cannot
 * starve the others. Each FIFO counts its items and, with a weigh function,
 * their bytes, for the receive high-water marks.
 *
 * @module
 */

/** One peer's FIFO inside a {@linkcode FairQueue}. */
export class FairQueueSource<K, T> {
  /** The key this source was added with. */
  readonly key: K;
  #items: T[] = [];
  #head = 0;
  #bytes = 0;
  #queue: FairQueue<K, T>;
  /** Whether this source sits in the queue's ring of non-empty sources. */
  active = false;
  /** Whether the source was removed. */
  removed = false;

  constructor(queue: FairQueue<K, T>, key: K) {
    this.#queue = queue;
    this.key = key;
  }

  /** Messages waiting from this source. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes of the waiting items, by the queue's weigh function (0 without one). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends an item. */
  push(item: T): void {
    this.#items.push(item);
    this.#bytes += this.#queue.weigh(item);
    if (!this.active && !this.removed) this.#queue._activate(this);
  }

  /** Replaces everything waiting with `item` (conflation). */
  replace(item: T): void {
    this.#items = [item];
    this.#head = 0;
    this.#bytes = this.#queue.weigh(item);
    if (!this.active && !this.removed) this.#queue._activate(this);
  }

  /** Takes the oldest item. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    (this.#items as (T | undefined)[])[this.#head] = undefined;
    this.#head++;
    this.#bytes -= this.#queue.weigh(item);
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

/** Round-robin over per-source FIFOs. */
export class FairQueue<K, T> {
  #ring: FairQueueSource<K, T>[] = [];
  /** The size of an item in bytes, for {@linkcode FairQueueSource.bytes}. */
  readonly weigh: (item: T) => number;

  /** @param weigh The size of an item in bytes; by default every item weighs 0. */
  constructor(weigh: (item: T) => number = () => 0) {
    this.weigh = weigh;
  }

  /** The key of the source the last {@linkcode shift} took from. */
  lastKey: K | undefined;

  /** Adds a source for `key`. */
  add(key: K): FairQueueSource<K, T> {
    return new FairQueueSource(this, key);
  }

  /** Puts a source that just became non-empty into the ring; internal. */
  _activate(source: FairQueueSource<K, T>): void {
    source.active = true;
    this.#ring.push(source);
  }

  /**
   * Removes a source; its waiting items stay readable when `keep` is true
   * (messages a peer sent before leaving are still delivered, as libzmq does).
   */
  remove(source: FairQueueSource<K, T>, keep: boolean): void {
    if (keep) return; // drained normally, then dropped from the ring when empty
    source.removed = true;
    while (source.shift() !== undefined) { /* drop */ }
  }

  /** Takes the next item in fair order, or `undefined` when all are empty. */
  shift(): T | undefined {
    const ring = this.#ring;
    while (ring.length > 0) {
      const source = ring[0];
      const item = source.shift();
      if (item === undefined) {
        ring.shift();
        source.active = false;
        continue;
      }
      // With one active source (the common case) the ring is left as it is.
      if (ring.length > 1) {
        ring.shift();
        if (source.size > 0) ring.push(source);
        else source.active = false;
      } else if (source.size === 0) {
        ring.pop();
        source.active = false;
      }
      this.lastKey = source.key;
      return item;
    }
    return undefined;
  }

  /** Whether any source has an item. */
  get empty(): boolean {
    for (const s of this.#ring) if (s.size > 0) return false;
    return true;
  }
}
