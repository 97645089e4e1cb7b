/**
 * Linux errno values the native transport sees in completions and socket
 * calls, and their translation to {@linkcode ZmqError} codes.
 *
 * @module
 */

import { ZmqError, type ZmqErrorCode } from "../src/errors.ts";

/** Linux errno numbers (identical on x86_64 and arm64). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTSOCK: 88,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  ECANCELED: 125,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Errno).map(([name, value]) => [value, name]),
);

const CODES: Record<number, ZmqErrorCode> = {
  [Errno.EPERM]: "EACCES",
  [Errno.EACCES]: "EACCES",
  [Errno.ENOENT]: "ECONNREFUSED",
  [Errno.ECONNREFUSED]: "ECONNREFUSED",
  [Errno.EADDRINUSE]: "EADDRINUSE",
  [Errno.EADDRNOTAVAIL]: "EADDRNOTAVAIL",
  [Errno.ETIMEDOUT]: "ETIMEDOUT",
  [Errno.ECONNRESET]: "ECONNRESET",
  [Errno.EPIPE]: "ECONNRESET",
  [Errno.ENOTCONN]: "ECONNRESET",
  [Errno.ECONNABORTED]: "ECONNRESET",
  [Errno.EHOSTUNREACH]: "EHOSTUNREACH",
  [Errno.ENETUNREACH]: "EHOSTUNREACH",
  [Errno.ECANCELED]: "ETERM",
  [Errno.EINVAL]: "EINVAL",
  [Errno.ENAMETOOLONG]: "EINVAL",
  [Errno.EAFNOSUPPORT]: "EINVAL",
  [Errno.EPROTONOSUPPORT]: "EPROTONOSUPPORT",
  [Errno.EAGAIN]: "EAGAIN",
  [Errno.ENOBUFS]: "EAGAIN",
  [Errno.ENOMEM]: "EAGAIN",
  [Errno.EMFILE]: "EAGAIN",
  [Errno.ENFILE]: "EAGAIN",
};

/** The symbolic name of an errno, e.g. `"ECONNREFUSED"`, or `"errno 42"`. */
export function errnoName(errno: number): string {
  return NAMES[errno] ?? `errno ${errno}`;
}

/**
 * A `ZmqError` for a failed system call: `message` plus the errno's text,
 * with an `Error` naming the errno as `cause`.
 */
export function errnoError(
  errno: number,
  message: string,
  describe: (errno: number) => string,
  fallback: ZmqErrorCode = "EINVAL",
  overrides?: Readonly<Record<number, ZmqErrorCode>>,
): ZmqError {
  const text = describe(errno);
  const cause = new Error(`${errnoName(errno)}: ${text}`);
  const code = overrides?.[errno] ?? CODES[errno] ?? fallback;
  return new ZmqError(code, `${message}: ${text}`, { cause });
}
