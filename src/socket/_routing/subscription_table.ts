/**
 * Counted prefix subscriptions (RFC 29) as a *sorted prefix table*: the
 * distinct prefixes, each copied into a one-byte string (one char per byte,
 * so string order is byte order), kept sorted in blocks of at most
 * {@linkcode BLOCK} entries with a count beside each.
 *
 * Why this design (measured in `routing_bench.ts` and `_memory_bench.ts`
 * against a compressed radix trie with the same string labels): a prefix
 * costs its own length plus ~60 bytes (a string header and two array slots),
 * where the radix trie spends a node object, a child array and often a split
 * node per prefix (~150-200 bytes); matching is a binary search over
 * contiguous arrays, as fast as the trie at 1 and 100 prefixes and faster at
 * 10 000; iteration in byte order is a cursor that survives changes; and no
 * operation recurses. The old byte trie cost ~416 bytes per topic byte.
 *
 * Matching `data`: find the greatest prefix `p <= data`. If `p` is a prefix
 * of `data`, it matches. Otherwise any matching prefix is no longer than
 * `l = lcp(p, data)` (a longer one would sort between `p` and `data`), so
 * search again for `data[0, l)`; `l` shrinks each round.
 *
 * Prefixes are copied, never kept as views: a topic read from the network is
 * a view into a 256 KiB read chunk that it must not pin.
 *
 * @module
 */

/** Most entries in one block: inserts move at most this many slots. */
const BLOCK = 512;

/** Bytes per `String.fromCharCode` call. */
const CHUNK = 8192;

interface Block {
  keys: string[];
  counts: number[];
}

/** The bytes of a prefix as a one-byte string (char code = byte). */
function keyOf(bytes: Uint8Array): string {
  const n = bytes.length;
  // fromCharCode.apply makes one flat string (concatenation would make a rope);
  // chunks keep the argument count small, and join() keeps the result flat.
  if (n <= CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  const parts: string[] = [];
  for (let i = 0; i < n; i += CHUNK) {
    parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]));
  }
  return parts.join("");
}

/** The bytes of a key. */
function bytesOf(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
}

/** Compares `key` with `data[0, len)` in byte order. */
function compare(key: string, data: Uint8Array, len: number): number {
  const kl = key.length;
  const m = kl < len ? kl : len;
  for (let i = 0; i < m; i++) {
    const d = key.charCodeAt(i) - data[i];
    if (d !== 0) return d;
  }
  return kl - len;
}

/** The length of the common prefix of `key` and `data[0, len)`. */
function common(key: string, data: Uint8Array, len: number): number {
  const m = key.length < len ? key.length : len;
  let i = 0;
  while (i < m && key.charCodeAt(i) === data[i]) i++;
  return i;
}

/** A set of subscribed prefixes with a count per prefix. */
export class SubscriptionTable {
  #blocks: Block[] = [];
  #distinct = 0;
  /** Bumped by every change of the set, so cursors know when to search again. */
  #version = 0;

  /** The number of distinct prefixes subscribed. */
  get size(): number {
    return this.#distinct;
  }

  /** Adds one subscription; returns true if the prefix was not subscribed before. */
  add(prefix: Uint8Array): boolean {
    const blocks = this.#blocks;
    if (blocks.length === 0) {
      blocks.push({ keys: [keyOf(prefix)], counts: [1] });
      return this.#changed(1);
    }
    const b = this.#blockFor(prefix, prefix.length);
    const block = blocks[b < 0 ? 0 : b];
    const i = lowerBound(block.keys, prefix);
    if (i < block.keys.length && compare(block.keys[i], prefix, prefix.length) === 0) {
      block.counts[i]++;
      return false;
    }
    block.keys.splice(i, 0, keyOf(prefix));
    block.counts.splice(i, 0, 1);
    if (block.keys.length > BLOCK) {
      const half = block.keys.length >> 1;
      blocks.splice(b < 0 ? 1 : b + 1, 0, {
        keys: block.keys.splice(half),
        counts: block.counts.splice(half),
      });
    }
    return this.#changed(1);
  }

  /**
   * Removes one subscription; returns true if it was the last one for the
   * prefix. Removing a prefix that is not subscribed returns false.
   */
  remove(prefix: Uint8Array): boolean {
    const b = this.#blockFor(prefix, prefix.length);
    if (b < 0) return false;
    const block = this.#blocks[b];
    const i = lowerBound(block.keys, prefix);
    if (i === block.keys.length || compare(block.keys[i], prefix, prefix.length) !== 0) {
      return false;
    }
    if (--block.counts[i] > 0) return false;
    block.keys.splice(i, 1);
    block.counts.splice(i, 1);
    const next = this.#blocks[b + 1];
    if (block.keys.length === 0) {
      this.#blocks.splice(b, 1);
    } else if (
      next !== undefined && block.keys.length < BLOCK >> 2 &&
      block.keys.length + next.keys.length <= BLOCK >> 1
    ) {
      // Churn must not leave a long tail of tiny blocks.
      block.keys.push(...next.keys);
      block.counts.push(...next.counts);
      this.#blocks.splice(b + 1, 1);
    }
    return this.#changed(-1);
  }

