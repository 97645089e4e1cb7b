/**
 * The address grammars of the built-in schemes (`tcp://host:port`,
 * `ipc://path`, `inproc://name`), shared by every runtime's transports, with
 * libzmq's error code for a malformed address: `EINVAL`.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import type { EndpointUse, InprocEndpoint, IpcEndpoint, TcpEndpoint } from "./types.ts";

/** A host name, an IPv4 address, an interface name, or `*`. */
export const HOST_NAME = /^(\*|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?)$/;
/** The inside of `[...]`: an IPv6 address, optionally with a zone (`%eth0`). */
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?$/;

/** Parses `host:port`; a wildcard host or port is only allowed to bind. */
export function parseTcp(address: string, use: EndpointUse, endpoint: string): TcpEndpoint {
  if (address.includes(";")) {
    throw invalid(endpoint, "the source address syntax 'tcp://iface;host:port' is not supported");
  }
  const { host, port } = parseHostPort(address, endpoint);
  checkConnectable(host, port, use, endpoint);
  return { transport: "tcp", host, port };
}

/**
 * Parses `host:port` as tcp, ws, quic and udp write it: a host name, an IPv4
 * address, `[IPv6]` (returned without brackets) or `*`; a port 0-65535, or
 * `*` for 0.
 */
export function parseHostPort(hostPort: string, endpoint: string): { host: string; port: number } {
  const colon = hostPort.lastIndexOf(":");
  if (colon < 0) throw invalid(endpoint, "missing port");
  const portText = hostPort.slice(colon + 1);
  let host = hostPort.slice(0, colon);
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
  return { host, port };
}

/** A wildcard host or port 0 can be bound, never connected to (libzmq EINVAL). */
export function checkConnectable(
  host: string,
  port: number,
  use: EndpointUse,
  endpoint: string,
): void {
  if (use === "connect" && (host === "*" || port === 0)) {
    throw new ZmqError("EINVAL", `Cannot connect to a wildcard endpoint: ${endpoint}`);
  }
}

/** `tcp://host:port`, IPv6 hosts in brackets. */
export function formatTcp(endpoint: TcpEndpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return `tcp://${host}:${endpoint.port}`;
}

/** Parses a Unix socket path. */
export function parseIpc(address: string, _use: EndpointUse, endpoint: string): IpcEndpoint {
  if (address === "") throw invalid(endpoint, "empty path");
  if (address.includes("\0")) throw invalid(endpoint, "path contains a NUL character");
  return { transport: "ipc", path: address };
}

/** `ipc://path`. */
export function formatIpc(endpoint: IpcEndpoint): string {
  return `ipc://${endpoint.path}`;
}

/** Parses an inproc name. */
export function parseInproc(address: string, _use: EndpointUse, endpoint: string): InprocEndpoint {
  if (address === "") throw invalid(endpoint, "empty name");
  return { transport: "inproc", name: address };
}

/** `inproc://name`. */
export function formatInproc(endpoint: InprocEndpoint): string {
  return `inproc://${endpoint.name}`;
}

/** A malformed-endpoint error naming the endpoint and what is wrong with it. */
export function invalid(endpoint: string, why: string): ZmqError {
  return new ZmqError("EINVAL", `Invalid endpoint '${endpoint}': ${why}`);
}
