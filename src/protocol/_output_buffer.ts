/**
 * The outgoing byte queue of a session. Frame headers and small bodies are
 * gathered into a chunk (growing to 64 KiB under load) by bump allocation: `take()` hands out
 * `chunk.subarray(start, used)` and later writes continue after `used` in the
 * same chunk, so bytes already handed out are never overwritten. A body larger
 * than {@linkcode COPY_LIMIT} goes out as its own view, uncopied.
 *
 * @module
 */

import { FLAG_LONG } from "./_wire.ts";

/** Size a pooled outgoing chunk grows to under load. */
export const CHUNK_SIZE = 64 * 1024;
/** Size of the first chunk: an idle connection only ever writes its handshake. */
const FIRST_CHUNK_SIZE = 512;
/** Bodies larger than this are queued as views instead of being copied. */
export const COPY_LIMIT = 8 * 1024;

const NO_OUTPUT: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

/** Encodes frames into a queue of byte arrays to write, in order. */
export class OutputBuffer {
  #chunk = new Uint8Array(FIRST_CHUNK_SIZE);
  #start = 0;
  #used = 0;
  #queue: Uint8Array[] = [];
  #queued = 0;

  /** Octets waiting to be taken. */
  get size(): number {
    return this.#queued + this.#used - this.#start;
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
    if (this.#queue.length === 0) return NO_OUTPUT;
    const out = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    return out;
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
    // Each new chunk doubles up to CHUNK_SIZE, so a busy connection reaches
    // full-size chunks after a few, and an idle one holds a few hundred bytes.
    const grown = Math.min(CHUNK_SIZE, this.#chunk.length * 2);
    this.#chunk = new Uint8Array(Math.max(grown, length));
    this.#start = 0;
    this.#used = 0;
  }
}
