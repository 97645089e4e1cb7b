/**
 * Counted prefix subscriptions (RFC 29) as a compressed radix trie: each edge
 * holds a run of bytes as a one-byte string (char code = byte, so string
 * order is byte order), each node a count, and a node's children are sorted
 * by their first byte. No operation recurses: every walk is a loop, so a
 * topic of any length (a peer may subscribe a 1 MiB topic) costs heap, not
 * stack.
 *
 * Why a radix trie and not a sorted prefix table: both were built and
 * measured (`routing_bench.ts`; the sorted table is in this file's history).
 * Both cost about one byte of heap per topic byte (the old byte trie: 416).
 * The sorted table is leaner per topic (~45 bytes against 70-150) but its
 * matching is a binary search per candidate length: 3× slower than the trie
 * on a hit among 10 000 prefixes, up to 15× on a near miss, and a peer could
 * choose prefixes that make every message cost one search per byte. The trie
 * matches in one pass over the topic, never slower than the byte trie it
 * replaces, and stays within the per-topic bound (≤ 200 bytes).
 *
 * Labels are copies, never views: a topic read from the network is a view
 * into a 256 KiB read chunk that it must not pin.
 *
 * @module
 */

/** Bytes per `String.fromCharCode` call. */
const CHUNK = 8192;

/** `bytes[from, to)` as a flat one-byte string (a copy). */
function keyOf(bytes: Uint8Array, from: number, to: number): string {
  // fromCharCode.apply makes one flat string (concatenation would make a rope);
  // chunks keep the argument count small, and join() keeps the result flat.
  if (to - from <= CHUNK) {
    return String.fromCharCode.apply(null, bytes.subarray(from, to) as unknown as number[]);
  }
  const parts: string[] = [];
  for (let i = from; i < to; i += CHUNK) {
    const end = i + CHUNK < to ? i + CHUNK : to;
    parts.push(String.fromCharCode.apply(null, bytes.subarray(i, end) as unknown as number[]));
  }
  return parts.join("");
}

class Node {
  /** The bytes on the edge from the parent ("" for the root). */
  label: string;
  /** Subscriptions of exactly this node's prefix. */
  count = 0;
  /** Children sorted by their label's first byte; no two share it. */
  kids: Node[] | undefined = undefined;

  constructor(label: string) {
    this.label = label;
  }
}

