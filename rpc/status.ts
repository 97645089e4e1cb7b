/**
 * RPC status codes and the error that carries them. The names and numbers
 * are gRPC's (grpc/doc/statuscodes.md), so they mean what gRPC users expect;
 * the wire carries the number as ASCII decimal (see rpc/SPEC.md).
 *
 * @module
 */

/** The status codes, by name, with their gRPC numbers. */
export const STATUS_CODES = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** A status code name, e.g. `"DEADLINE_EXCEEDED"`. */
export type StatusCode = keyof typeof STATUS_CODES;

const BY_NUMBER = new Map<number, StatusCode>(
  Object.entries(STATUS_CODES).map(([name, n]) => [n, name as StatusCode]),
);

/**
 * The status code name of a wire number; numbers this side does not know
 * map to `"UNKNOWN"`, as gRPC does.
 *
 * @param n The number.
 * @returns Its name.
 *
 * @example
 * ```ts
 * import { statusName } from "@monocoque/zmtp/rpc";
 *
 * console.assert(statusName(4) === "DEADLINE_EXCEEDED");
 * console.assert(statusName(99) === "UNKNOWN");
 * ```
 */
export function statusName(n: number): StatusCode {
  return BY_NUMBER.get(n) ?? "UNKNOWN";
}

/**
 * A call that ended with a status other than `OK`: thrown by the client's
 * calls, and thrown by a handler to answer with that status and message.
 *
 * @example A handler refusing a request
 * ```ts
 * import { RpcError } from "@monocoque/zmtp/rpc";
 *
 * const error = new RpcError("NOT_FOUND", "No such user");
 * console.assert(error.code === "NOT_FOUND");
 * console.assert(error.status === 5);
 * ```
 */
export class RpcError extends Error {
  /** The status code name. */
  readonly code: StatusCode;

  /**
   * Creates an error with a status code.
   *
   * @param code The status code name.
   * @param message What went wrong, in sentence case; sent to the caller.
   * @param options The cause, if any (not sent).
   */
  constructor(code: StatusCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RpcError";
    this.code = code;
  }

  /** The status code's wire number. */
  get status(): number {
    return STATUS_CODES[this.code];
  }
}
