/**
 * The `udp://` transport over `Deno.listenDatagram`, for RADIO and DISH only
 * (libzmq's src/udp_engine.cpp): a DISH binds a receiving socket (joining the
 * multicast group if the address is one), a RADIO opens a sending socket per
 * `connect()`. There is no handshake and no connection.
 *
 * Deno 2.x has `Deno.listenDatagram` only with `--unstable-net`; without it
 * the transport is `EPROTONOSUPPORT` and says so.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { toZmqError } from "./_stream.ts";
import { formatUdp, isIpv4, isMulticast, parseUdp, type UdpEndpoint } from "./_udp_address.ts";
import type { Datagram, DatagramReceiver, DatagramSender, DatagramTransport } from "./datagram.ts";
import type { TransportScheme } from "./types.ts";

export type { UdpEndpoint } from "./_udp_address.ts";

/** The part of Deno's unstable datagram API we use (not in the stable type library). */
interface UdpAddr {
  transport: "udp";
  hostname: string;
  port: number;
}
interface DenoDatagramConn {
  readonly addr: UdpAddr;
  receive(buffer?: Uint8Array): Promise<[Uint8Array, UdpAddr]>;
  send(data: Uint8Array, addr: UdpAddr): Promise<number>;
  joinMulticastV4(group: string, iface: string): Promise<unknown>;
  close(): void;
}
interface DenoUdp {
  listenDatagram(options: {
    transport: "udp";
    hostname: string;
    port: number;
    reuseAddress?: boolean;
    loopback?: boolean;
  }): DenoDatagramConn;
  networkInterfaces?(): { name: string; family: string; address: string }[];
}

const deno = (globalThis as { Deno?: Partial<DenoUdp> }).Deno;

/**
 * Receive buffer: larger than any IPv4 UDP payload (65507 bytes), so a
 * datagram is never cut short unnoticed (Deno's default buffer is smaller).
 */
const RECEIVE_BUFFER = 65536;

function addrString(addr: UdpAddr): string {
  return formatUdp({ transport: "udp", host: addr.hostname, port: addr.port });
}

/** The IPv4 address of an interface given as an address, `*` or a name. */
function interfaceAddress(iface: string | undefined, endpoint: string): string {
  if (iface === undefined || iface === "*") return "0.0.0.0";
  if (isIpv4(iface)) return iface;
  let found: string | undefined;
  try {
    found = deno?.networkInterfaces?.().find((i) => i.name === iface && i.family === "IPv4")
      ?.address;
  } catch (e) {
    throw toZmqError(e, "EADDRNOTAVAIL", `Cannot look up interface '${iface}' of ${endpoint}`);
  }
  if (found === undefined) {
    throw new ZmqError("EADDRNOTAVAIL", `No IPv4 interface named '${iface}' for ${endpoint}`);
  }
  return found;
}

class UdpReceiver implements DatagramReceiver {
  readonly endpoint: string;
  #conn: DenoDatagramConn;
  #buffer = new Uint8Array(RECEIVE_BUFFER);
  #closed = false;

  constructor(conn: DenoDatagramConn, endpoint: string) {
    this.#conn = conn;
    this.endpoint = endpoint;
  }

