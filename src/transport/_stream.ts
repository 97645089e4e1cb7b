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
import { EMPTY, gatherWrites, returnGather } from "./_gather.ts";

export { DIRECT_LIMIT, GATHER_POOL, GATHER_SIZE, gatherPoolBytes } from "./_gather.ts";

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
  /** Writes started and not yet settled; overlapping ones are chained so bytes never interleave. */
  #inflight = 0;
  /** The promise of the last write started: a later write runs after it settles. */
  #last: Promise<void> = Promise.resolve();
  /** The unit of a single-unit write in flight. */
  #unit: Uint8Array = EMPTY;

  constructor(conn: Deno.Conn, localEndpoint: string, remoteEndpoint: string) {
    this.#conn = conn;
    this.localEndpoint = localEndpoint;
    this.remoteEndpoint = remoteEndpoint;
  }

  // Not an async function: a read that waits on an idle peer then holds
  // Deno's op promise and one reaction, not also a suspended generator, its
  // registers and a second promise (about 0.3 KiB per idle connection).
  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.resolve(null);
    try {
      return this.#conn.read(buffer).then(undefined, this.#readFailed);
    } catch (err) {
      // A synchronous throw still settles the promise, as an async read would.
      return Promise.resolve(err).then(this.#readFailed);
    }
  }

  #readFailed = (err: unknown): null => {
    if (this.#closed || isClosedError(err)) return null;
    throw toZmqError(err, "ECONNRESET", "Read failed");
  };

  write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new ZmqError("ECONNRESET", "Write on a closed connection"));
    }
    const units = gatherWrites(buffers);
    let result: Promise<void>;
    if (this.#inflight++ === 0) {
      // Nothing in flight (the socket layer writes one flush at a time): a
      // single unit costs Deno's op promise and one reaction, no chain.
      result = units.length === 1 ? this.#writeOne(units[0]) : this.#writeNow(units);
    } else {
      const next = () => this.#writeNow(units);
      result = this.#last.then(next, next);
    }
    this.#last = result;
    return result;
  }

  #writeOne(unit: Uint8Array): Promise<void> {
    this.#unit = unit;
    return this.#conn.write(unit).then(this.#wrote, this.#failed);
  }

  #wrote = (n: number): Promise<void> | undefined => {
    const unit = this.#unit;
    if (n < unit.length) return this.#writeRest(unit, n);
    this.#unit = EMPTY;
    this.#inflight--;
    returnGather(unit);
    return undefined;
  };

  #failed = (err: unknown): never => {
    const unit = this.#unit;
    this.#unit = EMPTY;
    this.#inflight--;
    returnGather(unit);
    throw this.#writeError(err);
  };

  async #writeRest(unit: Uint8Array, written: number): Promise<void> {
    try {
      await writeAll(this.#conn, unit.subarray(written));
    } catch (err) {
      throw this.#writeError(err);
    } finally {
      this.#unit = EMPTY;
      this.#inflight--;
      returnGather(unit);
    }
  }

  // Takes the units, not the caller's buffers: once gathered, the chunks they
  // were copied from are free even while a write to a stalled peer pends.
  async #writeNow(units: Uint8Array[]): Promise<void> {
    let i = 0;
    try {
      for (; i < units.length; i++) {
        const unit = units[i];
        units[i] = EMPTY;
        try {
          await writeAll(this.#conn, unit);
        } finally {
          // Deno lets go of a buffer once its write settles, written or failed.
          returnGather(unit);
        }
      }
    } catch (err) {
      for (i++; i < units.length; i++) returnGather(units[i]);
      throw this.#writeError(err);
    } finally {
      this.#inflight--;
    }
  }

  #writeError(err: unknown): ZmqError {
    if (this.#closed || isClosedError(err)) {
      return new ZmqError("ECONNRESET", "Connection closed during write", { cause: err });
    }
    return toZmqError(err, "ECONNRESET", "Write failed");
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
