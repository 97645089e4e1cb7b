/**
 * The transport registry: one {@linkcode TransportScheme} per endpoint
 * scheme, each parsing its own address and naming the transport that serves
 * it on this runtime. A new transport is one file plus one row here (or one
 * {@linkcode registerTransport} call); the socket layer sees only the
 * {@linkcode Transport} interface.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import {
  formatInproc,
  formatIpc,
  formatTcp,
  invalid,
  parseInproc,
  parseIpc,
  parseTcp,
} from "./_address.ts";
import { DENO_NET, NODE_NET } from "./_runtime.ts";
import { InprocTransport } from "./inproc.ts";
import { IpcTransport } from "./ipc.ts";
import { NodeIpcTransport } from "./node_ipc.ts";
import { NodeTcpTransport } from "./node_tcp.ts";
import { TcpTransport } from "./tcp.ts";
import { formatQuic, hasQuic, parseQuic, type QuicEndpoint, QuicTransport } from "./quic.ts";
import { SHM_WORKER_SCHEME } from "./shm_worker.ts";
import { UDP_SCHEME } from "./udp.ts";
import { formatWs, hasWebSocket, wsAddressParser, type WsEndpoint, WsTransport } from "./ws.ts";
import type {
  EndpointBase,
  EndpointUse,
  InprocEndpoint,
  IpcEndpoint,
  TcpEndpoint,
  Transport,
  TransportScheme,
} from "./types.ts";

/** A URI scheme; well-formed but unknown ones are `EPROTONOSUPPORT`, like libzmq. */
const SCHEME = /^[a-z][a-z0-9+.-]*$/i;

/** Creates a transport on first use and shares it afterwards. */
function once<T>(make: () => T | undefined): () => T | undefined {
  let made: T | undefined;
  return () => made ??= make();
}

const schemes = new Map<string, TransportScheme>();

/**
 * Adds (or replaces) the transport of a scheme.
 *
 * @param name The scheme, e.g. `"ws"`, lower case.
 * @param scheme Its address grammar and this runtime's transport.
 * @throws {TypeError} If `name` is not a well-formed scheme.
 *
 * @example A scheme with no transport on this runtime
 * ```ts
 * import { registerTransport, resolveEndpoint, transportFor } from "./registry.ts";
 *
 * registerTransport("nowhere", {
 *   parse: (address) => ({ transport: "nowhere", address }),
 *   format: (e) => `nowhere://${(e as { address: string }).address}`,
 *   transport: () => undefined,
 * });
 * const endpoint = resolveEndpoint("nowhere://x", "connect");
 * try {
 *   transportFor(endpoint);
 * } catch (e) {
 *   console.assert((e as { code: string }).code === "EPROTONOSUPPORT");
 * }
 * ```
 */
export function registerTransport<E extends EndpointBase>(
  name: string,
  scheme: TransportScheme<E>,
): void {
  if (typeof name !== "string" || !SCHEME.test(name) || name !== name.toLowerCase()) {
    throw new TypeError(`Invalid transport scheme name: ${String(name)}`);
  }
  schemes.set(name, scheme as unknown as TransportScheme);
}

registerTransport<TcpEndpoint>("tcp", {
  parse: parseTcp,
  format: formatTcp,
  transport: once(() =>
    DENO_NET ? new TcpTransport() : NODE_NET ? new NodeTcpTransport() : undefined
  ),
});
registerTransport<IpcEndpoint>("ipc", {
  parse: parseIpc,
  format: formatIpc,
  transport: once(() =>
    DENO_NET ? new IpcTransport() : NODE_NET ? new NodeIpcTransport() : undefined
  ),
});
registerTransport<InprocEndpoint>("inproc", {
  parse: parseInproc,
  format: formatInproc,
  transport: once(() => new InprocTransport()),
});
registerTransport("udp", UDP_SCHEME); // a datagram transport: RADIO/DISH only, see datagram.ts

