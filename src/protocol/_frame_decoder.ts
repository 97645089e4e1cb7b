/**
 * Incremental, bounded ZMTP frame decoder (RFC 23 "Framing"). It walks a
 * received chunk in place: a frame wholly inside the chunk comes out as a
 * zero-copy `subarray` view; a frame straddling chunks is copied into a
 * reassembly buffer, allocated only after its declared size passed the
 * `maxMessageSize` check. The limit applies per frame, as libzmq's
 * `v2_decoder_t` applies `ZMQ_MAXMSGSIZE`. Reserved flag bits are ignored, as
 * libzmq does.
 *
 * @module
 */

import { EMPTY_BYTES, FLAG_LONG, type ViolationCode } from "./_wire.ts";

/** Frames up to this size are reassembled in a buffer of their declared size at once. */
const EAGER_LIMIT = 1 << 20;

/** Result of {@linkcode FrameDecoder.next}: a frame is ready. */
export const FRAME = 1;
/** Result of {@linkcode FrameDecoder.next}: the chunk is used up, feed more bytes. */
export const NEED_MORE = 0;
/** Result of {@linkcode FrameDecoder.next}: the stream is broken, see `error`. */
export const BROKEN = -1;

/** Decodes frames from successive chunks; call `feed()` then `next()` until it is not `FRAME`. */
export class FrameDecoder {
  #maxFrame: number;
  #chunk: Uint8Array = EMPTY_BYTES;
  #pos = 0;
  // A header split across chunks.
  #header = new Uint8Array(9);
  #headerHave = 0;
  // A body split across chunks.
  #partial: Uint8Array | undefined;
  #partialHave = 0;
  #partialSize = 0;
  #partialFlags = 0;
  // The frame last returned.
  #flags = 0;
  #body: Uint8Array = EMPTY_BYTES;
  #error = "";
  #errorCode: ViolationCode = "EPROTO";

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

  /** Starts decoding `chunk` from `start`; any earlier chunk must be used up. */
  feed(chunk: Uint8Array, start: number): void {
    this.#chunk = chunk;
    this.#pos = start;
  }

  /** Decodes the next frame of the current chunk. */
  next(): number {
    const chunk = this.#chunk;
    const end = chunk.length;
    let pos = this.#pos;
    if (this.#partial !== undefined) return this.#continueBody(chunk, pos, end);
    if (this.#headerHave > 0) return this.#continueHeader(chunk, pos, end);
    if (pos >= end) return NEED_MORE;
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
    if (pos + size <= end) {
      this.#flags = flags;
      this.#body = chunk.subarray(pos, pos + size);
      this.#pos = pos + size;
      return FRAME;
    }
    return this.#startBody(flags, size, chunk, pos, end);
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
    this.#pos = end;
    return NEED_MORE;
  }

  #continueHeader(chunk: Uint8Array, pos: number, end: number): number {
    const header = this.#header;
    const need = (header[0] & FLAG_LONG) === 0 ? 2 : 9;
    let have = this.#headerHave;
    while (have < need && pos < end) header[have++] = chunk[pos++];
    this.#headerHave = have;
    if (have < need) {
      this.#pos = end;
      return NEED_MORE;
    }
    this.#headerHave = 0;
    const flags = header[0];
    const size = need === 2 ? header[1] : this.#longSize(header, 1);
    if (size < 0) return BROKEN;
    if (size > this.#maxFrame) return this.#tooLarge(size);
    if (pos + size <= end) {
      this.#flags = flags;
      this.#body = chunk.subarray(pos, pos + size);
      this.#pos = pos + size;
      return FRAME;
    }
    return this.#startBody(flags, size, chunk, pos, end);
  }

  #startBody(flags: number, size: number, chunk: Uint8Array, pos: number, end: number): number {
    const available = end - pos;
    // A huge declared size is not trusted with a huge allocation: grow as bytes arrive.
    const capacity = size <= EAGER_LIMIT ? size : Math.max(EAGER_LIMIT, available);
    let partial: Uint8Array;
    try {
      partial = new Uint8Array(capacity);
    } catch {
      this.#error = `Cannot allocate a frame of ${size} octets`;
      this.#errorCode = "EMSGSIZE";
      return BROKEN;
    }
    partial.set(chunk.subarray(pos, end));
    this.#partial = partial;
    this.#partialHave = available;
    this.#partialSize = size;
    this.#partialFlags = flags;
    this.#pos = end;
    return NEED_MORE;
  }

  #continueBody(chunk: Uint8Array, pos: number, end: number): number {
    let partial = this.#partial!;
    const have = this.#partialHave;
    const size = this.#partialSize;
    const take = Math.min(size - have, end - pos);
    if (have + take > partial.length) {
      const capacity = Math.min(size, Math.max(partial.length * 2, have + take));
      let grown: Uint8Array;
      try {
        grown = new Uint8Array(capacity);
      } catch {
        this.#error = `Cannot allocate a frame of ${size} octets`;
        this.#errorCode = "EMSGSIZE";
        return BROKEN;
      }
      grown.set(partial.subarray(0, have));
      partial = grown;
      this.#partial = grown;
    }
    partial.set(chunk.subarray(pos, pos + take), have);
    this.#partialHave = have + take;
    this.#pos = pos + take;
    if (have + take < size) return NEED_MORE;
    this.#partial = undefined;
    this.#flags = this.#partialFlags;
    this.#body = partial;
    return FRAME;
  }
}
