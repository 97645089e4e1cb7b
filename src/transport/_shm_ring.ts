/**
 * The shared memory of one shm:// connection: two single-producer,
 * single-consumer byte rings, one per direction, read and written in place.
 * Between processes the memory is a native mapping viewed through
 * `Deno.UnsafePointerView.getArrayBuffer` (`ffi/_shm*.ts`); between Workers
 * of one process it is a `SharedArrayBuffer` (`shm_worker.ts`). Either way
 * data crosses with one copy in and one copy out and no system call while
 * both sides are busy.
 *
 * Each ring is a 256-byte header and `capacity` bytes of data. The header
 * holds free-running 32-bit indices, each on its own cache line: `head`
 * (written only by the consumer), `tail` (only by the producer), and two
 * "parked" flags a side sets before it sleeps, which the other side clears
 * (compare-and-swap) when it must ring the doorbell. Each side keeps its own
 * index in private memory and only publishes it: a hostile peer can scribble
 * over the mapping, but the worst it can make us see is an index out of range
 * (then the ring is "corrupt" and the connection is dropped) or garbage bytes
 * (then the ZMTP decoder drops it).
 *
 * @module
 */

/** Bytes of one ring's header. */
export const HEADER = 256;
/** Data bytes per ring and direction (a power of two). */
export const CAPACITY = 256 * 1024;
/** Bytes of a mapping: two rings. */
export function mappingSize(capacity: number): number {
  return 2 * (HEADER + capacity);
}

// Header fields, as Int32Array indices relative to the ring's start.
const HEAD = 0;
const TAIL = 16;
const READER_PARKED = 32;
const WRITER_PARKED = 48;

/** Thrown by the ring when the peer published an impossible index. */
export class CorruptRing extends Error {
  /** @param what Which index was out of range. */
  constructor(what: string) {
    super(`Shared-memory peer published an impossible ${what}`);
    this.name = "CorruptRing";
  }
}

/** One direction of a mapping, as seen by one side (consumer or producer). */
export class RingView {
  readonly capacity: number;
  #u8: Uint8Array;
  #i32: Int32Array;
  #data: number;
  #base: number;
  /** Our own index (head if we consume, tail if we produce), never read back from the mapping. */
  #mine: number;

  /**
   * @param buffer The whole mapping.
   * @param ring 0 (binder → connecter) or 1 (connecter → binder).
   * @param capacity Data bytes per ring.
   */
  constructor(buffer: ArrayBufferLike, ring: 0 | 1, capacity: number) {
    this.capacity = capacity;
    this.#base = ring * (HEADER + capacity);
    this.#data = this.#base + HEADER;
    this.#u8 = new Uint8Array(buffer);
    this.#i32 = new Int32Array(buffer, this.#base, HEADER / 4);
    this.#mine = 0;
  }

  /** Forgets the mapping (before it is unmapped): later use throws instead of faulting. */
  detach(): void {
    this.#u8 = new Uint8Array(0);
    this.#i32 = new Int32Array(0);
  }

  // ---- consumer side ----

  /** Bytes readable now; throws CorruptRing if the producer's tail is impossible. */
  readable(): number {
    const n = (Atomics.load(this.#i32, TAIL) - this.#mine) >>> 0;
    if (n > this.capacity) throw new CorruptRing("tail");
    return n;
  }

  /** Copies up to `into.length` readable bytes out; returns how many. */
  read(into: Uint8Array): number {
    const n = Math.min(this.readable(), into.length);
    if (n === 0) return 0;
    const pos = this.#mine & (this.capacity - 1);
    const first = Math.min(n, this.capacity - pos);
    const start = this.#data + pos;
    into.set(this.#u8.subarray(start, start + first));
    if (n > first) into.set(this.#u8.subarray(this.#data, this.#data + n - first), first);
    this.#mine = (this.#mine + n) >>> 0;
    Atomics.store(this.#i32, HEAD, this.#mine | 0);
    return n;
  }

  // ---- producer side ----

  /** Bytes writable now; throws CorruptRing if the consumer's head is impossible. */
  writable(): number {
    const used = (this.#mine - Atomics.load(this.#i32, HEAD)) >>> 0;
    if (used > this.capacity) throw new CorruptRing("head");
    return this.capacity - used;
  }

  /** Copies as much of `from` in as fits, without publishing it; returns how many. */
  write(from: Uint8Array): number {
    const n = Math.min(this.writable(), from.length);
    if (n === 0) return 0;
    const pos = this.#mine & (this.capacity - 1);
    const first = Math.min(n, this.capacity - pos);
    this.#u8.set(first === from.length ? from : from.subarray(0, first), this.#data + pos);
    if (n > first) this.#u8.set(from.subarray(first, n), this.#data);
    this.#mine = (this.#mine + n) >>> 0;
    return n;
  }

  /** Makes what {@linkcode RingView.write} copied visible to the consumer. */
  publish(): void {
    Atomics.store(this.#i32, TAIL, this.#mine | 0);
  }

  // ---- parking (an eventcount: set the flag, check again, then sleep) ----

  /** Marks the consumer (`"reader"`) or producer (`"writer"`) of this ring as about to sleep. */
  park(who: "reader" | "writer"): void {
    Atomics.store(this.#i32, who === "reader" ? READER_PARKED : WRITER_PARKED, 1);
  }

  /** Clears our own parked flag once awake (a doorbell may still be on its way: harmless). */
  unpark(who: "reader" | "writer"): void {
    Atomics.store(this.#i32, who === "reader" ? READER_PARKED : WRITER_PARKED, 0);
  }

  /** Whether the other side is parked and we won the right to wake it (clears its flag). */
  shouldWake(who: "reader" | "writer"): boolean {
    const at = who === "reader" ? READER_PARKED : WRITER_PARKED;
    return Atomics.load(this.#i32, at) !== 0 && Atomics.compareExchange(this.#i32, at, 1, 0) === 1;
  }

  /**
   * Worker rings: sleeps while our parked flag stays set, until the peer
   * clears it and calls {@linkcode RingView.notify} (or we do, to wake
   * ourselves at close). Resolves at once if the flag is already clear. Needs
   * a `SharedArrayBuffer` (and `Atomics.waitAsync`).
   */
  sleep(who: "reader" | "writer"): Promise<unknown> {
    const waited = Atomics.waitAsync(
      this.#i32,
      who === "reader" ? READER_PARKED : WRITER_PARKED,
      1,
    );
    return waited.async ? waited.value : Promise.resolve(waited.value);
  }

  /** Worker rings: wakes the side sleeping in {@linkcode RingView.sleep}, once its flag is clear. */
  notify(who: "reader" | "writer"): void {
    Atomics.notify(this.#i32, who === "reader" ? READER_PARKED : WRITER_PARKED);
  }

  /** Clears a parked flag and wakes whoever sleeps on it: at close, ours or the peer's. */
  release(who: "reader" | "writer"): void {
    if (this.#i32.length === 0) return;
    this.unpark(who);
    this.notify(who);
  }

  /** Test hook: overwrites a header index as a hostile peer could. */
  scribble(field: "head" | "tail", value: number): void {
    Atomics.store(this.#i32, field === "head" ? HEAD : TAIL, value | 0);
  }
}
