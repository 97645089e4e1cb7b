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
 * - `ENOCOMPATPROTO`: the endpoint's transport does not carry this socket
 *   type (`udp://` is for RADIO and DISH only).
 * - `ENOENT`: the endpoint to unbind or disconnect is unknown.
 * - `ETIMEDOUT`: a connection, handshake or heartbeat timed out.
 * - `EACCES`: authentication failed or a permission was missing.
 * - `ECONNRESET`: the connection was reset by the peer.
 * - `ECANCELED`: the call was aborted by its `AbortSignal` (for a reason other
 *   than a timeout); the abort reason is the error's `cause`.
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
  | "ENOCOMPATPROTO"
  | "ENOENT"
  | "ETIMEDOUT"
  | "EACCES"
  | "ECONNRESET"
  | "ECANCELED";

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

/**
 * The error a call aborted by its `AbortSignal` rejects with, so every way a
 * call can end early has one shape: `EAGAIN` when the reason is a timeout
 * (`AbortSignal.timeout()` aborts with a `DOMException` named
 * `"TimeoutError"`), the same code `receiveTimeout`/`sendTimeout` give, and
 * `ECANCELED` otherwise; the reason is the `cause`. Internal.
 *
 * @param reason The signal's `reason`.
 * @param what The call, in sentence case ("Receive").
 * @returns The error to reject with.
 */
export function abortError(reason: unknown, what: string): ZmqError {
  const timedOut = reason instanceof DOMException && reason.name === "TimeoutError";
  return timedOut
    ? new ZmqError("EAGAIN", `${what} timed out (AbortSignal)`, { cause: reason })
    : new ZmqError("ECANCELED", `${what} was aborted`, { cause: reason });
}
