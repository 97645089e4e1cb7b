/**
 * The QUIC transport (`quic://host:port`) over Deno's built-in QUIC API
 * (`Deno.QuicEndpoint`, `Deno.connectQuic`; unstable in Deno 2.9: run with
 * `--unstable-net`, or it is not there and the scheme is `EPROTONOSUPPORT`).
 *
 * One ZMTP connection is one bidirectional stream on its own QUIC
 * connection, so the greeting, handshake and frames are the same bytes as
 * over TCP; the ALPN protocol is `"zmtp"`. TLS 1.3 is part of QUIC: a bind
 * serves the socket's `wssCertPem`/`wssKeyPem`, and a client trusts it
 * through Deno's CA store (`--cert`, `DENO_CERT`) or this transport's
 * `caCerts`. No libzmq speaks QUIC: this carries Monocoque to Monocoque.
 *
 * QUIC connections time out when idle: both sides send keep-alives every
 * {@linkcode QuicTransportOptions.keepAliveInterval} so a quiet ZMTP
 * connection lives as long as over TCP, and a peer that vanished is noticed
 * after {@linkcode QuicTransportOptions.maxIdleTimeout}.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { parseTcp } from "./_address.ts";
import { QuicConnection } from "./_quic_connection.ts";
import { QuicServer } from "./_quic_listener.ts";
import { toZmqError } from "./_stream.ts";
import type {
  Connection,
  EndpointBase,
  EndpointUse,
  Listener,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
} from "./types.ts";

/** The ALPN protocol name both sides announce. */
export const QUIC_ALPN = "zmtp";

/**
 * A parsed `quic://host:port` endpoint.
 *
 * @example
 * ```ts
 * import type { QuicEndpoint } from "./quic.ts";
 *
 * const endpoint: QuicEndpoint = { transport: "quic", host: "127.0.0.1", port: 5555 };
 * console.assert(endpoint.port === 5555);
 * ```
 */
export interface QuicEndpoint extends EndpointBase {
  /** The scheme, always `"quic"`. */
  readonly transport: "quic";
  /** Host name or address; `"*"` binds every IPv4 interface. IPv6 without brackets. */
  readonly host: string;
  /** UDP port; 0 means any free port (bind only). */
  readonly port: number;
}

/**
 * Options of a {@linkcode QuicTransport}.
 *
 * @example
 * ```ts
 * import type { QuicTransportOptions } from "./quic.ts";
 *
 * const options: QuicTransportOptions = { keepAliveInterval: 5000, maxIdleTimeout: 15000 };
 * console.assert(options.keepAliveInterval! < options.maxIdleTimeout!);
 * ```
 */
export interface QuicTransportOptions {
  /** Clients: CA certificates (PEM) trusted besides Deno's store (`--cert`, `DENO_CERT`). */
  caCerts?: string[];
  /** Milliseconds between keep-alive packets on a quiet connection. Default 10000; 0: none. */
  keepAliveInterval?: number;
  /**
   * Milliseconds of silence (no packet, keep-alives included) after which a
   * connection, or a handshake, is given up. Default 30000; 0: never (QUIC's "disabled").
   */
  maxIdleTimeout?: number;
  /** Milliseconds a connect attempt may take before `ETIMEDOUT`. Default 30000; 0: no limit. */
  handshakeTimeout?: number;
}

/**
 * Parses the address of a `quic://` endpoint: `host:port` as for tcp.
 *
 * @param address The part after `quic://`.
 * @param use `"bind"` allows `*` and port 0.
 * @param endpoint The whole endpoint, for error messages.
 * @returns The parsed endpoint.
 * @throws {ZmqError} `EINVAL` for a malformed address.
 *
 * @example
 * ```ts
 * import { parseQuic } from "./quic.ts";
 *
 * const e = parseQuic("[::1]:5555", "connect", "quic://[::1]:5555");
 * console.assert(e.host === "::1" && e.port === 5555);
 * ```
 */
export function parseQuic(address: string, use: EndpointUse, endpoint: string): QuicEndpoint {
  const { host, port } = parseTcp(address, use, endpoint);
  return { transport: "quic", host, port };
}

/**
 * Writes a quic endpoint back as a string, IPv6 hosts in brackets.
 *
 * @param endpoint The endpoint.
 * @returns E.g. `"quic://127.0.0.1:5555"`.
 *
 * @example
 * ```ts
 * import { formatQuic } from "./quic.ts";
 *
 * console.assert(formatQuic({ transport: "quic", host: "::1", port: 1 }) === "quic://[::1]:1");
 * ```
 */
