/**
 * The transports, by endpoint scheme. Internal: sockets parse an endpoint
 * with {@linkcode parseEndpoint}, get its transport from
 * {@linkcode transportFor}, and see only the {@linkcode Transport} interface.
 *
 * @module
 */

export { formatEndpoint, parseEndpoint } from "./endpoint.ts";
export { registerTransport, resolveEndpoint, transportFor } from "./registry.ts";
export { InprocTransport } from "./inproc.ts";
export { IpcTransport } from "./ipc.ts";
export { TcpTransport } from "./tcp.ts";
export type {
  Connection,
  Endpoint,
  EndpointBase,
  EndpointUse,
  Listener,
  Transport,
  TransportScheme,
} from "./types.ts";
