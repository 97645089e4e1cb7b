/**
 * A {@linkcode Listener} over a C-owned listening socket: each pending
 * `accept()` has one ACCEPT operation in the ring; the accepted fd becomes a
 * {@linkcode NativeConnection} inside the completion handler, so it is owned
 * (and closed with the library) from the first moment.
 *
 * @module
 */

import type { Listener } from "../src/transport/types.ts";
import { Errno, errnoError } from "./_errno.ts";
import { NativeConnection } from "./_connection.ts";
import { cstr, fromCstr, type Ring } from "./_ring.ts";
import { formatEndpoint } from "../src/transport/endpoint.ts";

interface Waiter {
  resolve: (conn: NativeConnection | null) => void;
  reject: (err: unknown) => void;
}

/** Errors after which ACCEPT is simply retried (the peer gave up, or a signal). */
const TRANSIENT: ReadonlySet<number> = new Set([
  Errno.ECONNABORTED,
  Errno.EINTR,
  Errno.EAGAIN,
  Errno.ECONNRESET,
]);

/** A native listener; created by the transport only. */
export class NativeListener implements Listener, Disposable {
  readonly endpoint: string;
  #ring: Ring;
  #fd: number;
  #ipcPath: string | undefined;
  #fileId: number;
  #closed = false;
  #waiters: Waiter[] = [];
  #ops = new Set<number>();

  constructor(ring: Ring, fd: number, endpoint: string, ipcPath?: string, fileId = -1) {
    this.#ring = ring;
    this.#fd = fd;
    this.endpoint = endpoint;
    this.#ipcPath = ipcPath;
    this.#fileId = fileId;
    ring.track(this);
  }

  accept(): Promise<NativeConnection | null> {
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#arm();
    });
  }

  #arm(): void {
    const ring = this.#ring;
    let op: number;
    try {
      op = ring.allocOp();
    } catch (err) {
      this.#waiters.shift()?.reject(err);
      return;
    }
    const rc = ring.sym.mq_prep_accept(ring.ctx, op, this.#fd);
    if (rc < 0) {
      ring.releaseOp(op);
      this.#waiters.shift()?.reject(errnoError(-rc, "Accept failed", ring.describe, "EAGAIN"));
      return;
    }
    this.#ops.add(op);
    ring.start(op, (res) => this.#onAccept(op, res));
  }

  #onAccept(op: number, res: number): void {
    this.#ops.delete(op);
    const ring = this.#ring;
    if (res >= 0) {
      ring.adopt(res);
      if (this.#closed || ring.closed || this.#waiters.length === 0) {
        ring.closeFd(res);
        return;
      }
      const conn = this.#wrap(res);
      if (conn === undefined) {
        // The peer went away before we could read its address: skip it.
        ring.closeFd(res);
        this.#arm();
        return;
      }
      this.#waiters.shift()!.resolve(conn);
      return;
    }
    if (this.#closed) return;
    if (TRANSIENT.has(-res)) {
      this.#arm();
      return;
    }
    this.#waiters.shift()?.reject(errnoError(-res, "Accept failed", ring.describe, "EAGAIN"));
  }

  #wrap(fd: number): NativeConnection | undefined {
    if (this.#ipcPath !== undefined) {
      return new NativeConnection(this.#ring, fd, this.endpoint, this.endpoint);
    }
    const local = sockName(this.#ring, fd, false);
    const remote = sockName(this.#ring, fd, true);
    if (local === undefined || remote === undefined) return undefined;
    return new NativeConnection(this.#ring, fd, local, remote);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const ring = this.#ring;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(null);
    for (const op of this.#ops) ring.cancel(op);
    // Submitted ACCEPTs hold their own reference to the socket; closing the
    // fd now releases the address as soon as they are cancelled.
    ring.flushNow();
    ring.closeFd(this.#fd);
    if (this.#ipcPath !== undefined && !ring.destroyed) {
      ring.sym.mq_unlink_if(cstr(this.#ipcPath), this.#fileId);
    }
    ring.untrack(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

const nameBuffer = new Uint8Array(128);

/** `tcp://host:port` of one end of a TCP socket, or undefined if it is gone. */
export function sockName(ring: Ring, fd: number, peer: boolean): string | undefined {
  const port = ring.sym.mq_sock_name(fd, peer ? 1 : 0, nameBuffer, nameBuffer.length);
  if (port < 0) return undefined;
  return formatEndpoint({ transport: "tcp", host: fromCstr(nameBuffer), port });
}
