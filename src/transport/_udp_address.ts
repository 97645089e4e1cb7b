/**
 * The `udp://` address grammar, libzmq's (src/udp_address.cpp resolve):
 *
 * - `udp://host:port`: unicast. To bind (DISH) it is the local address
 *   (`*` for every IPv4 interface, port 0 or `*` for any free port); to
 *   connect (RADIO) the destination.
 * - `udp://group:port`: an IPv4 multicast group (224.0.0.0/4). A DISH binds
 *   the port on every interface and joins the group on the default one; a
 *   RADIO sends to the group.
 * - `udp://iface;group:port`: the same on one interface (an IPv4 address,
 *   `*`, or an interface name). An interface is only allowed with a
 *   multicast group, and is never itself one (libzmq: EINVAL).
 *
 * IPv6 unicast is written in brackets (`udp://[::1]:5555`); IPv6 multicast is
 * not supported. Malformed addresses are `EINVAL`.
 *
 * @module
 */

import { checkConnectable, HOST_NAME, invalid, parseHostPort } from "./_address.ts";
import type { EndpointBase, EndpointUse } from "./types.ts";

/**
 * A parsed `udp://` endpoint.
 *
 * @example
 * ```ts
 * import type { UdpEndpoint } from "./_udp_address.ts";
 *
 * const multicast: UdpEndpoint = { transport: "udp", host: "239.0.0.1", port: 5555, iface: "*" };
 * console.assert(multicast.iface === "*");
 * ```
 */
export interface UdpEndpoint extends EndpointBase {
  /** The scheme, always `"udp"`. */
  readonly transport: "udp";
  /** The unicast address or multicast group; `"*"` (bind only) every interface. IPv6 without brackets. */
  readonly host: string;
  /** Port number; 0 means "any free port" (bind only). */
  readonly port: number;
  /** The interface of a multicast group, as written before `;`, if one was. */
  readonly iface?: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Whether `host` is an IPv4 address literal. */
export function isIpv4(host: string): boolean {
  const m = IPV4.exec(host);
  return m !== null && m.slice(1).every((octet) => Number(octet) <= 255);
}

/** Whether `host` is an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast address. */
export function isMulticast(host: string): boolean {
  if (isIpv4(host)) {
    const first = Number(host.slice(0, host.indexOf(".")));
    return first >= 224 && first <= 239;
  }
  return /^ff[0-9a-f]{0,2}:/i.test(host);
}

/** Parses the address after `udp://`. */
export function parseUdp(address: string, use: EndpointUse, endpoint: string): UdpEndpoint {
  let iface: string | undefined;
  let rest = address;
  const semi = address.lastIndexOf(";");
  if (semi >= 0) {
    iface = address.slice(0, semi);
    rest = address.slice(semi + 1);
    if (!HOST_NAME.test(iface)) throw invalid(endpoint, "malformed interface");
    if (isMulticast(iface)) throw invalid(endpoint, "the interface cannot be a multicast group");
  }
  const { host, port } = parseHostPort(rest, endpoint);
  const multicast = isMulticast(host);
  if (multicast && host.includes(":")) throw invalid(endpoint, "IPv6 multicast is not supported");
  if (iface !== undefined && !multicast) {
    throw invalid(
      endpoint,
      "an interface is only allowed with a multicast group (iface;group:port)",
    );
  }
  checkConnectable(host, port, use, endpoint);
  return iface === undefined
    ? { transport: "udp", host, port }
    : { transport: "udp", host, port, iface };
}

/** `udp://[iface;]host:port`, IPv6 hosts in brackets. */
export function formatUdp(endpoint: UdpEndpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const iface = endpoint.iface === undefined ? "" : `${endpoint.iface};`;
  return `udp://${iface}${host}:${endpoint.port}`;
}