  /** Whether some subscribed prefix is a prefix of `data`. */
  matches(data: Uint8Array): boolean {
    const blocks = this.#blocks;
    if (blocks.length === 0) return false;
    if (blocks[0].keys[0].length === 0) return true; // "" matches everything
    let len = data.length;
    for (;;) {
      const b = this.#blockFor(data, len);
      if (b < 0) return false;
      const keys = blocks[b].keys;
      // The greatest key <= data[0, len): keys[0] is, so the answer is in the block.
      let lo = 0;
      let hi = keys.length;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (compare(keys[mid], data, len) <= 0) lo = mid;
        else hi = mid;
      }
      const key = keys[lo];
      const l = common(key, data, len);
      if (l === key.length) return true;
      if (l === 0) return false; // only "" could match, and it is not there
      len = l;
    }
  }

  /**
   * A cursor over the distinct prefixes in byte order. It may be advanced
   * a few prefixes at a time while the table changes: it then yields every
   * prefix still present past its position, each once.
   */
  cursor(): SubscriptionCursor {
    return new SubscriptionCursor(this);
  }

  /** Every distinct prefix once, in byte order (a fresh copy each). */
  *[Symbol.iterator](): IterableIterator<Uint8Array> {
    const c = this.cursor();
    for (let p = c.next(); p !== undefined; p = c.next()) yield p;
  }

  /** Removes everything. */
  clear(): void {
    this.#blocks = [];
    this.#distinct = 0;
    this.#version++;
  }

  /** The block and index of the first key after `last` (the first key if undefined); internal. */
  _seek(last: string | undefined): [version: number, block: number, index: number] {
    const blocks = this.#blocks;
    if (last === undefined) return [this.#version, 0, 0];
    // The first block whose first key is > last, minus one.
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (blocks[mid].keys[0] <= last) lo = mid + 1;
      else hi = mid;
    }
    const b = lo - 1;
    if (b < 0) return [this.#version, 0, 0];
    const keys = blocks[b].keys;
    let i = 0;
    let j = keys.length;
    while (i < j) {
      const mid = (i + j) >> 1;
      if (keys[mid] <= last) i = mid + 1;
      else j = mid;
    }
    return i === keys.length ? [this.#version, b + 1, 0] : [this.#version, b, i];
  }

  /** The key at a position from {@linkcode _seek}, if the table did not change since; internal. */
  _at(version: number, block: number, index: number): string | undefined {
    if (version !== this.#version) return undefined;
    return this.#blocks[block]?.keys[index];
  }

  /** Whether a position is current; internal. */
  _current(version: number): boolean {
    return version === this.#version;
  }

  /** The index of the last block whose first key is <= data[0, len), or -1. */
  #blockFor(data: Uint8Array, len: number): number {
    const blocks = this.#blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(blocks[mid].keys[0], data, len) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  #changed(delta: number): true {
    this.#distinct += delta;
    this.#version++;
    return true;
  }
}

/** The first index whose key is >= `data`. */
function lowerBound(keys: string[], data: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(keys[mid], data, data.length) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A position in a {@linkcode SubscriptionTable}'s byte order, for work done
 * a slice at a time: each {@linkcode next} is O(1) while the table is
 * unchanged and one binary search after a change.
 */
export class SubscriptionCursor {
  readonly #table: SubscriptionTable;
  #last: string | undefined;
  #version = -1;
  #block = 0;
  #index = 0;
  #done = false;

  constructor(table: SubscriptionTable) {
    this.#table = table;
  }

  /** The next prefix (a fresh copy), or `undefined` at the end. */
  next(): Uint8Array | undefined {
    if (this.#done) return undefined;
    const t = this.#table;
    if (!t._current(this.#version)) {
      [this.#version, this.#block, this.#index] = t._seek(this.#last);
    }
    let key = t._at(this.#version, this.#block, this.#index);
    if (key === undefined) {
      // Past the end of a block: the next one, or the end.
      this.#block++;
      this.#index = 0;
      key = t._at(this.#version, this.#block, 0);
      if (key === undefined) {
        this.#done = true;
        return undefined;
      }
    }
    this.#index++;
    this.#last = key;
    return bytesOf(key);
  }

  /** Whether `topic` sorts at or before the cursor: {@linkcode next} will not yield it. */
  passed(topic: Uint8Array): boolean {
    if (this.#done) return true;
    const last = this.#last;
    return last !== undefined && compare(last, topic, topic.length) >= 0;
  }
}
