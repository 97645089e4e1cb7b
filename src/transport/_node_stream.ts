/**
 * The parts shared by the `node:net` TCP and IPC transports (Node ≥ 20 and
 * Bun): a {@linkcode Connection} over a `net.Socket`, a {@linkcode Listener}
 * over a `net.Server`, opening a socket with an abort signal, and the mapping
 * from Node's error codes to libzmq's.
 *
 * `net.Socket` pushes data; {@linkcode Connection.read} pulls it. Chunks are
 * queued until read, and the socket is paused while more than
 * {@linkcode READ_HIGH} bytes wait, so a peer that sends faster than the
 * session decodes fills the kernel's buffer (and so is slowed by TCP), not
 * ours. Writes are coalesced like Deno's (see `_gather.ts`) and corked, so
 * one flush is one `write(2)` or `writev(2)`.
 *
 * @module
 */

import { ZmqError, type ZmqErrorCode } from "../errors.ts";
import { EMPTY, gatherWrites, returnGather } from "./_gather.ts";
import type { NodeNet, NodeServer, NodeSocket } from "./_node_net.ts";
import type { Connection, Listener } from "./types.ts";

/** Bytes queued unread before the socket is paused. */
export const READ_HIGH = 256 * 1024;
/** Accepted connections queued unaccepted before new ones are dropped. */
export const ACCEPT_BACKLOG = 1024;

