/**
 * The transports, by endpoint scheme. Internal: sockets call
 * {@linkcode transportFor} with a parsed endpoint and see only the
 * {@linkcode Transport} interface.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { InprocTransport } from "./inproc.ts";
import { IpcTransport } from "./ipc.ts";
import { TcpTransport } from "./tcp.ts";
import type { Endpoint, Transport } from "./types.ts";

export { formatEndpoint, parseEndpoint } from "./endpoint.ts";
export { InprocTransport } from "./inproc.ts";
export { IpcTransport } from "./ipc.ts";
export { TcpTransport } from "./tcp.ts";

const transports: { readonly [K in Endpoint["transport"]]: Transport } = {
  tcp: new TcpTransport(),
  ipc: new IpcTransport(),
  inproc: new InprocTransport(),
};

/**
 * The transport for an endpoint's scheme; one shared instance per scheme.
 *
 * @param endpoint A parsed endpoint.
 * @returns The transport that listens on and connects to it.
 * @throws {ZmqError} `EPROTONOSUPPORT` for an unknown transport.
 *
 * @example One transport per scheme
 * ```ts
 * import {
 *   formatEndpoint,
 *   InprocTransport,
 *   IpcTransport,
 *   parseEndpoint,
 *   TcpTransport,
 *   transportFor,
 * } from "./mod.ts";
 *
 * const endpoint = parseEndpoint("tcp://127.0.0.1:5555");
 * console.assert(transportFor(endpoint) instanceof TcpTransport);
 * console.assert(transportFor(parseEndpoint("ipc:///tmp/x")) instanceof IpcTransport);
 * console.assert(transportFor(parseEndpoint("inproc://x")) instanceof InprocTransport);
 * console.assert(formatEndpoint(endpoint) === "tcp://127.0.0.1:5555");
 * ```
 */
export function transportFor(endpoint: Endpoint): Transport {
  const transport = transports[endpoint?.transport];
  if (transport === undefined) {
    throw new ZmqError("EPROTONOSUPPORT", `Transport '${endpoint?.transport}' is not supported`);
  }
  return transport;
}
