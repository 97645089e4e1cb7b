/**
 * The transport seam: what a socket needs from a byte-stream transport.
 * `tcp.ts`, `ipc.ts`, `inproc.ts` and the optional native io_uring transport
 * (`ffi/`) all implement these interfaces, so sockets never see `Deno.*`.
 *
 * @module
 */

/** A parsed endpoint, e.g. from `"tcp://127.0.0.1:5555"`. */
export type Endpoint =
  | {
    readonly transport: "tcp";
    /** Host name or address as written; `"*"` means every interface. IPv6 without brackets. */
    readonly host: string;
    /** Port number; 0 means "any free port" (bind only). */
    readonly port: number;
  }
  | {
    readonly transport: "ipc";
    /** File system path of the Unix socket. */
    readonly path: string;
  }
  | {
    readonly transport: "inproc";
    /** Name shared by binder and connecter within this process. */
    readonly name: string;
  };

/** One established, bidirectional byte stream. */
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
}

/** A bound endpoint accepting connections. */
export interface Listener {
  /** The bound endpoint with wildcards and port 0 resolved, e.g. `"tcp://0.0.0.0:40123"`. */
  readonly endpoint: string;
  /** Resolves to the next connection, or `null` once the listener is closed. */
  accept(): Promise<Connection | null>;
  /** Stops listening and releases the address (and removes an ipc socket file); idempotent. */
  close(): void;
}

/** Options for {@linkcode Transport.connect}. */
export interface TransportConnectOptions {
  /** Aborts the attempt (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** A transport for one endpoint scheme. */
export interface Transport {
  /** Starts listening; rejects with `ZmqError` `EADDRINUSE`, `EADDRNOTAVAIL`, `EINVAL`. */
  listen(endpoint: Endpoint): Promise<Listener>;
  /** Connects; rejects with `ZmqError` `ECONNREFUSED` (or another code) on failure. */
  connect(endpoint: Endpoint, options?: TransportConnectOptions): Promise<Connection>;
}
