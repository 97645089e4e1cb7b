/**
 * The error type every Monocoque socket throws for ZeroMQ-level failures,
 * carrying the libzmq error code a ZeroMQ user already knows.
 *
 * @module
 */

/**
 * The libzmq error codes Monocoque reports.
 *
 * - `EAGAIN`: a non-blocking or timed send/receive could not complete in time.
 * - `EHOSTUNREACH`: a ROUTER with `mandatory` was asked to route to an unknown peer.
 * - `EFSM`: the operation is not allowed in the socket's current state (REQ/REP alternation).
 * - `ETERM`: the socket was closed while the operation was pending.
 * - `EADDRINUSE`: the endpoint is already bound.
 * - `EADDRNOTAVAIL`: the address is not local.
 * - `ECONNREFUSED`: nobody listens at the endpoint.
 * - `EPROTO`: the peer broke the ZMTP protocol.
 * - `EINVAL`: an invalid argument or endpoint.
 * - `EMSGSIZE`: a message is larger than `maxMessageSize`.
 * - `ENOTSUP`: the operation is not supported by this socket type.
 * - `EPROTONOSUPPORT`: the endpoint's transport is not supported.
 * - `ENOENT`: the endpoint to unbind or disconnect is unknown.
 * - `ETIMEDOUT`: a connection, handshake or heartbeat timed out.
 * - `EACCES`: authentication failed or a permission was missing.
 * - `ECONNRESET`: the connection was reset by the peer.
 */
export type ZmqErrorCode =
  | "EAGAIN"
  | "EHOSTUNREACH"
  | "EFSM"
  | "ETERM"
  | "EADDRINUSE"
  | "EADDRNOTAVAIL"
  | "ECONNREFUSED"
  | "EPROTO"
  | "EINVAL"
  | "EMSGSIZE"
  | "ENOTSUP"
  | "EPROTONOSUPPORT"
  | "ENOENT"
  | "ETIMEDOUT"
  | "EACCES"
  | "ECONNRESET";

/** Options for {@linkcode ZmqError}. */
export interface ZmqErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * An error with a libzmq error `code`.
 *
 * @example Catching a receive timeout
 * ```ts
 * import { ZmqError } from "@monocoque/zmtp";
 *
 * const err = new ZmqError("EAGAIN", "Receive timed out after 100 ms");
 * console.assert(err.code === "EAGAIN");
 * console.assert(err instanceof Error);
 * ```
 */
export class ZmqError extends Error {
  /** The libzmq error code, e.g. `EAGAIN`. */
  readonly code: ZmqErrorCode;

  /**
   * Creates a new error.
   *
   * @param code The libzmq error code.
   * @param message A sentence-case description without a trailing period.
   * @param options The `cause`, if any.
   */
  constructor(code: ZmqErrorCode, message: string, options?: ZmqErrorOptions) {
    super(message, options);
    this.name = "ZmqError";
    this.code = code;
  }
}