export function formatQuic(endpoint: QuicEndpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return `quic://${host}:${endpoint.port}`;
}

/**
 * Whether this runtime has Deno's QUIC API (Deno 2.9 with `--unstable-net`).
 *
 * @returns True when `Deno.QuicEndpoint` and `Deno.connectQuic` exist.
 *
 * @example
 * ```ts
 * import { hasQuic } from "./quic.ts";
 *
 * console.assert(typeof hasQuic() === "boolean");
 * ```
 */
export function hasQuic(): boolean {
  const deno = (globalThis as { Deno?: Record<string, unknown> }).Deno;
  return typeof deno?.QuicEndpoint === "function" && typeof deno?.connectQuic === "function";
}

function nonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && Number.isFinite(value))) {
    throw new RangeError(`Option ${name} must be a finite number >= 0, got ${value}`);
  }
}

function netAddr(addr: Deno.NetAddr): string {
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 addresses.
  const host = addr.hostname.startsWith("::ffff:") && addr.hostname.includes(".")
    ? addr.hostname.slice(7)
    : addr.hostname;
  return formatQuic({ transport: "quic", host, port: addr.port });
}

/**
 * The `quic://` transport.
 *
 * @example A connection between two Monocoque peers (needs `--unstable-net` and a certificate)
 * ```ts ignore
 * import { QuicTransport } from "./quic.ts";
 *
 * const quic = new QuicTransport({ caCerts: [Deno.readTextFileSync("ca.pem")] });
 * const listener = await quic.listen(
 *   { transport: "quic", host: "127.0.0.1", port: 0 },
 *   { tls: { cert: Deno.readTextFileSync("cert.pem"), key: Deno.readTextFileSync("key.pem") } },
 * );
 * const port = Number(listener.endpoint.split(":").at(-1));
 * const client = await quic.connect({ transport: "quic", host: "127.0.0.1", port });
 * client.close();
 * listener.close();
 * ```
 */
export class QuicTransport implements Transport<QuicEndpoint> {
  #options: QuicTransportOptions;

  /**
   * Creates a quic transport.
   *
   * @param options Trusted CAs, keep-alive and timeouts.
   * @throws {RangeError} On a negative or non-finite interval or timeout.
   *
   * @example
   * ```ts
   * import { QuicTransport } from "./quic.ts";
   *
   * const quic = new QuicTransport({ handshakeTimeout: 10_000 });
   * console.assert(typeof quic.connect === "function");
   * ```
   */
  constructor(options: QuicTransportOptions = {}) {
    nonNegative("keepAliveInterval", options.keepAliveInterval);
    nonNegative("maxIdleTimeout", options.maxIdleTimeout);
    nonNegative("handshakeTimeout", options.handshakeTimeout);
    this.#options = options;
  }

