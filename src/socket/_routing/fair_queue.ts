/**
 * Fair queuing of incoming messages, the policy of PULL, DEALER, ROUTER,
 * REP, SUB (RFC 28, 29, 30): each peer has its own FIFO and the reader takes
 * one message from each non-empty peer in turn, so a flooding peer cannot
 * starve the others. Each FIFO counts its items and, with a weigh function,
 * their bytes, for the receive high-water marks.
 *
 * @module
 */

/** Capacity of a source's ring on its first item. */
const FIRST_CAPACITY = 8;
/**
 * A ring larger than this is let go when it empties: a peer that sent one
 * burst and went quiet keeps no large array, while one that keeps a steady
 * backlog below it reuses its ring instead of regrowing an array per batch
 * (emptying a JS array by `length = 0` frees its storage).
 */
const KEEP_CAPACITY = 256;

/** One peer's FIFO inside a {@linkcode FairQueue}: a ring of items, power-of-two sized. */
export class FairQueueSource<K, T> {
  /** The key this source was added with. */
  readonly key: K;
  #items: (T | undefined)[] = [];
  #head = 0;
  #count = 0;
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
    return this.#count;
  }

  /** Bytes of the waiting items, by the queue's weigh function (0 without one). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends an item. */
  push(item: T): void {
    const items = this.#items;
    const capacity = items.length;
    if (this.#count === capacity) {
      this.#grow(capacity);
      this.#items[this.#count] = item;
    } else {
      items[(this.#head + this.#count) & (capacity - 1)] = item;
    }
    this.#count++;
    const weigh = this.#queue.weighItem;
    if (weigh !== undefined) this.#bytes += weigh(item);
    if (!this.active && !this.removed) this.#queue._activate(this);
  }

  /** Replaces everything waiting with `item` (conflation). */
  replace(item: T): void {
    this.#items = [item];
    this.#head = 0;
    this.#count = 1;
    this.#bytes = this.#queue.weigh(item);
    if (!this.active && !this.removed) this.#queue._activate(this);
  }

  /** Takes the oldest item. */
  shift(): T | undefined {
    if (this.#count === 0) return undefined;
    const items = this.#items;
    const head = this.#head;
    const item = items[head] as T;
    items[head] = undefined;
    const weigh = this.#queue.weighItem;
    if (weigh !== undefined) this.#bytes -= weigh(item);
    if (--this.#count === 0) {
      this.#head = 0;
      if (items.length > KEEP_CAPACITY) this.#items = [];
    } else {
      this.#head = (head + 1) & (items.length - 1);
    }
    return item;
  }

  /** Doubles the ring (from FIRST_CAPACITY), its items moved to the front in order. */
  #grow(capacity: number): void {
    const items = this.#items;
    const next = new Array<T | undefined>(capacity === 0 ? FIRST_CAPACITY : capacity * 2);
    for (let i = 0; i < capacity; i++) next[i] = items[(this.#head + i) & (capacity - 1)];
    this.#items = next;
    this.#head = 0;
  }
}

/** Round-robin over per-source FIFOs. */
export class FairQueue<K, T> {
  #ring: FairQueueSource<K, T>[] = [];
  /** The size of an item in bytes, for {@linkcode FairQueueSource.bytes}. */
  readonly weigh: (item: T) => number;
  /** The weigh function given, or `undefined`: then no call per item (the common case). */
  readonly weighItem: ((item: T) => number) | undefined;

  /** @param weigh The size of an item in bytes; by default every item weighs 0. */
  constructor(weigh?: (item: T) => number) {
    this.weighItem = weigh;
    this.weigh = weigh ?? (() => 0);
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
    // Indexed: a for-of iterator is an allocation, and this runs per enqueue.
    const ring = this.#ring;
    for (let i = 0; i < ring.length; i++) if (ring[i].size > 0) return false;
    return true;
  }
}
