/**
 * The datagram seam, beside the byte-stream one in `types.ts`: what RADIO and
 * DISH need from a message-oriented transport (`udp://`). There is no
 * connection, handshake or ZMTP session: a sender sends whole datagrams to one
 * target, a receiver hands back whole datagrams with their sender's address.
 * Sockets find a scheme's datagram transport with
 * {@linkcode datagramTransportFor}; the scheme's address grammar is its row in
 * `registry.ts`, like every other scheme. Internal.
 *
 * @module
 */

import type { EndpointBase } from "./types.ts";
import { udpTransport } from "./udp.ts";

/**
 * One datagram received.
 *
 * @example Keep a copy
 * ```ts
 * import type { Datagram } from "./datagram.ts";
 *
 * const keep = (d: Datagram) => d.data.slice();
 * console.assert(keep({ data: new Uint8Array([1]), remote: "udp://127.0.0.1:5" })[0] === 1);
 * ```
 */
export interface Datagram {
  /** Its bytes: a view valid only until the receiver's next `receive()` (copy what you keep). */
  readonly data: Uint8Array;
  /** The sender, as an endpoint string, e.g. `"udp://127.0.0.1:51234"`. */
  readonly remote: string;
}

/**
 * A bound datagram socket that receives (a DISH's `bind()`).
 *
 * @example Count datagrams until closed
 * ```ts
 * import type { DatagramReceiver } from "./datagram.ts";
 *
 * async function count(receiver: DatagramReceiver): Promise<number> {
 *   let n = 0;
 *   while ((await receiver.receive()) !== null) n++;
 *   return n;
 * }
 * console.assert(typeof count === "function");
 * ```
 */
export interface DatagramReceiver {
  /** The bound endpoint with port 0 resolved, e.g. `"udp://127.0.0.1:40123"`. */
  readonly endpoint: string;
  /**
   * The next datagram, or `null` once closed. One call at a time. Rejects
   * with a `ZmqError` only for an error of the socket itself.
   */
  receive(): Promise<Datagram | null>;
  /** Stops receiving, releases the port and leaves any multicast group; idempotent. */
  close(): void;
}

/**
 * A datagram socket that sends to one target (a RADIO's `connect()`).
 *
 * @example Send and release
 * ```ts
 * import type { DatagramSender } from "./datagram.ts";
 *
 * async function once(sender: DatagramSender, datagram: Uint8Array): Promise<void> {
 *   try {
 *     await sender.send(datagram);
 *   } finally {
 *     sender.close();
 *   }
 * }
 * console.assert(typeof once === "function");
 * ```
 */
export interface DatagramSender {
  /** The target, as an endpoint string. */
  readonly endpoint: string;
  /** Sends one datagram; rejects with a `ZmqError` if the system refuses it. */
  send(datagram: Uint8Array): Promise<void>;
  /** Releases the socket; idempotent. */
  close(): void;
}

/**
 * A datagram transport for one scheme.
 *
 * @example The udp transport (needs `--unstable-net`)
 * ```ts ignore
 * import { datagramTransportFor } from "./datagram.ts";
 * import { resolveEndpoint } from "./registry.ts";
 *
 * const endpoint = resolveEndpoint("udp://127.0.0.1:0", "bind");
 * const receiver = await datagramTransportFor(endpoint)!.listen(endpoint);
 * receiver.close();
 * ```
 */
export interface DatagramTransport<E extends EndpointBase = EndpointBase> {
  /** Binds a receiver (and joins a multicast group); rejects with `EADDRINUSE`, `EADDRNOTAVAIL`, ... */
  listen(endpoint: E): Promise<DatagramReceiver>;
  /** Opens a sender to the endpoint; rejects with `EADDRNOTAVAIL` for an unusable interface, ... */
  connect(endpoint: E): Promise<DatagramSender>;
}

/** The datagram schemes: each returns its transport or throws `EPROTONOSUPPORT` saying why not. */
const DATAGRAM_SCHEMES: ReadonlyMap<string, () => DatagramTransport> = new Map([
  ["udp", udpTransport as () => DatagramTransport],
]);

/**
 * Whether an endpoint string names a datagram scheme (by its scheme alone,
 * without parsing the address).
 *
 * @param endpoint An endpoint string, e.g. `"udp://127.0.0.1:5555"`.
 * @returns True for `udp://...`.
 *
 * @example
 * ```ts
 * import { isDatagramEndpoint } from "./datagram.ts";
 *
 * console.assert(isDatagramEndpoint("udp://127.0.0.1:5555"));
 * console.assert(!isDatagramEndpoint("tcp://127.0.0.1:5555"));
 * ```
 */
export function isDatagramEndpoint(endpoint: string): boolean {
  if (typeof endpoint !== "string") return false;
  const sep = endpoint.indexOf("://");
  return sep > 0 && DATAGRAM_SCHEMES.has(endpoint.slice(0, sep));
}

/**
 * This runtime's datagram transport for a parsed endpoint.
 *
 * @param endpoint A parsed endpoint.
 * @returns Its transport, or `undefined` for a byte-stream scheme.
 * @throws {ZmqError} `EPROTONOSUPPORT` if the runtime cannot serve the
 * scheme (Deno without `--unstable-net` has no `Deno.listenDatagram`).
 *
 * @example A byte-stream scheme has none
 * ```ts
 * import { datagramTransportFor } from "./datagram.ts";
 *
 * console.assert(datagramTransportFor({ transport: "tcp" }) === undefined);
 * ```
 */
export function datagramTransportFor<E extends EndpointBase>(
  endpoint: E,
): DatagramTransport<E> | undefined {
  return DATAGRAM_SCHEMES.get(endpoint.transport)?.() as DatagramTransport<E> | undefined;
}