  #transportOptions(): Deno.QuicTransportOptions {
    // 0 means "none": quinn would take a zero keep-alive interval literally.
    const keepAlive = this.#options.keepAliveInterval ?? 10_000;
    return {
      keepAliveInterval: keepAlive > 0 ? keepAlive : undefined,
      maxIdleTimeout: this.#options.maxIdleTimeout ?? 30_000,
    };
  }

  /**
   * Listens on a UDP port with the socket's certificate.
   *
   * @param endpoint A quic endpoint; host `*` binds every IPv4 interface, port 0 any free port.
   * @param options `tls`: the certificate chain and key (PEM), required.
   * @returns The listener; its `endpoint` has the port resolved.
   * @throws {ZmqError} `EPROTONOSUPPORT` without the QUIC API, `EINVAL`
   * without a certificate or with an unusable one, `EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`.
   */
  listen(endpoint: QuicEndpoint, options?: TransportListenOptions): Promise<Listener & Disposable> {
    try {
      if (!hasQuic()) {
        throw new ZmqError(
          "EPROTONOSUPPORT",
          "This runtime has no QUIC API (Deno needs --unstable-net)",
        );
      }
      const tls = options?.tls;
      if (tls === undefined) {
        throw new ZmqError(
          "EINVAL",
          `Cannot bind to '${
            formatQuic(endpoint)
          }': QUIC needs a certificate (socket options wssCertPem and wssKeyPem)`,
        );
      }
      let server: QuicServer;
      try {
        server = new QuicServer(endpoint.host === "*" ? "0.0.0.0" : endpoint.host, endpoint.port, {
          alpn: QUIC_ALPN,
          cert: tls.cert,
          key: tls.key,
          transportOptions: this.#transportOptions(),
          format: netAddr,
        });
      } catch (err) {
        const code = err instanceof Error && err.name === "Error" ? "EADDRNOTAVAIL" : "EINVAL";
        throw toZmqError(err, code, `Cannot bind to '${formatQuic(endpoint)}'`);
      }
      return Promise.resolve(server);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Connects from a fresh UDP port of its own (closed with the connection)
   * and opens the stream that carries ZMTP.
   *
   * @param endpoint A quic endpoint with a concrete host and port.
   * @param options `signal` aborts the attempt.
   * @returns The connection.
   * @throws {ZmqError} `ECONNREFUSED` when the handshake fails (refused, no
   * trusted certificate, wrong ALPN), `ETIMEDOUT` past the handshake
   * deadline, `EHOSTUNREACH` for a name that does not resolve,
   * `EPROTONOSUPPORT` without the QUIC API.
   */
  async connect(
    endpoint: QuicEndpoint,
    options?: TransportConnectOptions,
  ): Promise<Connection & Disposable> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    if (!hasQuic()) {
      throw new ZmqError(
        "EPROTONOSUPPORT",
        "This runtime has no QUIC API (Deno needs --unstable-net)",
      );
    }
    const where = formatQuic(endpoint);
    if (endpoint.host === "*" || endpoint.port === 0) {
      throw new ZmqError("EINVAL", `Cannot connect to '${where}': wildcard host or port`);
    }
    // Our own endpoint, not connectQuic's: closing it is the only way to
    // abandon a handshake in progress, and it is released with the connection.
    let local: Deno.QuicEndpoint;
    try {
      local = localEndpoint(endpoint.host);
    } catch (err) {
      throw toZmqError(err, "EADDRNOTAVAIL", `Cannot connect to '${where}'`);
    }
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const giveUp = () => {
      try {
        local.close();
      } catch {
        // Already closed.
      }
    };
    const deadline = this.#options.handshakeTimeout ?? 30_000;
    if (deadline > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        giveUp();
      }, deadline);
    }
    signal?.addEventListener("abort", giveUp);
    let conn: Deno.QuicConn;
    let stream: Deno.QuicBidirectionalStream;
    try {
      conn = await Deno.connectQuic({
        ...this.#transportOptions(),
        hostname: endpoint.host,
        port: endpoint.port,
        alpnProtocols: [QUIC_ALPN],
        caCerts: this.#options.caCerts,
        endpoint: local,
        // The server never opens streams to us.
        maxConcurrentBidirectionalStreams: 0,
        maxConcurrentUnidirectionalStreams: 0,
      });
      if (conn.protocol !== QUIC_ALPN) {
        conn.close({ closeCode: 1, reason: "wrong ALPN" });
        throw new ZmqError("EPROTO", `The server at '${where}' does not speak ALPN '${QUIC_ALPN}'`);
      }
      stream = await conn.createBidirectionalStream();
    } catch (err) {
      giveUp();
      if (signal?.aborted) throw signal.reason;
      if (timedOut) throw new ZmqError("ETIMEDOUT", `QUIC handshake with '${where}' timed out`);
      const message = err instanceof Error ? err.message : "";
      const code = /resolve/i.test(message)
        ? "EHOSTUNREACH"
        : /timed out/i.test(message)
        ? "ETIMEDOUT"
        : "ECONNREFUSED";
      throw toZmqError(err, code, `Cannot connect to '${where}'`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", giveUp);
    }
    return new QuicConnection({
      conn,
      stream,
      localEndpoint: netAddr(local.addr),
      remoteEndpoint: where,
      onClosed: giveUp,
    });
  }
}

/** A client UDP endpoint of the family `host` needs; names get a dual-stack one when possible. */
function localEndpoint(host: string): Deno.QuicEndpoint {
  if (/^[0-9.]+$/.test(host)) return new Deno.QuicEndpoint({ hostname: "0.0.0.0", port: 0 });
  try {
    return new Deno.QuicEndpoint({ hostname: "::", port: 0 });
  } catch (err) {
    if (host.includes(":")) throw err;
    return new Deno.QuicEndpoint({ hostname: "0.0.0.0", port: 0 });
  }
}
