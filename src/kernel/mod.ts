/**
 * The kernel entry: Monocoque's messaging machinery — transports,
 * connections with reconnect, per-peer queues with high-water marks and
 * backpressure, the socket patterns, monitor events — under a wire protocol
 * of your own. Write a sans-IO {@linkcode Codec} (bytes in, messages out;
 * messages in, bytes out; a bound on what it buffers), then
 * {@linkcode useProtocol} makes any socket speak it.
 *
 * Why a separate `./kernel` entry rather than part of `./protocol`:
 * `./protocol` is the sans-IO ZMTP core and runs in browsers with no socket
 * code at all; plugging a codec into sockets needs the socket layer, which
 * `./protocol` must never import. And `.` is the ZeroMQ API: a socket that
 * speaks something else is no longer ZeroMQ-compatible, so opting into that
 * is an explicit import of its own. The protocol-level seam the codec sits
 * behind is `ProtocolEngine` in `./protocol`; ZMTP's `Session` is its other
 * implementation.
 *
 * @example A length-prefixed protocol between a DEALER and a ROUTER
 * ```ts
 * import { DealerSocket, RouterSocket, text } from "@monocoque/zmtp";
 * import { type Codec, type Protocol, useProtocol } from "@monocoque/zmtp/kernel";
 *
 * // One frame per message: a 1-octet length, then the bytes.
 * class Short implements Codec {
 *   #input: Uint8Array = new Uint8Array(0);
 *   #at = 0;
 *   #partial: Uint8Array = new Uint8Array(0);
 *   get buffered(): number {
 *     return this.#partial.length;
 *   }
 *   push(chunk: Uint8Array): void {
 *     const joined = new Uint8Array(this.#partial.length + chunk.length);
 *     joined.set(this.#partial);
 *     joined.set(chunk, this.#partial.length);
 *     this.#input = joined;
 *     this.#at = 0;
 *     this.#partial = new Uint8Array(0);
 *   }
 *   next(): Uint8Array[] | undefined {
 *     const at = this.#at;
 *     if (at < this.#input.length && at + 1 + this.#input[at] <= this.#input.length) {
 *       this.#at = at + 1 + this.#input[at];
 *       return [this.#input.slice(at + 1, this.#at)];
 *     }
 *     this.#partial = this.#input.slice(at);
 *     return undefined;
 *   }
 *   encode(message: readonly Uint8Array[]): Uint8Array[] {
 *     return [Uint8Array.of(message[0].length), message[0]];
 *   }
 * }
 * const short: Protocol = { name: "short", codec: () => new Short(), maxBuffered: 256 };
 *
 * await using router = useProtocol(new RouterSocket(), short);
 * await router.bind("tcp://127.0.0.1:0");
 * await using dealer = useProtocol(new DealerSocket(), short);
 * dealer.connect(router.lastEndpoint!);
 * await dealer.send("ping");
 * const [id, ping] = await router.receive();
 * await router.send([id, `${text(ping)} pong`]);
 * console.assert(text((await dealer.receive())[0]) === "ping pong");
 * ```
 *
 * @module
 */

export type { Codec, Protocol } from "./codec.ts";
export { useProtocol } from "./use_protocol.ts";
