/**
 * Incremental, bounded ZMTP frame decoder (RFC 23 "Framing"). It walks a
 * received chunk in place. A frame of at least {@linkcode VIEW_LIMIT} octets
 * wholly inside the chunk comes out as a zero-copy view; a smaller one is
 * copied out, so a frame the application keeps pins a bounded copy (see
 * {@linkcode runSize}) instead of the whole read chunk. Short runs of small
 * frames are copied into a slab shared by every decoder of the module (8 KiB,
 * or 64 KiB for frames over 256 octets), bump-allocated and never
 * overwritten: a request/reply round trip then allocates no `ArrayBuffer`
 * per message (each costs V8 far more than its bytes: its backing store, its
 * tracking, and the external-memory pressure that triggers full GCs), and a
 * kept frame pins at most its slab — libzmq's own granularity (its
 * `v2_decoder_t` hands out views of an 8 KiB batch). A frame straddling chunks is
 * reassembled into a buffer of its own, allocated only after its declared
 * size passed the `maxMessageSize` check. The limit applies per frame, as
 * libzmq's `v2_decoder_t` applies `ZMQ_MAXMSGSIZE`. Reserved flag bits are
 * ignored, as libzmq does.
 *
 * @module
 */

import { BROKEN, FRAME, type FrameReader, NEED_MORE } from "./_framing.ts";
import { EMPTY_BYTES, FLAG_LONG, type ViolationCode } from "./_wire.ts";

/**
 * Frames from this size on are handed out as views of the chunk they arrived
 * in. A view pins its whole chunk (256 KiB from the socket layer), so a kept
 * view costs at most 4x its size.
 */
export const VIEW_LIMIT = 64 * 1024;

/**
 * The most octets (headers included) of a run that copies frames of `size`
 * octets, which is what a kept frame can pin: at least 128 frames per run,
 * within 8 KiB and 64 KiB. Frames under `VIEW_LIMIT` are copied a run of
 * consecutive whole frames of one such class at a time (one copy per run,
 * into a shared slab for a short run, else into its own `ArrayBuffer`: a
 * fresh one costs microseconds in V8, more than decoding a small frame) and
 * handed out as views of their run's copy. The
 * floor of 8 KiB is libzmq's granularity: its `v2_decoder_t::size_ready`
 * makes frames over 33 octets zero-copy views of its 8 KiB read buffer
 * (`ZMQ_IN_BATCH_SIZE`).
 *
 * @returns The run size, or 0 for a frame handed out as a view.
 */
export function runSize(size: number): number {
  if (size <= 64) return 8192;
  if (size <= 128) return 16384;
  if (size <= 256) return 32768;
  return size < VIEW_LIMIT ? 65536 : 0;
}

/**
 * A bump-allocated copy target shared by all decoders: bytes once handed out
 * are never written again, a full slab is replaced (the old one lives as long
 * as a view of it does).
 */
class Slab {
  #size: number;
  #bytes: Uint8Array = EMPTY_BYTES;
  #used = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /** Copies `chunk[start, end)` in; returns the slab it is in, with `at` its offset there. */
  copy(chunk: Uint8Array, start: number, end: number): Uint8Array {
    const length = end - start;
    let bytes = this.#bytes;
    let at = this.#used;
    if (at + length > bytes.length) {
      bytes = this.#bytes = new Uint8Array(this.#size);
      at = 0;
    }
    if (length <= 64) {
      for (let i = 0; i < length; i++) bytes[at + i] = chunk[start + i];
    } else {
      bytes.set(chunk.subarray(start, end), at);
    }
    this.#used = at + length;
    this.at = at;
    return bytes;
  }

  /** Where the last `copy()` put its bytes. */
  at = 0;
}

/** Runs up to SMALL_RUN octets go to the small slab, runs of larger frames up to LARGE_RUN to the large one. */
const SMALL_RUN = 1024;
const LARGE_RUN = 16 * 1024;
const smallSlab = new Slab(8 * 1024);
const largeSlab = new Slab(64 * 1024);