/** The index of the first kid whose first byte is >= `c`. */
function lowerBound(kids: Node[], c: number): number {
  let lo = 0;
  let hi = kids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (kids[mid].label.charCodeAt(0) < c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The kid whose label starts with `c`, if any. */
function kidFor(kids: Node[], c: number): Node | undefined {
  if (kids.length <= 8) {
    for (let i = 0; i < kids.length; i++) if (kids[i].label.charCodeAt(0) === c) return kids[i];
    return undefined;
  }
  const kid = kids[lowerBound(kids, c)];
  return kid !== undefined && kid.label.charCodeAt(0) === c ? kid : undefined;
}

/** Whether `label` equals `data[pos, pos + label.length)` (which the caller checked fits). */
function labelAt(label: string, data: Uint8Array, pos: number): boolean {
  for (let i = 1; i < label.length; i++) if (label.charCodeAt(i) !== data[pos + i]) return false;
  return true;
}

/** A set of subscribed prefixes with a count per prefix. */
export class SubscriptionTable {
  #root = new Node("");
  #distinct = 0;

  /** The number of distinct prefixes subscribed. */
  get size(): number {
    return this.#distinct;
  }

  /** Adds one subscription; returns true if the prefix was not subscribed before. */
  add(prefix: Uint8Array): boolean {
    let node = this.#root;
    let pos = 0;
    while (pos < prefix.length) {
      const kids = node.kids ??= [];
      const c = prefix[pos];
      const i = lowerBound(kids, c);
      const kid = kids[i];
      if (kid === undefined || kid.label.charCodeAt(0) !== c) {
        const leaf = new Node(keyOf(prefix, pos, prefix.length));
        // An exact-size copy: splice would leave spare capacity in every small array.
        node.kids = [...kids.slice(0, i), leaf, ...kids.slice(i)];
        node = leaf;
        break;
      }
      const label = kid.label;
      let l = 1;
      while (
        l < label.length && pos + l < prefix.length && label.charCodeAt(l) === prefix[pos + l]
      ) {
        l++;
      }
      if (l < label.length) {
        // The prefix ends or turns inside the edge: split it.
        const mid = new Node(label.slice(0, l));
        kid.label = label.slice(l);
        mid.kids = [kid];
        kids[i] = mid;
        node = mid;
      } else {
        node = kid;
      }
      pos += l;
    }
    if (node.count++ > 0) return false;
    this.#distinct++;
    return true;
  }

  /**
   * Removes one subscription; returns true if it was the last one for the
   * prefix. Removing a prefix that is not subscribed returns false.
   */
  remove(prefix: Uint8Array): boolean {
    let parent: Node | undefined;
    let grand: Node | undefined;
    let node = this.#root;
    let pos = 0;
    while (pos < prefix.length) {
      const kid = node.kids === undefined ? undefined : kidFor(node.kids, prefix[pos]);
      if (kid === undefined) return false;
      const label = kid.label;
      if (pos + label.length > prefix.length || !labelAt(label, prefix, pos)) return false;
      pos += label.length;
      grand = parent;
      parent = node;
      node = kid;
    }
    if (node.count === 0) return false;
    if (--node.count > 0) return false;
    this.#distinct--;
    if (parent === undefined) return true; // the root ("") stays
    // Keep the trie compressed: a node without a count has two kids or more.
    const kids = node.kids?.length ?? 0;
    if (kids === 1) {
      this.#merge(parent, node);
    } else if (kids === 0) {
      const siblings = parent.kids!;
      if (siblings.length === 1) parent.kids = undefined;
      else {
        const i = siblings.indexOf(node);
        parent.kids = [...siblings.slice(0, i), ...siblings.slice(i + 1)];
      }
      if (grand !== undefined && parent.count === 0 && parent.kids?.length === 1) {
        this.#merge(grand, parent);
      }
    }
    return true;
  }

  /** Whether some subscribed prefix is a prefix of `data`. */
  matches(data: Uint8Array): boolean {
    let node = this.#root;
    if (node.count > 0) return true;
    let pos = 0;
    for (;;) {
      const kids = node.kids;
      if (kids === undefined || pos >= data.length) return false;
      const kid = kidFor(kids, data[pos]);
      if (kid === undefined) return false;
      const label = kid.label;
      if (pos + label.length > data.length || !labelAt(label, data, pos)) return false;
      if (kid.count > 0) return true;
      pos += label.length;
      node = kid;
    }
  }

  /**
   * A cursor over the distinct prefixes in byte order. It may be advanced
   * a few prefixes at a time while the table changes: it then yields every
   * prefix still present past its position, each once.
   */
  cursor(): SubscriptionCursor {
    return new SubscriptionCursor((last) => this.#after(last));
  }

  /** Every distinct prefix once, in byte order (a fresh copy each). */
  *[Symbol.iterator](): IterableIterator<Uint8Array> {
    const c = this.cursor();
    for (let p = c.next(); p !== undefined; p = c.next()) yield p;
  }

  /** Removes everything. */
  clear(): void {
    this.#root = new Node("");
    this.#distinct = 0;
  }

  /** Replaces `node` (a kid of `parent` with one kid) by that kid, joining their labels. */
  #merge(parent: Node, node: Node): void {
    const only = node.kids![0];
    only.label = node.label + only.label;
    const siblings = parent.kids!;
    siblings[siblings.indexOf(node)] = only;
  }

  /** The first prefix after `last` in byte order (the first of all if undefined). */
  #after(last: Uint8Array | undefined): Uint8Array | undefined {
    const root = this.#root;
    if (last === undefined) return root.count > 0 ? new Uint8Array(0) : this.#first([root], 0);
    // Walk down along `last`; `path` holds the nodes, `taken` each one's kid index.
    const path: Node[] = [root];
    const taken: number[] = [];
    let node = root;
    let pos = 0;
    let from = 0; // at `node`, the first kid index that sorts after `last`
    for (;;) {
      const kids = node.kids;
      if (pos === last.length) break; // `last` is this node: its kids all sort after it
      if (kids === undefined) {
        from = 0;
        break;
      }
      const c = last[pos];
      const i = lowerBound(kids, c);
      const kid = kids[i];
      if (kid === undefined || kid.label.charCodeAt(0) !== c) {
        from = i;
        break;
      }
      const label = kid.label;
      let j = 1;
      while (j < label.length && pos + j < last.length && label.charCodeAt(j) === last[pos + j]) {
        j++;
      }
      if (j === label.length) {
        path.push(kid);
        taken.push(i);
        node = kid;
        pos += j;
        from = 0;
        continue;
      }
      // `last` ends inside the edge (the kid's prefixes extend it) or turns
      // above it (the kid sorts after) or below it (the kid sorts before).
      from = pos + j === last.length || label.charCodeAt(j) > last[pos + j] ? i : i + 1;
      break;
    }
    // Climb until some node has a kid at or after `from`.
    for (;;) {
      const kids = node.kids;
      if (kids !== undefined && from < kids.length) {
        path.push(kids[from]);
        return this.#first(path, path.length - 1);
      }
      if (path.length === 1) return undefined;
      path.pop();
      node = path[path.length - 1];
      from = taken.pop()! + 1;
    }
  }

  /** The first prefix at or under `path[at]` (which has a count or kids), as bytes. */
  #first(path: Node[], at: number): Uint8Array | undefined {
    let node = path[at];
    if (at === 0) {
      // From the root, which has no count here: its first kid.
      if (node.kids === undefined) return undefined;
      node = node.kids[0];
      path.push(node);
    }
    while (node.count === 0) {
      node = node.kids![0];
      path.push(node);
    }
    let n = 0;
    for (let i = 1; i < path.length; i++) n += path[i].label.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (let i = 1; i < path.length; i++) {
      const label = path[i].label;
      for (let k = 0; k < label.length; k++) out[o++] = label.charCodeAt(k);
    }
    return out;
  }
}

/** Compares two byte strings in byte order. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const m = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < m; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * A position in a {@linkcode SubscriptionTable}'s byte order, for work done a
 * slice at a time: each {@linkcode next} is one walk down the trie, so it
 * stays right whatever changed in the table since the last step.
 */
export class SubscriptionCursor {
  readonly #after: (last: Uint8Array | undefined) => Uint8Array | undefined;
  #last: Uint8Array | undefined;
  #done = false;

  constructor(after: (last: Uint8Array | undefined) => Uint8Array | undefined) {
    this.#after = after;
  }

  /** The next prefix (a fresh copy the cursor keeps: do not modify it), or `undefined` at the end. */
  next(): Uint8Array | undefined {
    if (this.#done) return undefined;
    const next = this.#after(this.#last);
    if (next === undefined) this.#done = true;
    else this.#last = next;
    return next;
  }

  /** Whether `topic` sorts at or before the cursor, so {@linkcode next} will not yield it. */
  passed(topic: Uint8Array): boolean {
    return this.#done || (this.#last !== undefined && compareBytes(this.#last, topic) >= 0);
  }
}
