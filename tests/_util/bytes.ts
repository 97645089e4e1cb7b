/**
 * Byte helpers shared by the interop tests and the peer harness: hex conversion for the peer
 * control protocol, and the message sequence and digest that the peers' `send_many` and
 * `recv_count` ops use, so a test can check exactly-once, in-order delivery against a peer.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";

const encoder = new TextEncoder();

/** A frame as tests like to write it: bytes, or a string sent as UTF-8. */
export type FrameLike = Uint8Array | string;

/**
 * Converts a frame to bytes (strings as UTF-8).
 *
 * @param frame The frame.
 * @returns Its bytes.
 */
export function toBytes(frame: FrameLike): Uint8Array {
  return typeof frame === "string" ? encoder.encode(frame) : frame;
}

/**
 * Lowercase hex of some bytes.
 *
 * @param bytes The bytes.
 * @returns Their hex form.
 */
export function toHex(bytes: Uint8Array): string {
  // Buffer's codec: a per-byte string loop takes ~250 ms for the 1 MiB frames of the interop tests.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * Bytes of a hex string.
 *
 * @param hex Hex digits, an even number of them.
 * @returns The bytes.
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new TypeError(`Invalid hex: ${hex}`);
  // A plain Uint8Array copy (not a pooled Buffer), so deepEqual and `.buffer` behave as before.
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/**
 * Message `i` of a peer `send_many` run: `prefix`, then `i` as a big-endian u32, zero-padded to
 * `size` bytes (or longer when `size` is too small for prefix and counter).
 *
 * @param i The message's index, from 0.
 * @param size The message's length in bytes.
 * @param prefix Leading bytes of every message.
 * @returns The message's single frame.
 */
export function sequenceMessage(
  i: number,
  size: number,
  prefix: Uint8Array = new Uint8Array(),
): Uint8Array {
  const msg = new Uint8Array(Math.max(size, prefix.length + 4));
  msg.set(prefix);
  new DataView(msg.buffer).setUint32(prefix.length, i);
  return msg;
}

/**
 * The digest the peers compute over a run of messages: SHA-256 over, per message,
 * u32be(frame count) and, per frame, u32be(length) and the bytes. Equal digests and counts
 * mean the same messages, each once, in the same order, with the same frame boundaries.
 */
export class MessageDigest {
  #hash = createHash("sha256");
  #count = 0;

  /** How many messages were added. */
  get count(): number {
    return this.#count;
  }

  /**
   * Adds one message.
   *
   * @param frames The message's frames.
   */
  add(frames: readonly FrameLike[]): void {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, frames.length);
    this.#hash.update(head);
    for (const frame of frames) {
      const bytes = toBytes(frame);
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, bytes.length);
      this.#hash.update(len);
      this.#hash.update(bytes);
    }
    this.#count++;
  }

  /**
   * The digest so far, as lowercase hex.
   *
   * @returns The hex digest.
   */
  hex(): string {
    return this.#hash.copy().digest("hex");
  }

  /**
   * The digest of messages `0..count-1` of a `send_many` run.
   *
   * @param count How many messages.
   * @param size Each message's size.
   * @param prefix Each message's prefix.
   * @returns The hex digest.
   */
  static ofSequence(count: number, size: number, prefix?: Uint8Array): string {
    const d = new MessageDigest();
    for (let i = 0; i < count; i++) d.add([sequenceMessage(i, size, prefix)]);
    return d.hex();
  }
}
