/**
 * The FIFO of `send()`/`receive()` calls waiting on a socket: a ring buffer
 * with O(1) push, shift and removal. A million unawaited sends queue here, so
 * an array drained with `shift()` (O(n) each) or a cancelled waiter removed
 * with `indexOf` + `splice` would make that quadratic. A removed waiter is
 * only marked; shift skips it, and the ring is compacted once the marked
 * outnumber the live, so memory stays proportional to the live waiters.
 *
 * @module
 */

/** An entry of a {@linkcode WaiterQueue}; the queue owns `queued`. */
export interface Queued {
  /** Whether the entry is in a queue (not yet shifted, removed or drained). */
  queued: boolean;
}

const MIN_CAPACITY = 16;
/** An empty ring larger than this is given back, so one burst does not pin its memory. */
const SHRINK_ABOVE = 1024;

/** A FIFO of waiters with O(1) push, shift, peek and remove. */
export class WaiterQueue<T extends Queued> {
  #ring: (T | undefined)[] = new Array(MIN_CAPACITY);
  #mask = MIN_CAPACITY - 1;
  #head = 0;
  /** Slots in use, removed entries included. */
  #used = 0;
  #live = 0;

  /** Waiters in the queue (removed ones not counted). */
  get length(): number {
    return this.#live;
  }

  /** Slots the ring holds now, removed entries included (for memory checks). */
  get capacity(): number {
    return this.#ring.length;
  }

  /** Appends a waiter. */
  push(item: T): void {
    if (this.#used > this.#mask) this.#resize(this.#ring.length * 2);
    this.#ring[(this.#head + this.#used) & this.#mask] = item;
    this.#used++;
    this.#live++;
    item.queued = true;
  }

  /** The oldest waiter, left in the queue; `undefined` when empty. */
  peek(): T | undefined {
    this.#skipRemoved();
    return this.#live > 0 ? this.#ring[this.#head] : undefined;
  }

  /** Takes the oldest waiter; `undefined` when empty. */
  shift(): T | undefined {
    this.#skipRemoved();
    if (this.#live === 0) return undefined;
    const item = this.#ring[this.#head]!;
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#used--;
    this.#live--;
    item.queued = false;
    if (this.#used === 0 && this.#ring.length > SHRINK_ABOVE) this.#clear();
    return item;
  }

  /** Takes `item` out wherever it is; false if it was not queued. */
  remove(item: T): boolean {
    if (!item.queued) return false;
    item.queued = false;
    this.#live--;
    if (this.#live === 0) this.#clear();
    else if (this.#used - this.#live > this.#live && this.#used > MIN_CAPACITY) {
      this.#compact();
    }
    return true;
  }

  /** Takes every waiter out, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    this.#clear();
    return out;
  }

  #skipRemoved(): void {
    while (this.#used > 0) {
      const item = this.#ring[this.#head]!;
      if (item.queued) return;
      this.#ring[this.#head] = undefined;
      this.#head = (this.#head + 1) & this.#mask;
      this.#used--;
    }
  }

  /** Empties the ring; removed entries may still sit in slots, so drop the references. */
  #clear(): void {
    if (this.#ring.length > SHRINK_ABOVE) {
      this.#ring = new Array(MIN_CAPACITY);
      this.#mask = MIN_CAPACITY - 1;
    } else if (this.#used > 0) {
      this.#ring.fill(undefined);
    }
    this.#head = 0;
    this.#used = 0;
  }

  /** Keeps only live entries, in order; O(n) once per n/2 removals. */
  #compact(): void {
    let capacity = MIN_CAPACITY;
    while (capacity < this.#live * 2) capacity *= 2;
    const ring: (T | undefined)[] = new Array(capacity);
    let n = 0;
    for (let i = 0; i < this.#used; i++) {
      const item = this.#ring[(this.#head + i) & this.#mask]!;
      if (item.queued) ring[n++] = item;
    }
    this.#ring = ring;
    this.#mask = capacity - 1;
    this.#head = 0;
    this.#used = n;
  }

  #resize(capacity: number): void {
    const ring: (T | undefined)[] = new Array(capacity);
    for (let i = 0; i < this.#used; i++) ring[i] = this.#ring[(this.#head + i) & this.#mask];
    this.#ring = ring;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}
