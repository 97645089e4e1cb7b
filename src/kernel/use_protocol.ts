/**
 * Makes a socket of any pattern speak a custom wire protocol instead of ZMTP.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { coreOf } from "../socket/_core.ts";
import { CodecEngine } from "./_codec_engine.ts";
import type { Protocol } from "./codec.ts";

/**
 * Makes `socket` speak `protocol` on every connection it makes or accepts
 * from now on, instead of ZMTP: each connection runs a fresh codec of
 * `protocol`, and everything else is the socket's own — its pattern
 * (load balancing, fair queuing, routing ids), high-water marks and
 * backpressure, reconnect, `maxMessageSize`, monitor events, and every
 * stream transport (tcp, ipc, inproc; on ws and wss each WebSocket message
 * is one chunk). There is no handshake: a connection is ready (and
 * `handshakeSucceeded` reported, with the socket's own type as the peer's)
 * as soon as it is made.
 *
 * What travels is messages only. ZMTP commands do not: SUB's subscriptions
 * and DISH's groups never reach the peer, so PUB/XPUB send nothing and
 * RADIO/DISH match nothing, and security options are ignored. The patterns
 * that fit are PUSH/PULL, DEALER/ROUTER, REQ/REP (whose empty delimiter
 * frame the codec must carry), PAIR, CLIENT/SERVER, SCATTER/GATHER and
 * STREAM (a routing id per connection, with connect and disconnect
 * notices: the natural host of a text protocol served to `nc`).
 *
 * @param socket A Monocoque socket that has not bound or connected yet.
 * @param protocol The wire protocol.
 * @returns `socket`, for chaining.
 * @throws {ZmqError} `EINVAL` once the socket has bound or connected.
 * @throws {TypeError} If `socket` is not a Monocoque socket.
 * @throws {RangeError} For a `maxBuffered` that is not a positive integer.
 *
 * @example A PUSH/PULL pipeline over newline-free text, one message per line
 * ```ts
 * import { PullSocket, PushSocket, text } from "@monocoque/zmtp";
 * import { type Codec, useProtocol } from "@monocoque/zmtp/kernel";
 *
 * class Lines implements Codec {
 *   #input: Uint8Array = new Uint8Array(0);
 *   #at = 0;
 *   #partial: number[] = [];
 *   get buffered(): number {
 *     return this.#partial.length;
 *   }
 *   push(chunk: Uint8Array): void {
 *     this.#input = chunk;
 *     this.#at = 0;
 *   }
 *   next(): Uint8Array[] | undefined {
 *     while (this.#at < this.#input.length) {
 *       const byte = this.#input[this.#at++];
 *       if (byte !== 10) this.#partial.push(byte);
 *       else return [Uint8Array.from(this.#partial.splice(0))];
 *     }
 *     return undefined;
 *   }
 *   encode(message: readonly Uint8Array[]): Uint8Array[] {
 *     return [...message, Uint8Array.of(10)];
 *   }
 * }
 * const lines = { name: "lines", codec: () => new Lines() };
 *
 * await using pull = useProtocol(new PullSocket(), lines);
 * await pull.bind("tcp://127.0.0.1:0");
 * await using push = useProtocol(new PushSocket(), lines);
 * push.connect(pull.lastEndpoint!);
 * await push.send("hello");
 * console.assert(text((await pull.receive())[0]) === "hello");
 * ```
 */
export function useProtocol<S extends object>(socket: S, protocol: Protocol): S {
  const core = coreOf(socket);
  if (core.lastEndpoint !== undefined) {
    throw new ZmqError("EINVAL", "A socket's protocol cannot change after bind() or connect()");
  }
  const maxBuffered = protocol.maxBuffered;
  if (maxBuffered !== undefined && !(Number.isInteger(maxBuffered) && maxBuffered > 0)) {
    throw new RangeError(`Protocol maxBuffered must be a positive integer, got ${maxBuffered}`);
  }
  const { name, codec } = protocol;
  const peerType = core.type;
  core.engine = (context) =>
    new CodecEngine(context, { codec: codec(), name, peerType, maxBuffered });
  return socket;
}
