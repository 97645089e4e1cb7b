/**
 * The codec seam of the kernel: a sans-IO wire protocol that turns received
 * bytes into messages and messages into bytes to write. A socket made with
 * a {@linkcode Codec} (see `./kernel`'s socket factories) runs one codec per
 * connection; everything else — connections, reconnect, high-water marks,
 * backpressure, monitor events, every stream transport — is the kernel's.
 *
 * @module
 */

/**
 * One connection's wire protocol, sans-IO. The kernel calls `push()` with each
 * chunk it reads, then `next()` until it returns `undefined`; while the
 * socket's receive queue is full it stops calling `next()` (and reads nothing
 * more) and comes back later. Rules:
 *
 * - The chunk given to `push()` stays valid until `next()` has returned
 *   `undefined`; afterwards the kernel reuses its memory, so a codec that keeps
 *   part of it (an incomplete message) must copy that part.
 * - Messages `next()` returns must not be views of the chunk (copy with
 *   `slice()`): the application keeps them past the next read.
 * - `buffered` counts the octets the codec keeps of incomplete messages; the
 *   kernel ends a connection whose codec buffers more than the protocol's
 *   `maxBuffered` (`EMSGSIZE`), so a peer cannot bloat the process by never
 *   finishing a message.
 * - Bad input: throw from `next()` (any `Error`); the kernel drops that
 *   connection with `EPROTO`, reports it, and keeps serving the others.
 *
 * @example A codec of NUL-terminated messages
 * ```ts
 * import type { Codec } from "@monocoque/zmtp/kernel";
 * import assert from "node:assert/strict";
 *
 * class NulCodec implements Codec {
 *   #input: Uint8Array = new Uint8Array(0);
 *   #at = 0;
 *   #partial: Uint8Array = new Uint8Array(0);
 *   get buffered(): number {
 *     return this.#partial.length;
 *   }
 *   push(chunk: Uint8Array): void {
 *     this.#input = chunk;
 *     this.#at = 0;
 *   }
 *   next(): Uint8Array[] | undefined {
 *     const end = this.#input.indexOf(0, this.#at);
 *     if (end < 0) {
 *       const rest = this.#input.subarray(this.#at);
 *       const partial = new Uint8Array(this.#partial.length + rest.length);
 *       partial.set(this.#partial);
 *       partial.set(rest, this.#partial.length);
 *       this.#partial = partial;
 *       this.#input = new Uint8Array(0);
 *       this.#at = 0;
 *       return undefined;
 *     }
 *     const part = this.#input.subarray(this.#at, end);
 *     const message = new Uint8Array(this.#partial.length + part.length);
 *     message.set(this.#partial);
 *     message.set(part, this.#partial.length);
 *     this.#partial = new Uint8Array(0);
 *     this.#at = end + 1;
 *     return [message];
 *   }
 *   encode(message: readonly Uint8Array[]): Uint8Array[] {
 *     return [...message, Uint8Array.of(0)];
 *   }
 * }
 *
 * const codec = new NulCodec();
 * codec.push(new TextEncoder().encode("a\0bc"));
 * assert.deepEqual(codec.next(), [new TextEncoder().encode("a")]);
 * assert.equal(codec.next(), undefined);
 * assert.equal(codec.buffered, 2);
 * ```
 */
export interface Codec {
  /** Octets kept of incomplete messages, after `next()` returned `undefined`. */
  readonly buffered: number;
  /** Takes the next chunk the connection delivered (a byte-stream piece, or one whole transport message). */
  push(chunk: Uint8Array): void;
  /** The next complete message (one entry per frame), or `undefined` once the chunk is used up. */
  next(): Uint8Array[] | undefined;
  /** The bytes that carry `message`, in order; written as given, so do not modify them later. */
  encode(message: readonly Uint8Array[]): Uint8Array[];
}

/**
 * A wire protocol: how to make each connection's codec, and its limits.
 *
 * @example
 * ```ts
 * import type { Codec, Protocol } from "@monocoque/zmtp/kernel";
 *
 * function nulProtocol(makeCodec: () => Codec): Protocol {
 *   return { name: "nul", codec: makeCodec, maxBuffered: 64 * 1024 };
 * }
 * ```
 */
export interface Protocol {
  /** A short name, for errors and events. */
  name: string;
  /** Makes the codec of one new connection. */
  codec: () => Codec;
  /** Most octets a codec may buffer of incomplete messages (default 1 MiB); over it, `EMSGSIZE`. */
  maxBuffered?: number;
}
