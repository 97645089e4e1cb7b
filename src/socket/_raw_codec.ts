/**
 * The raw "protocol" of STREAM sockets (libzmq src/raw_decoder.cpp,
 * raw_encoder.cpp): no framing at all. Every read becomes one message, cut
 * into pieces of at most {@linkcode RAW_PIECE} octets (libzmq reads in
 * batches of ZMQ_IN_BATCH_SIZE, 8192 by default, and a raw message is one
 * batch), so a queue at its high-water mark holds a bounded number of
 * octets; a message to send is its frames' bytes, written as they are.
 *
 * @module
 */

import type { Codec } from "../kernel/codec.ts";

/** Most octets in one received raw message (libzmq's default in_batch_size). */
export const RAW_PIECE = 8192;

/** The raw codec: nothing buffered, nothing framed. */
export class RawCodec implements Codec {
  #input: Uint8Array = new Uint8Array(0);
  #at = 0;

  get buffered(): number {
    return 0;
  }

  push(chunk: Uint8Array): void {
    this.#input = chunk;
    this.#at = 0;
  }

  next(): Uint8Array[] | undefined {
    const input = this.#input;
    const at = this.#at;
    if (at >= input.length) {
      this.#input = new Uint8Array(0);
      this.#at = 0;
      return undefined;
    }
    const end = Math.min(input.length, at + RAW_PIECE);
    this.#at = end;
    return [input.slice(at, end)];
  }

  encode(message: readonly Uint8Array[]): Uint8Array[] {
    return message as Uint8Array[];
  }
}