/** Maps a Node error (its `code`) to a `ZmqError`; `fallback` when nothing fits. */
export function nodeZmqError(err: unknown, fallback: ZmqErrorCode, context: string): ZmqError {
  if (err instanceof ZmqError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const name = (err as { code?: unknown } | null)?.code;
  let code: ZmqErrorCode = fallback;
  switch (name) {
    case "EADDRINUSE":
    case "EADDRNOTAVAIL":
    case "ECONNREFUSED":
    case "ETIMEDOUT":
    case "EACCES":
    case "EINVAL":
    case "EHOSTUNREACH":
      code = name;
      break;
    case "ENOENT": // connecting to an ipc path nobody bound; bind maps it to ENOENT itself
      code = "ECONNREFUSED";
      break;
    case "ENETUNREACH":
      code = "EHOSTUNREACH";
      break;
    case "EPERM":
      code = "EACCES";
      break;
    case "ECONNRESET":
    case "ECONNABORTED":
    case "EPIPE":
    case "ERR_STREAM_DESTROYED":
    case "ERR_STREAM_WRITE_AFTER_END":
      code = "ECONNRESET";
      break;
    case "ENAMETOOLONG": // an ipc path longer than sun_path
    case "ERR_INVALID_ARG_TYPE":
    case "ERR_INVALID_ARG_VALUE":
    case "ERR_SOCKET_BAD_PORT":
      code = "EINVAL";
      break;
  }
  return new ZmqError(code, `${context}: ${message}`, { cause: err });
}

/**
 * Opens a socket with `net.connect` and resolves once it is connected;
 * rejects with the signal's reason if aborted (the socket is destroyed).
 */
export function openSocket(
  net: NodeNet,
  options: { host: string; port: number } | { path: string },
  signal: AbortSignal | undefined,
): Promise<NodeSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options);
    const settle = () => {
      socket.removeListener("connect", onConnect);
      socket.removeListener("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    const onConnect = () => {
      settle();
      socket.on("error", () => {}); // until the connection's own listener is added
      resolve(socket);
    };
    // Keeps a listener on "error" until the connection adds its own: an
    // "error" event without one would be thrown by the event emitter.
    const onError = (err: Error) => {
      settle();
      socket.on("error", () => {});
      socket.destroy();
      reject(err);
    };
    const onAbort = () => {
      settle();
      socket.on("error", () => {});
      socket.destroy();
      reject(signal!.reason);
    };
    socket.once("connect", onConnect);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** One corked write of a flush: settles when its last unit is written or the socket closes. */
interface PendingWrite {
  resolve(): void;
  reject(err: unknown): void;
}

/** A {@linkcode Connection} over a `net.Socket` (TCP or Unix). */
export class NodeConnection implements Connection, Disposable {
  readonly remoteEndpoint: string;
  readonly localEndpoint: string;
  #socket: NodeSocket;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  #paused = true;
  #ended = false;
  #closed = false;
  #error: ZmqError | undefined;
  #waiter: (() => void) | undefined;
  #writes = new Set<PendingWrite>();

  /**
   * Takes over `socket` (connected or accepted): pauses it until the first
   * read and listens for its data, end, errors and close.
   */
  constructor(socket: NodeSocket, localEndpoint: string, remoteEndpoint: string) {
    this.#socket = socket;
    this.localEndpoint = localEndpoint;
    this.remoteEndpoint = remoteEndpoint;
    socket.pause();
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("end", () => this.#onEnd());
    socket.on("error", (err: Error) => {
      this.#error ??= nodeZmqError(err, "ECONNRESET", "Connection failed");
      this.#wake();
    });
    socket.on("close", () => this.#onClose());
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued >= READ_HIGH && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
    this.#wake();
  }

  #onEnd(): void {
    this.#ended = true;
    this.#wake();
  }

  #onClose(): void {
    this.#ended = true;
    this.#wake();
    // Bun, unlike Node, may not call back writes pending at close: settle them here.
    const err = this.#error ?? new ZmqError("ECONNRESET", "Connection closed during write");
    for (const pending of this.#writes) pending.reject(err);
    this.#writes.clear();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) return null;
      if (this.#queued > 0) return this.#take(buffer);
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return null;
      if (this.#paused) {
        this.#paused = false;
        this.#socket.resume();
      }
      await new Promise<void>((resolve) => this.#waiter = resolve);
    }
  }

  /** Copies queued chunks into `buffer`; a chunk that does not fit stays queued as a view. */
  #take(buffer: Uint8Array): number {
    let n = 0;
    const chunks = this.#chunks;
    while (n < buffer.length && this.#head < chunks.length) {
      const chunk = chunks[this.#head];
      const room = buffer.length - n;
      if (chunk.length <= room) {
        buffer.set(chunk, n);
        n += chunk.length;
        chunks[this.#head++] = EMPTY;
      } else {
        buffer.set(chunk.subarray(0, room), n);
        n += room;
        chunks[this.#head] = chunk.subarray(room);
      }
    }
    if (this.#head === chunks.length) {
      chunks.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#chunks = chunks.slice(this.#head);
      this.#head = 0;
    }
    this.#queued -= n;
    if (this.#paused && this.#queued < READ_HIGH && !this.#ended) {
      this.#paused = false;
      this.#socket.resume();
    }
    return n;
  }

  write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#closed || this.#socket.destroyed) {
      return Promise.reject(new ZmqError("ECONNRESET", "Write on a closed connection"));
    }
    const units = gatherWrites(buffers);
    if (units.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let left = units.length;
      const pending: PendingWrite = {
        resolve: () => {
          this.#writes.delete(pending);
          resolve();
        },
        reject: (err) => {
          this.#writes.delete(pending);
          reject(err);
        },
      };
      this.#writes.add(pending);
      const socket = this.#socket;
      // Node's write queue keeps the order of overlapping write() calls and,
      // corked, hands all units of one flush to libuv as one writev.
      socket.cork();
      for (let i = 0; i < units.length; i++) {
        const unit = units[i];
        units[i] = EMPTY;
        let done = false;
        socket.write(unit, (err) => {
          // A runtime may call back twice (error, then close): return the gather once.
          if (done) return;
          done = true;
          returnGather(unit);
          if (err) {
            pending.reject(
              this.#closed
                ? new ZmqError("ECONNRESET", "Connection closed during write", { cause: err })
                : nodeZmqError(err, "ECONNRESET", "Write failed"),
            );
          } else if (--left === 0) {
            pending.resolve();
          }
        });
      }
      socket.uncork();
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = [];
    this.#head = this.#queued = 0;
    this.#socket.destroy();
    this.#wake();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A {@linkcode Listener} over a listening `net.Server`; `wrap` turns sockets into connections. */
export class NodeListener implements Listener, Disposable {
  readonly endpoint: string;
  #server: NodeServer;
  #wrap: (socket: NodeSocket) => NodeConnection;
  #onClose: () => void;
  #queue: NodeSocket[] = [];
  #waiter: ((socket: NodeSocket | null) => void) | undefined;
  #closed = false;

  constructor(
    server: NodeServer,
    endpoint: string,
    wrap: (socket: NodeSocket) => NodeConnection,
    onClose: () => void = () => {},
  ) {
    this.#server = server;
    this.endpoint = endpoint;
    this.#wrap = wrap;
    this.#onClose = onClose;
    server.on("connection", (socket: NodeSocket) => this.#onConnection(socket));
    // After listening, an error is about one accept (e.g. EMFILE): libzmq skips it too.
    server.on("error", () => {});
  }

  #onConnection(socket: NodeSocket): void {
    // A socket with no "error" listener would throw its reset into the event loop.
    socket.on("error", () => {});
    if (this.#closed || (this.#waiter === undefined && this.#queue.length >= ACCEPT_BACKLOG)) {
      socket.destroy();
      return;
    }
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter !== undefined) waiter(socket);
    else this.#queue.push(socket);
  }

  async accept(): Promise<NodeConnection | null> {
    while (!this.#closed) {
      const socket = this.#queue.shift() ??
        await new Promise<NodeSocket | null>((resolve) => this.#waiter = resolve);
      if (socket === null) return null;
      if (this.#closed) {
        socket.destroy();
        return null;
      }
      if (socket.destroyed) continue; // the peer gave up before we got to it
      try {
        return this.#wrap(socket);
      } catch {
        // The peer went away before we could read its address.
        socket.destroy();
      }
    }
    return null;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const socket of this.#queue) socket.destroy();
    this.#queue = [];
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(null);
    this.#onClose();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Starts `server` listening; resolves once it listens, rejects with Node's error. */
export function listenServer(
  server: NodeServer,
  options: { host: string; port: number } | { path: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.removeListener("error", onError);
      reject(err);
    };
    server.once("error", onError);
    server.listen(options, () => {
      server.removeListener("error", onError);
      resolve();
    });
  });
}
