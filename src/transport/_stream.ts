/**
 * The parts shared by the TCP and IPC transports: a {@linkcode Connection}
 * over a `Deno.Conn`, a {@linkcode Listener} over a `Deno.Listener`, and the
 * mapping from Deno's error classes to libzmq codes.
 *
 * Deno 2.9 reports a locally closed resource as `BadResource` (or
 * `Interrupted` for an operation that was pending when it was closed); both
 * mean "closed", never an error, to the socket layer.
 *
 * @module
 */

import { ZmqError, type ZmqErrorCode } from "../errors.ts";
import type { Connection, Listener } from "./types.ts";

/**
 * Size of a connection's reusable gather buffer. Deno has no writev: frames
 * are copied together and written with one syscall. A memcpy of 64 KiB costs
 * far less than the extra write(2) a separate 9-octet frame header would.
 */
export const GATHER_SIZE = 256 * 1024;
/** Buffers larger than this are written directly rather than copied. */
export const DIRECT_LIMIT = 128 * 1024;

/** Maps a Deno error to a `ZmqError` with a libzmq code; `fallback` when nothing fits. */
export function toZmqError(
  err: unknown,
  fallback: ZmqErrorCode,
  context: string,
): ZmqError {
  if (err instanceof ZmqError) return err;
  const name = err instanceof Error ? err.name : "";
  const message = err instanceof Error ? err.message : String(err);
  let code: ZmqErrorCode = fallback;
  switch (name) {
    case "AddrInUse":
      code = "EADDRINUSE";
      break;
    case "AddrNotAvailable":
      code = "EADDRNOTAVAIL";
      break;
    case "ConnectionRefused":
    case "NotFound": // connecting to an ipc path nobody bound
      code = "ECONNREFUSED";
      break;
    case "ConnectionReset":
    case "ConnectionAborted":
    case "BrokenPipe":
    case "UnexpectedEof":
      code = "ECONNRESET";
      break;
    case "TimedOut":
      code = "ETIMEDOUT";
      break;
    case "PermissionDenied":
    case "NotCapable":
      code = "EACCES";
      break;
    case "TypeError": // e.g. an ipc path longer than sun_path
    case "URIError": // e.g. a host name Deno refuses to resolve
    case "InvalidData":
      code = "EINVAL";
      break;
  }
  return new ZmqError(code, `${context}: ${message}`, { cause: err });
}

/** Whether `err` means the resource was closed under a pending or later operation. */
export function isClosedError(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted;
}

/** Writes all of `data`, looping on partial writes. */
async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    offset += await conn.write(offset === 0 ? data : data.subarray(offset));
  }
}

/** A {@linkcode Connection} over a `Deno.Conn` (TCP or Unix). */
export class StreamConnection implements Connection, Disposable {
  readonly remoteEndpoint: string;
  readonly localEndpoint: string;
  #conn: Deno.Conn;
  #closed = false;
  /** Serialises overlapping write() calls so their bytes never interleave. */
  #tail: Promise<unknown> = Promise.resolve();
  /** Allocated on the first multi-buffer write: idle connections never hold one. */
  #gather: Uint8Array | undefined;

  constructor(conn: Deno.Conn, localEndpoint: string, remoteEndpoint: string) {
    this.#conn = conn;
    this.localEndpoint = localEndpoint;
    this.remoteEndpoint = remoteEndpoint;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    if (this.#closed) return null;
    try {
      return await this.#conn.read(buffer);
    } catch (err) {
      if (this.#closed || isClosedError(err)) return null;
      throw toZmqError(err, "ECONNRESET", "Read failed");
    }
  }

  write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new ZmqError("ECONNRESET", "Write on a closed connection"));
    }
    const result = this.#tail.then(() => this.#writeNow(buffers));
    this.#tail = result.catch(() => {});
    return result;
  }

  async #writeNow(buffers: readonly Uint8Array[]): Promise<void> {
    try {
      if (buffers.length === 1) {
        if (buffers[0].length > 0) await writeAll(this.#conn, buffers[0]);
        return;
      }
      // The gather buffer is reused: each write is awaited before the next
      // copy into it, and Deno does not keep the buffer after write resolves.
      const gather = this.#gather ??= new Uint8Array(GATHER_SIZE);
      let used = 0;
      for (const b of buffers) {
        if (b.length > DIRECT_LIMIT) {
          if (used > 0) await writeAll(this.#conn, gather.subarray(0, used));
          used = 0;
          await writeAll(this.#conn, b);
          continue;
        }
        if (used + b.length > GATHER_SIZE) {
          await writeAll(this.#conn, gather.subarray(0, used));
          used = 0;
        }
        gather.set(b, used);
        used += b.length;
      }
      if (used > 0) await writeAll(this.#conn, gather.subarray(0, used));
    } catch (err) {
      if (this.#closed || isClosedError(err)) {
        throw new ZmqError("ECONNRESET", "Connection closed during write", { cause: err });
      }
      throw toZmqError(err, "ECONNRESET", "Write failed");
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by Deno (e.g. after a reset): nothing left to release.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A {@linkcode Listener} over a `Deno.Listener`; `wrap` turns accepted conns into connections. */
export class StreamListener<C extends Deno.Conn> implements Listener, Disposable {
  readonly endpoint: string;
  #listener: Deno.Listener<C>;
  #wrap: (conn: C) => StreamConnection;
  #onClose: () => void;
  #closed = false;

  constructor(
    listener: Deno.Listener<C>,
    endpoint: string,
    wrap: (conn: C) => StreamConnection,
    onClose: () => void = () => {},
  ) {
    this.#listener = listener;
    this.endpoint = endpoint;
    this.#wrap = wrap;
    this.#onClose = onClose;
  }

  async accept(): Promise<StreamConnection | null> {
    while (!this.#closed) {
      let conn: C;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#closed || isClosedError(err)) return null;
        // A peer that gave up between SYN and accept: libzmq skips it too.
        if (
          err instanceof Deno.errors.ConnectionAborted ||
          err instanceof Deno.errors.ConnectionReset
        ) continue;
        throw toZmqError(err, "EAGAIN", "Accept failed");
      }
      if (this.#closed) {
        conn.close();
        return null;
      }
      try {
        return this.#wrap(conn);
      } catch {
        // The peer went away before we could read its address.
        conn.close();
      }
    }
    return null;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    this.#onClose();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