  async receive(): Promise<Datagram | null> {
    if (this.#closed) return null;
    try {
      const [data, addr] = await this.#conn.receive(this.#buffer);
      return { data, remote: addrString(addr) };
    } catch (e) {
      if (this.#closed) return null; // a pending receive rejects when the socket closes
      throw toZmqError(e, "ECONNRESET", `Receiving on ${this.endpoint} failed`);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close(); // leaves the multicast group with the socket
  }
}

class UdpSender implements DatagramSender {
  readonly endpoint: string;
  #conn: DenoDatagramConn;
  #target: UdpAddr;
  #closed = false;

  constructor(conn: DenoDatagramConn, endpoint: UdpEndpoint) {
    this.#conn = conn;
    this.endpoint = formatUdp(endpoint);
    this.#target = { transport: "udp", hostname: endpoint.host, port: endpoint.port };
  }

  async send(datagram: Uint8Array): Promise<void> {
    if (this.#closed) throw new ZmqError("ETERM", "The UDP sender is closed");
    try {
      await this.#conn.send(datagram, this.#target);
    } catch (e) {
      throw toZmqError(e, "EHOSTUNREACH", `Sending to ${this.endpoint} failed`);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }
}

/**
 * The `udp://` datagram transport on Deno.
 *
 * A receiver of a unicast address binds it; two cannot bind one port
 * (`EADDRINUSE`, where libzmq sets SO_REUSEADDR and the later socket quietly
 * takes the traffic). A receiver of a multicast group binds the port on every
 * interface with address reuse (several DISHes of one host share a group, as
 * with libzmq's SO_REUSEPORT) and joins the group on the interface. A sender
 * binds an ephemeral port (on the interface, for a multicast group with one)
 * and has multicast loopback on, libzmq's ZMQ_MULTICAST_LOOP default.
 *
 * @example A datagram over loopback (needs `--unstable-net`)
 * ```ts ignore
 * import { UdpTransport } from "./udp.ts";
 *
 * const udp = new UdpTransport();
 * const receiver = await udp.listen({ transport: "udp", host: "127.0.0.1", port: 0 });
 * const port = Number(receiver.endpoint.split(":").at(-1));
 * const sender = await udp.connect({ transport: "udp", host: "127.0.0.1", port });
 * await sender.send(new Uint8Array([0, 42]));
 * console.assert((await receiver.receive())!.data[1] === 42);
 * sender.close();
 * receiver.close();
 * ```
 */
export class UdpTransport implements DatagramTransport<UdpEndpoint> {
  #deno: DenoUdp;

  /** @throws {ZmqError} `EPROTONOSUPPORT` without `Deno.listenDatagram` (Deno needs `--unstable-net`). */
  constructor() {
    if (typeof deno?.listenDatagram !== "function") {
      throw new ZmqError(
        "EPROTONOSUPPORT",
        "udp:// needs Deno.listenDatagram: run Deno with --unstable-net",
      );
    }
    this.#deno = deno as DenoUdp;
  }

  /**
   * Binds a receiver.
   *
   * @param endpoint A `udp` endpoint: a local address, or a multicast group with its interface.
   * @returns The receiver, whose `endpoint` has port 0 (and a `*` unicast host) resolved.
   * @throws {ZmqError} `EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`, `EINVAL`.
   */
  listen(endpoint: UdpEndpoint): Promise<DatagramReceiver> {
    const text = formatUdp(endpoint);
    if (isMulticast(endpoint.host)) return this.#listenMulticast(endpoint, text);
    try {
      const hostname = endpoint.host === "*" ? "0.0.0.0" : endpoint.host;
      const conn = this.#open(hostname, endpoint.port, false, text);
      return Promise.resolve(new UdpReceiver(conn, addrString(conn.addr)));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async #listenMulticast(endpoint: UdpEndpoint, text: string): Promise<DatagramReceiver> {
    const iface = interfaceAddress(endpoint.iface, text);
    // libzmq binds ANY for a group and names the interface in the membership (udp_engine.cpp plug).
    const conn = this.#open("0.0.0.0", endpoint.port, true, text);
    try {
      await conn.joinMulticastV4(endpoint.host, iface);
    } catch (e) {
      conn.close();
      throw toZmqError(e, "EADDRNOTAVAIL", `Cannot join ${endpoint.host} on ${iface}`);
    }
    return new UdpReceiver(conn, formatUdp({ ...endpoint, port: conn.addr.port }));
  }

  /**
   * Opens a sender.
   *
   * @param endpoint A `udp` endpoint with a concrete host and port.
   * @returns The sender.
   * @throws {ZmqError} `EADDRNOTAVAIL` for an interface that is not local, `EACCES`.
   */
  connect(endpoint: UdpEndpoint): Promise<DatagramSender> {
    try {
      const text = formatUdp(endpoint);
      const multicast = isMulticast(endpoint.host);
      const local = endpoint.host.includes(":")
        ? "::"
        : multicast
        ? interfaceAddress(endpoint.iface, text)
        : "0.0.0.0";
      return Promise.resolve(new UdpSender(this.#open(local, 0, multicast, text), endpoint));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #open(hostname: string, port: number, multicast: boolean, endpoint: string): DenoDatagramConn {
    try {
      return this.#deno.listenDatagram({
        transport: "udp",
        hostname,
        port,
        ...(multicast ? { reuseAddress: true, loopback: true } : {}),
      });
    } catch (e) {
      throw toZmqError(e, "EINVAL", `Cannot open a UDP socket for ${endpoint}`);
    }
  }
}

let shared: UdpTransport | undefined;

/**
 * The shared `udp://` transport.
 *
 * @returns The transport.
 * @throws {ZmqError} `EPROTONOSUPPORT` without `Deno.listenDatagram`.
 *
 * @example
 * ```ts
 * import { udpTransport } from "./udp.ts";
 *
 * try {
 *   console.assert(udpTransport() === udpTransport());
 * } catch (e) {
 *   console.assert((e as { code: string }).code === "EPROTONOSUPPORT"); // no --unstable-net
 * }
 * ```
 */
export function udpTransport(): UdpTransport {
  return shared ??= new UdpTransport();
}

/**
 * The `udp` row of the transport registry: libzmq's grammar, and no
 * byte-stream transport. Sockets other than RADIO and DISH get
 * `ENOCOMPATPROTO` from `bind()`/`connect()`, as in libzmq (src/socket_base.cpp
 * check_protocol); RADIO and DISH take `udp://` through `datagram.ts`.
 *
 * @example
 * ```ts
 * import { UDP_SCHEME } from "./udp.ts";
 *
 * const endpoint = UDP_SCHEME.parse("eth0;239.0.0.1:5555", "bind", "udp://eth0;239.0.0.1:5555");
 * console.assert(UDP_SCHEME.format(endpoint) === "udp://eth0;239.0.0.1:5555");
 * ```
 */
export const UDP_SCHEME: TransportScheme<UdpEndpoint> = {
  parse: parseUdp,
  format: formatUdp,
  transport() {
    throw new ZmqError("ENOCOMPATPROTO", "udp:// carries RADIO and DISH sockets only");
  },
};
