/**
 * The transport seam: what a socket needs from a byte-stream transport.
 * `tcp.ts`, `ipc.ts`, `inproc.ts` and the optional native io_uring transport
 * (`ffi/`) all implement these interfaces, so sockets never see `Deno.*`;
 * `registry.ts` maps each scheme to its {@linkcode TransportScheme}.
 *
 * @module
 */

/**
 * What every parsed endpoint has: its scheme. Each transport adds the fields
 * it parsed from the address (see {@linkcode TransportScheme.parse}).
 *
 * @example
 * ```ts
 * import type { EndpointBase } from "@monocoque/zmtp";
 *
 * const scheme = (endpoint: EndpointBase) => endpoint.transport;
 * console.assert(scheme({ transport: "ws" }) === "ws");
 * ```
 */
export interface EndpointBase {
  /** The scheme, e.g. `"tcp"` in `"tcp://127.0.0.1:5555"`. */
  readonly transport: string;
}

/**
 * A parsed `tcp://host:port` endpoint.
 *
 * @example
 * ```ts
 * import type { TcpEndpoint } from "@monocoque/zmtp";
 *
 * const any: TcpEndpoint = { transport: "tcp", host: "*", port: 0 };
 * console.assert(any.port === 0);
 * ```
 */
export interface TcpEndpoint extends EndpointBase {
  /** The scheme, always `"tcp"`. */
  readonly transport: "tcp";
  /** Host name or address as written; `"*"` means every interface. IPv6 without brackets. */
  readonly host: string;
  /** Port number; 0 means "any free port" (bind only). */
  readonly port: number;
}

/**
 * A parsed `ipc://path` endpoint.
 *
 * @example
 * ```ts
 * import type { IpcEndpoint } from "@monocoque/zmtp";
 *
 * const endpoint: IpcEndpoint = { transport: "ipc", path: "/tmp/feed.sock" };
 * console.assert(endpoint.path.endsWith(".sock"));
 * ```
 */
export interface IpcEndpoint extends EndpointBase {
  /** The scheme, always `"ipc"`. */
  readonly transport: "ipc";
  /** File system path of the Unix socket. */
  readonly path: string;
}

/**
 * A parsed `inproc://name` endpoint.
 *
 * @example
 * ```ts
 * import type { InprocEndpoint } from "@monocoque/zmtp";
 *
 * const endpoint: InprocEndpoint = { transport: "inproc", name: "workers" };
 * console.assert(endpoint.name === "workers");
 * ```
 */
export interface InprocEndpoint extends EndpointBase {
  /** The scheme, always `"inproc"`. */
  readonly transport: "inproc";
  /** Name shared by binder and connecter within this process. */
  readonly name: string;
}

/**
 * A parsed endpoint of a built-in transport, e.g. from `"tcp://127.0.0.1:5555"`.
 *
 * @example
 * ```ts
 * import type { Endpoint } from "@monocoque/zmtp";
 *
 * const where = (e: Endpoint) => e.transport === "tcp" ? `${e.host}:${e.port}` : e.transport;
 * console.assert(where({ transport: "tcp", host: "localhost", port: 5555 }) === "localhost:5555");
 * ```
 */
export type Endpoint = TcpEndpoint | IpcEndpoint | InprocEndpoint;

/**
 * One established, bidirectional byte stream.
 *
 * @example Read what arrived
 * ```ts
 * import type { Connection } from "@monocoque/zmtp";
 *
 * async function readSome(conn: Connection): Promise<Uint8Array | null> {
 *   const buffer = new Uint8Array(4096);
 *   const n = await conn.read(buffer);
 *   return n === null ? null : buffer.subarray(0, n);
 * }
 * console.assert(typeof readSome === "function");
 * ```
 */
export interface Connection {
  /** The endpoint of the peer, as a ZeroMQ endpoint string. */
  readonly remoteEndpoint: string;
  /** The local endpoint, as a ZeroMQ endpoint string. */
  readonly localEndpoint: string;
  /**
   * Reads into `buffer`; resolves to the number of bytes read, or `null` at
   * end of stream or once the connection is closed. Never rejects for a
   * closed connection; rejects with a `ZmqError` (`ECONNRESET`) on a reset.
   */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Writes every buffer, in order, completely. The buffers must not be
   * modified until the promise settles. One call per flush: implementations
   * write them with as few system calls as they can.
   */
  write(buffers: readonly Uint8Array[]): Promise<void>;
  /** Closes both directions; idempotent. Pending reads resolve to `null`. */
  close(): void;
  /**
   * How the connection carries frames: `"stream"` (the default) is a byte
   * stream read with `read()`; `"message"` (ws, wss: ZWS 2.0) delivers whole
   * messages through `readMessage()` and sends each buffer given to
   * `write()` as one message.
   */
  readonly framing?: "stream" | "message";
  /**
   * Message connections: resolves to the next message, or `null` at the end
   * or once closed; rejects with a `ZmqError` when the peer broke the
   * transport's rules (e.g. sent a text WebSocket message).
   */
  readMessage?(): Promise<Uint8Array | null>;
  /**
   * Message connections: the security mechanism the transport negotiated
   * (e.g. `"NULL"`), or `""` for none (bare `ZWS2.0`: libzmq's exchange of
   * routing ids instead of a mechanism handshake).
   */
  readonly mechanism?: string;
}

