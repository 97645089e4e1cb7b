/**
 * Parsing and formatting of ZeroMQ endpoint strings (`tcp://host:port`,
 * `ipc:///path`, `inproc://name`), with libzmq's error codes for what it
 * rejects: `EINVAL` for a malformed address, `EPROTONOSUPPORT` for a transport
 * this library does not implement.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import type { Endpoint } from "./types.ts";

/** A URI scheme; well-formed but unknown ones are `EPROTONOSUPPORT`, like libzmq. */
const SCHEME = /^[a-z][a-z0-9+.-]*$/i;
/** A host name, an IPv4 address, an interface name, or `*`. */
const HOST_NAME = /^(\*|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?)$/;
/** The inside of `[...]`: an IPv6 address, optionally with a zone (`%eth0`). */
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?$/;

/**
 * Parses a ZeroMQ endpoint string.
 *
 * Accepted forms: `tcp://host:port` (host name, IPv4 address, `[IPv6]` in
 * brackets, or `*` for every interface; port `0` or `*` for any free port),
 * `ipc:///absolute/path` or `ipc://relative/path`, and `inproc://name`.
 * Whether a wildcard host or port is allowed (bind only) is checked by the
 * transport, not here.
 *
 * @param endpoint The endpoint string, e.g. `"tcp://127.0.0.1:5555"`.
 * @returns The parsed endpoint; IPv6 hosts are returned without brackets.
 * @throws {TypeError} If `endpoint` is not a string.
 * @throws {ZmqError} `EINVAL` if the endpoint is malformed or its port is out
 * of range, `EPROTONOSUPPORT` if its transport is not supported.
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
export function parseEndpoint(endpoint: string): Endpoint {
  if (typeof endpoint !== "string") {
    throw new TypeError(`Endpoint must be a string, got ${typeof endpoint}`);
  }
  const sep = endpoint.indexOf("://");
  if (sep <= 0) {
    throw invalid(endpoint, "expected transport://address");
  }
  const scheme = endpoint.slice(0, sep);
  const address = endpoint.slice(sep + 3);
  if (!SCHEME.test(scheme)) throw invalid(endpoint, "malformed transport name");
  switch (scheme) {
    case "tcp":
      return parseTcp(endpoint, address);
    case "ipc":
      if (address === "") throw invalid(endpoint, "empty path");
      if (address.includes("\0")) throw invalid(endpoint, "path contains a NUL character");
      return { transport: "ipc", path: address };
    case "inproc":
      if (address === "") throw invalid(endpoint, "empty name");
      return { transport: "inproc", name: address };
    default:
      throw new ZmqError(
        "EPROTONOSUPPORT",
        `Transport '${scheme}' is not supported in endpoint '${endpoint}' (use tcp, ipc or inproc)`,
      );
  }
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
export function formatEndpoint(endpoint: Endpoint): string {
  switch (endpoint.transport) {
    case "tcp": {
      const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
      return `tcp://${host}:${endpoint.port}`;
    }
    case "ipc":
      return `ipc://${endpoint.path}`;
    case "inproc":
      return `inproc://${endpoint.name}`;
  }
}

function parseTcp(endpoint: string, address: string): Endpoint {
  if (address.includes(";")) {
    throw invalid(endpoint, "the source address syntax 'tcp://iface;host:port' is not supported");
  }
  const colon = address.lastIndexOf(":");
  if (colon < 0) throw invalid(endpoint, "missing port");
  const portText = address.slice(colon + 1);
  let host = address.slice(0, colon);
  if (host.startsWith("[")) {
    if (!host.endsWith("]")) throw invalid(endpoint, "unterminated IPv6 address");
    host = host.slice(1, -1);
    if (!IPV6.test(host)) throw invalid(endpoint, "malformed IPv6 address");
  } else if (host.includes(":")) {
    throw invalid(endpoint, "IPv6 addresses must be written in brackets");
  } else if (!HOST_NAME.test(host)) {
    throw invalid(endpoint, host === "" ? "missing host" : "malformed host");
  }
  let port: number;
  if (portText === "*") {
    port = 0;
  } else if (/^[0-9]{1,5}$/.test(portText) && Number(portText) <= 65535) {
    port = Number(portText);
  } else {
    throw invalid(endpoint, portText === "" ? "missing port" : "port must be 0..65535 or *");
  }
  return { transport: "tcp", host, port };
}

function invalid(endpoint: string, why: string): ZmqError {
  return new ZmqError("EINVAL", `Invalid endpoint '${endpoint}': ${why}`);
}