/** Frames up to this size are reassembled in a buffer of their declared size at once. */
const EAGER_LIMIT = 1 << 20;

/**
 * A larger frame's buffer is allocated, at its declared size, once this
 * fraction (1/TRUST_FRACTION) of its bytes has arrived. libzmq's
 * `v2_decoder_t::size_ready` allocates the declared size at once (bounded
 * only by `ZMQ_MAXMSGSIZE`, which is unlimited by default), so a peer can make
 * it reserve any amount by sending a header. We keep the arriving pieces (views
 * of chunks, never copied) until a quarter of the frame came, then allocate
 * once and copy: a peer can make us reserve at most 4x what it really sent,
 * and an honest frame peaks at 1.25x its size with each byte copied once
 * (growing by doubling, as before, peaked at 2x and copied up to twice).
 */
const TRUST_FRACTION = 4;

export { BROKEN, FRAME, NEED_MORE };

/** Decodes frames from successive chunks; call `feed()` then `next()` until it is not `FRAME`. */
export class FrameDecoder implements FrameReader {
  #maxFrame: number;
  #chunk: Uint8Array = EMPTY_BYTES;
  #pos = 0;
  // A header split across chunks.
  #header = new Uint8Array(9);
  #headerHave = 0;
  // A body split across chunks: its buffer once allocated, else pieces (views of chunks).
  #partial: Uint8Array | undefined;
  #pieces: Uint8Array[] | undefined;
  #partialHave = 0;
  #partialSize = 0;
  #partialFlags = 0;
  // The frame last returned.
  #flags = 0;
  #body: Uint8Array = EMPTY_BYTES;
  #error = "";
  #errorCode: ViolationCode = "EPROTO";
  // Whether views of the current chunk were handed out or kept.
  #retains = false;
  // The copy of a run of frames of the current chunk, [runStart, runEnd), and its runSize():
  // Its bytes are in #runBuffer (a slab's, or the run's own copy's) from
  // #runBase + runStart: a frame at chunk offset pos is at #runBase + pos there.
  #runBuffer: ArrayBuffer = EMPTY_BYTES.buffer as ArrayBuffer;
  #runBase = 0;
  #runStart = 0;
  #runEnd = 0;
  #runClass = 0;