// ZWS 2.0: one transport serves both schemes; a wss bind gets its certificate from the socket.
// Browsers and Deno have a WebSocket; Node and Bun also serve (npm:ws over node:http), and
// Node 20, which has no WebSocket, connects with npm:ws too.
const ws = once(() => hasWebSocket() || NODE_NET ? new WsTransport() : undefined);
registerTransport<WsEndpoint>("ws", {
  parse: wsAddressParser("ws"),
  format: formatWs,
  transport: ws,
});
registerTransport<WsEndpoint>("wss", {
  parse: wsAddressParser("wss"),
  format: formatWs,
  transport: ws,
});

// QUIC (Deno's API, behind --unstable-net in Deno 2.9): a bind's certificate comes from the socket.
registerTransport<QuicEndpoint>("quic", {
  parse: parseQuic,
  format: formatQuic,
  transport: once(() => hasQuic() ? new QuicTransport() : undefined),
});

// Shared memory between Workers of this process (web APIs only); `./native` replaces the row with
// one that also reaches other processes of the host (ffi/_shm.ts).
registerTransport("shm", SHM_WORKER_SCHEME);

/**
 * Parses `scheme://address` through the scheme's registered grammar.
 *
 * @param endpoint The endpoint string.
 * @param use `"bind"` allows wildcards, `"connect"` does not.
 * @returns The parsed endpoint.
 * @throws {TypeError} If `endpoint` is not a string.
 * @throws {ZmqError} `EINVAL` for a malformed endpoint, `EPROTONOSUPPORT`
 * for an unknown scheme.
 *
 * @example
 * ```ts
 * import { resolveEndpoint } from "./registry.ts";
 *
 * console.assert(resolveEndpoint("inproc://x", "bind").transport === "inproc");
 * ```
 */
export function resolveEndpoint(endpoint: string, use: EndpointUse): EndpointBase {
  if (typeof endpoint !== "string") {
    throw new TypeError(`Endpoint must be a string, got ${typeof endpoint}`);
  }
  const sep = endpoint.indexOf("://");
  if (sep <= 0) throw invalid(endpoint, "expected transport://address");
  const name = endpoint.slice(0, sep);
  if (!SCHEME.test(name)) throw invalid(endpoint, "malformed transport name");
  const scheme = schemes.get(name);
  if (scheme === undefined) {
    throw new ZmqError(
      "EPROTONOSUPPORT",
      `Transport '${name}' is not supported in endpoint '${endpoint}' (use ${
        [...schemes.keys()].join(", ")
      })`,
    );
  }
  return scheme.parse(endpoint.slice(sep + 3), use, endpoint);
}

/**
 * Writes a parsed endpoint back as a string through its scheme.
 *
 * @param endpoint A parsed endpoint of a registered scheme.
 * @returns The endpoint string.
 * @throws {ZmqError} `EPROTONOSUPPORT` for an unknown scheme.
 *
 * @example
 * ```ts
 * import { endpointString } from "./registry.ts";
 *
 * console.assert(endpointString({ transport: "inproc", name: "x" } as never) === "inproc://x");
 * ```
 */
export function endpointString(endpoint: EndpointBase): string {
  return schemeOf(endpoint).format(endpoint);
}

/**
 * This runtime's transport for an endpoint.
 *
 * @param endpoint A parsed endpoint.
 * @returns Its transport; one shared instance per scheme.
 * @throws {ZmqError} `EPROTONOSUPPORT` for an unknown scheme or one this
 * runtime has no transport for.
 *
 * @example
 * ```ts
 * import { resolveEndpoint, transportFor } from "./registry.ts";
 *
 * const transport = transportFor(resolveEndpoint("inproc://x", "connect"));
 * console.assert(typeof transport.connect === "function");
 * ```
 */
export function transportFor<E extends EndpointBase>(endpoint: E): Transport<E> {
  const transport = schemeOf(endpoint).transport();
  if (transport === undefined) {
    throw new ZmqError(
      "EPROTONOSUPPORT",
      `Transport '${endpoint.transport}' is not available on this runtime`,
    );
  }
  return transport as Transport<E>;
}

function schemeOf(endpoint: EndpointBase): TransportScheme {
  const scheme = schemes.get(endpoint?.transport);
  if (scheme === undefined) {
    throw new ZmqError("EPROTONOSUPPORT", `Transport '${endpoint?.transport}' is not supported`);
  }
  return scheme;
}
