/**
 * Parsing and formatting of ZeroMQ endpoint strings (`tcp://host:port`,
 * `ipc:///path`, `inproc://name`, and any scheme in the registry), with
 * libzmq's error codes for what it rejects: `EINVAL` for a malformed address,
 * `EPROTONOSUPPORT` for a transport this library does not implement.
 *
 * @module
 */

import { endpointString, resolveEndpoint } from "./registry.ts";
import type { Endpoint, EndpointBase, EndpointUse } from "./types.ts";

/**
 * Parses a ZeroMQ endpoint string.
 *
 * Accepted forms: `tcp://host:port` (host name, IPv4 address, `[IPv6]` in
 * brackets, or `*` for every interface; port `0` or `*` for any free port,
 * to bind only), `ipc:///absolute/path` or `ipc://relative/path`, and
 * `inproc://name`; other schemes as their registered transport parses them.
 *
 * @param endpoint The endpoint string, e.g. `"tcp://127.0.0.1:5555"`.
 * @param use `"bind"` (the default) allows wildcards, `"connect"` does not.
 * @returns The parsed endpoint; IPv6 hosts are returned without brackets.
 * @throws {TypeError} If `endpoint` is not a string.
 * @throws {ZmqError} `EINVAL` if the endpoint is malformed, its port is out
 * of range, or it is a wildcard to connect to; `EPROTONOSUPPORT` if its
 * transport is not supported.
 *
 * @example Parsing a TCP endpoint
 * ```ts
 * import { formatEndpoint, parseEndpoint } from "./endpoint.ts";
 *
 * const e = parseEndpoint("tcp://[::1]:5555");
 * console.assert(e.transport === "tcp" && e.host === "::1" && e.port === 5555);
 * console.assert(formatEndpoint(parseEndpoint("tcp://*:*")) === "tcp://*:0");
 * ```
 */
export function parseEndpoint(endpoint: string, use: EndpointUse = "bind"): Endpoint {
  return resolveEndpoint(endpoint, use) as Endpoint;
}

/**
 * Formats an endpoint as a ZeroMQ endpoint string; the inverse of
 * {@linkcode parseEndpoint}. IPv6 hosts are put in brackets, port 0 is kept.
 *
 * @param endpoint The endpoint.
 * @returns The endpoint string, e.g. `"tcp://[::1]:5555"`.
 *
 * @example Round trip
 * ```ts
 * import { formatEndpoint, parseEndpoint } from "./endpoint.ts";
 *
 * console.assert(formatEndpoint(parseEndpoint("tcp://[::1]:5555")) === "tcp://[::1]:5555");
 * console.assert(formatEndpoint({ transport: "inproc", name: "x" }) === "inproc://x");
 * ```
 */
export function formatEndpoint(endpoint: Endpoint | EndpointBase): string {
  return endpointString(endpoint);
}