  /** @param maxFrame Largest accepted frame body, in octets (`Infinity` for none). */
  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
  }

  /** Flags of the frame last returned. */
  get flags(): number {
    return this.#flags;
  }

  /** Body of the frame last returned. */
  get body(): Uint8Array {
    return this.#body;
  }

  /** Why the stream is broken, after `next()` returned `BROKEN`. */
  get error(): string {
    return this.#error;
  }

  /** The libzmq code for `error`. */
  get errorCode(): ViolationCode {
    return this.#errorCode;
  }

  /**
   * Whether views of the current chunk were handed out (a frame of at least
   * `VIEW_LIMIT` octets) or kept (the first pieces of a large frame): if so
   * the chunk must not be overwritten; if not, it may be reused once used up.
   */
  get retainsChunk(): boolean {
    return this.#retains;
  }

  /** Whether undecoded bytes of the current chunk remain. */
  get hasInput(): boolean {
    return this.#pos < this.#chunk.length;
  }

  /** Starts decoding `chunk` from `start`; any earlier chunk must be used up. */
  feed(chunk: Uint8Array, start: number): void {
    this.#chunk = chunk;
    this.#pos = start;
    this.#retains = false;
    this.#runClass = 0;
  }

  /** Decodes the next frame of the current chunk. */
  next(): number {
    const chunk = this.#chunk;
    const end = chunk.length;
    let pos = this.#pos;
    if (this.#partialSize > 0) return this.#continueBody(chunk, pos, end);
    if (this.#headerHave > 0) return this.#continueHeader(chunk, pos, end);
    if (pos >= end) return this.#usedUp();
    const flags = chunk[pos];
    let size: number;
    if ((flags & FLAG_LONG) === 0) {
      if (pos + 2 > end) return this.#stashHeader(chunk, pos, end);
      size = chunk[pos + 1];
      pos += 2;
    } else {
      if (pos + 9 > end) return this.#stashHeader(chunk, pos, end);
      size = this.#longSize(chunk, pos + 1);
      if (size < 0) return BROKEN;
      pos += 9;
    }
    if (size > this.#maxFrame) return this.#tooLarge(size);
    if (pos + size <= end) return this.#whole(flags, chunk, pos, size);
    return this.#startBody(flags, size, chunk, pos, end);
  }

  /**
   * The chunk is used up: forget it, the run copied from it and the last
   * body, so a connection that goes quiet after a burst pins none of them
   * (its read buffer can go back to the pool, its last run to the GC).
   */
  #usedUp(): number {
    this.#chunk = EMPTY_BYTES;
    this.#pos = 0;
    this.#runBuffer = EMPTY_BYTES.buffer as ArrayBuffer;
    this.#runClass = 0;
    this.#body = EMPTY_BYTES;
    return NEED_MORE;
  }

  #longSize(bytes: Uint8Array, at: number): number {
    const hi =
      ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>>
      0;
    const lo = ((bytes[at + 4] << 24) | (bytes[at + 5] << 16) | (bytes[at + 6] << 8) |
      bytes[at + 7]) >>> 0;
    // 2^53 and above cannot be represented exactly, let alone allocated.
    if (hi >= 0x200000) {
      this.#error = "Frame size exceeds 2^53 octets";
      this.#errorCode = "EMSGSIZE";
      return -1;
    }
    return hi * 0x100000000 + lo;
  }

  #tooLarge(size: number): number {
    this.#error = `Frame of ${size} octets exceeds the maximum message size of ${this.#maxFrame}`;
    this.#errorCode = "EMSGSIZE";
    return BROKEN;
  }

  #stashHeader(chunk: Uint8Array, pos: number, end: number): number {
    const header = this.#header;
    let n = 0;
    while (pos < end) header[n++] = chunk[pos++];
    this.#headerHave = n;
    return this.#usedUp();
  }

  #continueHeader(chunk: Uint8Array, pos: number, end: number): number {
    const header = this.#header;
    const need = (header[0] & FLAG_LONG) === 0 ? 2 : 9;
    let have = this.#headerHave;
    while (have < need && pos < end) header[have++] = chunk[pos++];
    this.#headerHave = have;
    if (have < need) return this.#usedUp();
    this.#headerHave = 0;
    const flags = header[0];
    const size = need === 2 ? header[1] : this.#longSize(header, 1);
    if (size < 0) return BROKEN;
    if (size > this.#maxFrame) return this.#tooLarge(size);
    if (pos + size <= end) return this.#whole(flags, chunk, pos, size);
    return this.#startBody(flags, size, chunk, pos, end);
  }

  #whole(flags: number, chunk: Uint8Array, pos: number, size: number): number {
    this.#flags = flags;
    this.#pos = pos + size;
    const cls = runSize(size);
    if (cls === 0) {
      this.#body = chunk.subarray(pos, pos + size);
      this.#retains = true;
      return FRAME;
    }
    if (cls !== this.#runClass || pos < this.#runStart || pos + size > this.#runEnd) {
      this.#copyRun(chunk, pos, pos + size, cls);
    }
    // A constructed view: cheaper than subarray(), which looks up a species constructor.
    this.#body = new Uint8Array(this.#runBuffer, this.#runBase + pos, size);
    return FRAME;
  }

  // Copies the body from `pos` to `bodyEnd` and the whole frames of the same class after it.
  #copyRun(chunk: Uint8Array, pos: number, bodyEnd: number, cls: number): void {
    const limit = pos + cls;
    const end = chunk.length;
    let runEnd = bodyEnd;
    for (;;) {
      const q = runEnd;
      let size: number;
      let header: number;
      if (q + 2 > end) break;
      if ((chunk[q] & FLAG_LONG) === 0) {
        size = chunk[q + 1];
        header = 2;
      } else {
        if (q + 9 > end || chunk[q + 1] | chunk[q + 2] | chunk[q + 3] | chunk[q + 4]) break;
        size =
          ((chunk[q + 5] << 24) | (chunk[q + 6] << 16) | (chunk[q + 7] << 8) | chunk[q + 8]) >>>
          0;
        header = 9;
      }
      const next = q + header + size;
      if (next > end || next > limit || size > this.#maxFrame || runSize(size) !== cls) break;
      runEnd = next;
    }
    const length = runEnd - pos;
    let run: Uint8Array;
    let at = 0;
    if (length <= SMALL_RUN) {
      run = smallSlab.copy(chunk, pos, runEnd);
      at = smallSlab.at;
    } else if (length <= LARGE_RUN && cls === VIEW_LIMIT) {
      run = largeSlab.copy(chunk, pos, runEnd);
      at = largeSlab.at;
    } else {
      run = chunk.slice(pos, runEnd);
    }
    this.#runBuffer = run.buffer as ArrayBuffer;
    this.#runBase = run.byteOffset + at - pos;
    this.#runStart = pos;
    this.#runEnd = runEnd;
    this.#runClass = cls;
  }

  #startBody(flags: number, size: number, chunk: Uint8Array, pos: number, end: number): number {
    this.#partialHave = 0;
    this.#partialSize = size;
    this.#partialFlags = flags;
    if (size <= EAGER_LIMIT && !this.#allocate(size)) return BROKEN;
    return this.#continueBody(chunk, pos, end);
  }

  #allocate(size: number): boolean {
    try {
      this.#partial = new Uint8Array(size);
      return true;
    } catch {
      this.#partialSize = 0;
      this.#pieces = undefined;
      this.#error = `Cannot allocate a frame of ${size} octets`;
      this.#errorCode = "EMSGSIZE";
      return false;
    }
  }

  #continueBody(chunk: Uint8Array, pos: number, end: number): number {
    const have = this.#partialHave;
    const size = this.#partialSize;
    const take = Math.min(size - have, end - pos);
    const piece = chunk.subarray(pos, pos + take);
    this.#partialHave = have + take;
    this.#pos = pos + take;
    if (this.#partial !== undefined) {
      this.#partial.set(piece, have);
    } else if (take > 0) {
      // A large frame not yet trusted: keep the piece, copy nothing yet.
      appendPiece(this.#pieces ??= [], piece);
      this.#retains = true;
      if ((have + take) * TRUST_FRACTION >= size) {
        const pieces = this.#pieces;
        this.#pieces = undefined;
        if (!this.#allocate(size)) return BROKEN;
        let at = 0;
        for (const p of pieces) {
          this.#partial!.set(p, at);
          at += p.length;
        }
      }
    }
    if (have + take < size) return this.#usedUp();
    this.#flags = this.#partialFlags;
    this.#body = this.#partial!;
    this.#partial = undefined;
    this.#partialSize = 0;
    return FRAME;
  }
}

/**
 * Adds `piece` to `pieces`, merging it into the last one when it directly
 * follows it in the same buffer (the socket layer reads into one buffer end
 * to end): a peer trickling a large frame a byte per segment then costs one
 * view, not one per read.
 */
function appendPiece(pieces: Uint8Array[], piece: Uint8Array): void {
  const last = pieces[pieces.length - 1];
  if (
    last !== undefined && last.buffer === piece.buffer &&
    last.byteOffset + last.length === piece.byteOffset
  ) {
    pieces[pieces.length - 1] = new Uint8Array(
      last.buffer,
      last.byteOffset,
      last.length + piece.length,
    );
  } else {
    pieces.push(piece);
  }
}