/**
 * A bound endpoint accepting connections.
 *
 * @example Accept until closed
 * ```ts
 * import type { Listener } from "@monocoque/zmtp";
 *
 * async function acceptAll(listener: Listener): Promise<number> {
 *   let n = 0;
 *   for (let conn = await listener.accept(); conn !== null; conn = await listener.accept()) {
 *     conn.close();
 *     n++;
 *   }
 *   return n;
 * }
 * console.assert(typeof acceptAll === "function");
 * ```
 */
export interface Listener {
  /** The bound endpoint with wildcards and port 0 resolved, e.g. `"tcp://0.0.0.0:40123"`. */
  readonly endpoint: string;
  /** Resolves to the next connection, or `null` once the listener is closed. */
  accept(): Promise<Connection | null>;
  /** Stops listening and releases the address (and removes an ipc socket file); idempotent. */
  close(): void;
}

/**
 * Options for {@linkcode Transport.connect}.
 *
 * @example
 * ```ts
 * import type { TransportConnectOptions } from "@monocoque/zmtp";
 *
 * const options: TransportConnectOptions = { signal: AbortSignal.timeout(1000) };
 * console.assert(options.signal !== undefined);
 * ```
 */
export interface TransportConnectOptions {
  /** Aborts the attempt (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** The socket's security mechanism (`"NULL"`, `"PLAIN"`, `"CURVE"`), for transports that negotiate it (ws). */
  mechanism?: string;
}

/**
 * Options for {@linkcode Transport.listen}.
 *
 * @example
 * ```ts
 * import type { TransportListenOptions } from "@monocoque/zmtp";
 *
 * const options: TransportListenOptions = { mechanism: "NULL" };
 * console.assert(options.mechanism === "NULL");
 * ```
 */
export interface TransportListenOptions {
  /** The socket's security mechanism (`"NULL"`, `"PLAIN"`, `"CURVE"`), for transports that negotiate it (ws). */
  mechanism?: string;
  /** TLS servers (wss): the certificate chain and private key, PEM. */
  tls?: { cert: string; key: string };
  /** WebSocket servers: whether to accept a request from this `Origin` (`null` when absent). */
  checkOrigin?: (origin: string | null) => boolean;
}

/**
 * A transport for one endpoint scheme.
 *
 * @example The io_uring transport for tcp and ipc
 * ```ts ignore
 * import { PushSocket, type Transport } from "@monocoque/zmtp";
 * import { NativeTransport } from "@monocoque/zmtp/native";
 *
 * const transport: Transport = new NativeTransport();
 * const push = new PushSocket({ transport });
 * ```
 */
export interface Transport<E extends EndpointBase = Endpoint> {
  /** Starts listening; rejects with `ZmqError` `EADDRINUSE`, `EADDRNOTAVAIL`, `EINVAL`. */
  listen(endpoint: E, options?: TransportListenOptions): Promise<Listener>;
  /** Connects; rejects with `ZmqError` `ECONNREFUSED` (or another code) on failure. */
  connect(endpoint: E, options?: TransportConnectOptions): Promise<Connection>;
  /**
   * Throws a `ZmqError` (e.g. `EPROTONOSUPPORT`) for a connect that can never
   * succeed with these options, so `connect()` fails at the call instead of
   * retrying forever. Optional: without it every failure is retried.
   */
  checkConnect?(endpoint: E, options?: TransportConnectOptions): void;
}

/**
 * Whether an endpoint is parsed for `bind()` (wildcards allowed) or `connect()`.
 *
 * @example
 * ```ts
 * import type { EndpointUse } from "@monocoque/zmtp";
 *
 * const allowsWildcards = (use: EndpointUse) => use === "bind";
 * console.assert(!allowsWildcards("connect"));
 * ```
 */
export type EndpointUse = "bind" | "connect";

/**
 * One row of the transport registry: a scheme's address grammar, and the
 * transport that serves it on the runtime we run on.
 *
 * @example A scheme with no transport on this runtime
 * ```ts
 * import type { EndpointBase, TransportScheme } from "@monocoque/zmtp";
 *
 * const nowhere: TransportScheme<EndpointBase> = {
 *   parse: () => ({ transport: "nowhere" }),
 *   format: () => "nowhere://",
 *   transport: () => undefined,
 * };
 * console.assert(nowhere.transport() === undefined);
 * ```
 */
export interface TransportScheme<E extends EndpointBase = EndpointBase> {
  /**
   * Parses the address after `scheme://`; throws `ZmqError` `EINVAL` for a
   * malformed address or one `use` does not allow (e.g. a wildcard to connect to).
   */
  parse(address: string, use: EndpointUse, endpoint: string): E;
  /** Writes an endpoint back as a string; the inverse of `parse`. */
  format(endpoint: E): string;
  /** This runtime's transport for the scheme, or `undefined` if it has none. */
  transport(): Transport<E> | undefined;
}
