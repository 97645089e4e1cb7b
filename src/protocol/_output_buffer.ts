/**
 * The outgoing byte queue of a session. Frame headers and small bodies are
 * gathered into a chunk by bump allocation: `take()` hands out
 * `chunk.subarray(start, used)` and later writes continue after `used` in the
 * same chunk, so bytes already handed out are never overwritten. A body larger
 * than {@linkcode COPY_LIMIT} goes out as its own view, uncopied.
 *
 * Memory follows demand, never the peak: a chunk grows (doubling up to
 * {@linkcode CHUNK_SIZE}) only while one batch needs more room, and `take()`
 * lets go of any chunk larger than {@linkcode KEEP_SIZE}, so the next batch
 * gets one sized to what the last batch used. A connection that idles, or
 * whose peer stopped reading, then pins at most a small chunk here and the
 * bytes of its one write in flight: a batch handed out as one view of a
 * released chunk is copied to its own exact-size buffer when much of the
 * chunk would otherwise stay pinned by it (several views are copied together
 * by the stream transport anyway).
 *
 * @module
 */

import type { FrameWriter } from "./_framing.ts";
import { FLAG_LONG } from "./_wire.ts";

/** Largest chunk a batch grows to. */
export const CHUNK_SIZE = 64 * 1024;
/** Chunks up to this size are kept across batches; larger ones are let go by `take()`. */
export const KEEP_SIZE = 4 * 1024;
/** Size of the first chunk: an idle connection only ever writes its handshake. */
const FIRST_CHUNK_SIZE = 512;
/** Bodies larger than this are queued as views instead of being copied. */
export const COPY_LIMIT = 8 * 1024;
/**
 * A released chunk whose handed-out region would leave more than this (and
 * more than a quarter of the region) pinned unused is copied out.
 */
const LOOSE_SLACK = 1024;

const NO_OUTPUT: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];
const EMPTY = new Uint8Array(0);

/** A chunk for a batch like the last one: its size plus an eighth, in 64-octet steps. */
function sizeFor(batch: number): number {
  const size = (batch + (batch >> 3) + 63) & ~63;
  return Math.min(CHUNK_SIZE, Math.max(FIRST_CHUNK_SIZE, size));
}

/** Encodes frames into a queue of byte arrays to write, in order. */
export class OutputBuffer implements FrameWriter {
  #chunk: Uint8Array = EMPTY;
  #start = 0;
  #used = 0;
  /** Where in the current chunk the bytes of the batch being built begin. */
  #batchStart = 0;
  /** Bytes this batch has put into chunks (for sizing the next batch's first chunk). */
  #batchBytes = 0;
  #nextSize = FIRST_CHUNK_SIZE;
  #queue: Uint8Array[] = [];
  #queued = 0;

  /** Octets waiting to be taken. */
  get size(): number {
    return this.#queued + this.#used - this.#start;
  }

  /** Bytes of chunk memory held between batches (for tests and memory accounting). */
  get retained(): number {
    return this.#chunk.length;
  }

  /** Queues raw bytes (the greeting), copied. */
  writeRaw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#chunk.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /** Queues one frame: `flags`, then `prefix` and `body` as its body. */
  writeFrame(flags: number, prefix: Uint8Array | undefined, body: Uint8Array): void {
    const prefixLength = prefix === undefined ? 0 : prefix.length;
    const bodyLength = body.length;
    const size = prefixLength + bodyLength;
    const headerLength = size > 255 ? 9 : 2;
    const inline = bodyLength <= COPY_LIMIT;
    this.#reserve(headerLength + prefixLength + (inline ? bodyLength : 0));
    const chunk = this.#chunk;
    let p = this.#used;
    if (headerLength === 2) {
      chunk[p] = flags;
      chunk[p + 1] = size;
      p += 2;
    } else {
      chunk[p] = flags | FLAG_LONG;
      const hi = Math.floor(size / 0x100000000);
      chunk[p + 1] = hi >>> 24;
      chunk[p + 2] = (hi >>> 16) & 0xff;
      chunk[p + 3] = (hi >>> 8) & 0xff;
      chunk[p + 4] = hi & 0xff;
      chunk[p + 5] = size >>> 24;
      chunk[p + 6] = (size >>> 16) & 0xff;
      chunk[p + 7] = (size >>> 8) & 0xff;
      chunk[p + 8] = size & 0xff;
      p += 9;
    }
    if (prefix !== undefined) {
      for (let i = 0; i < prefixLength; i++) chunk[p + i] = prefix[i];
      p += prefixLength;
    }
    if (inline) {
      if (bodyLength <= 32) {
        for (let i = 0; i < bodyLength; i++) chunk[p + i] = body[i];
      } else {
        chunk.set(body, p);
      }
      this.#used = p + bodyLength;
    } else {
      this.#used = p;
      this.#seal();
      this.#queue.push(body);
      this.#queued += bodyLength;
    }
  }

  /** Hands out everything queued, in order; the buffer is empty afterwards. */
  take(): Uint8Array[] {
    this.#seal();
    const inChunk = this.#used - this.#batchStart;
    const batch = this.#batchBytes + inChunk;
    this.#batchBytes = 0;
    this.#batchStart = this.#used;
    if (this.#chunk.length > KEEP_SIZE) this.#release(inChunk, batch);
    if (this.#queue.length === 0) return NO_OUTPUT;
    // An exact-size copy; the queue is emptied by pops, which keep its storage
    // (a fresh array regrew it per batch: ~180 octets a write).
    const q = this.#queue;
    const out = q.slice();
    while (q.length > 0) q.pop();
    this.#queued = 0;
    return out;
  }

  // Lets go of a large chunk so that only the write in flight pins it; the
  // next batch gets a chunk sized to this one. Earlier batches' views of the
  // chunk are already written: the pipe takes output only between writes.
  #release(inChunk: number, batch: number): void {
    const chunk = this.#chunk;
    const slack = chunk.length - inChunk;
    // Only a batch of one view is written straight from the chunk: a stream
    // transport copies several views together anyway (see transport/_stream.ts).
    const q = this.#queue;
    if (q.length === 1 && slack > LOOSE_SLACK && slack > inChunk >> 2) q[0] = q[0].slice();
    this.#chunk = EMPTY;
    this.#start = 0;
    this.#used = 0;
    this.#batchStart = 0;
    this.#nextSize = sizeFor(batch);
  }

  // Moves the pending region of the chunk into the queue.
  #seal(): void {
    if (this.#used > this.#start) {
      this.#queue.push(this.#chunk.subarray(this.#start, this.#used));
      this.#queued += this.#used - this.#start;
      this.#start = this.#used;
    }
  }

  #reserve(length: number): void {
    if (this.#used + length <= this.#chunk.length) return;
    this.#seal();
    this.#batchBytes += this.#used - this.#batchStart;
    // Each new chunk within a batch doubles up to CHUNK_SIZE, so a busy
    // connection reaches full-size chunks after a few.
    const size = Math.max(this.#nextSize, length);
    this.#nextSize = Math.min(CHUNK_SIZE, this.#nextSize * 2);
    this.#chunk = new Uint8Array(size);
    this.#start = 0;
    this.#used = 0;
    this.#batchStart = 0;
  }
}
