/**
 * A map keyed by byte strings (ROUTER routing ids), built so a lookup never
 * allocates: a send names its peer by a `Uint8Array`, and turning that into a
 * string key on every send cost O(length) allocations per message, which a
 * peer announcing a 255-byte (or, from a connect option, far longer) id
 * controls. Two levels:
 *
 * - an identity cache: the arrays given to {@linkcode BytesMap.set} (the id a
 *   ROUTER hands out as frame 0 of every received message, which a replying
 *   application echoes) are found by reference, O(1) whatever their length;
 * - a hash map for any other array with the same bytes: a seeded hash over the
 *   bytes picks a bucket, and a byte comparison confirms the entry, with no
 *   allocation.
 *
 * Keys are copied once when set, so an application that later mutates an
 * array it passed in cannot corrupt the table; the array itself stays an
 * identity alias for its entry until the entry is deleted.
 *
 * @module
 */

interface Entry<V> {
  /** A private copy of the key's bytes. */
  readonly bytes: Uint8Array;
  /** The array the key was set with (the identity alias). */
  readonly alias: Uint8Array;
  readonly hash: number;
  value: V;
}

/** Byte-string keyed map with allocation-free lookups; internal. */
export class BytesMap<V> {
  #byRef = new Map<Uint8Array, Entry<V>>();
  #buckets = new Map<number, Entry<V>[]>();
  #size = 0;
  // A per-map seed keeps a peer from choosing ids that all land in one bucket.
  readonly #seed = (Math.random() * 0x1_0000_0000) >>> 0;

  /** How many keys are in the map. */
  get size(): number {
    return this.#size;
  }

  /** The value for the bytes of `key`, or `undefined`. */
  get(key: Uint8Array): V | undefined {
    return this.#find(key)?.value;
  }

  /** Whether the bytes of `key` are in the map. */
  has(key: Uint8Array): boolean {
    return this.#find(key) !== undefined;
  }

  /** Sets the value for the bytes of `key`; `key` becomes an identity alias for the entry. */
  set(key: Uint8Array, value: V): void {
    const found = this.#find(key);
    if (found !== undefined) {
      found.value = value;
      return;
    }
    const hash = this.#hash(key);
    const entry: Entry<V> = { bytes: key.slice(), alias: key, hash, value };
    const bucket = this.#buckets.get(hash);
    if (bucket === undefined) this.#buckets.set(hash, [entry]);
    else bucket.push(entry);
    this.#byRef.set(key, entry);
    this.#size++;
  }

  /** Removes the bytes of `key`; returns whether they were there. */
  delete(key: Uint8Array): boolean {
    const entry = this.#find(key);
    if (entry === undefined) return false;
    const bucket = this.#buckets.get(entry.hash)!;
    if (bucket.length === 1) this.#buckets.delete(entry.hash);
    else bucket.splice(bucket.indexOf(entry), 1);
    this.#byRef.delete(entry.alias);
    this.#size--;
    return true;
  }

  #find(key: Uint8Array): Entry<V> | undefined {
    const hit = this.#byRef.get(key);
    if (hit !== undefined) return hit;
    const bucket = this.#buckets.get(this.#hash(key));
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      if (equal(bucket[i].bytes, key)) return bucket[i];
    }
    return undefined;
  }

  /** A seeded 32-bit hash over the bytes (FNV-1a steps, murmur3's final mix). */
  #hash(key: Uint8Array): number {
    let h = (this.#seed ^ key.length) >>> 0;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i], 0x0100_0193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85eb_ca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2_ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
