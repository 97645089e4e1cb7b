/**
 * The in-process transport (`inproc://name`): connections are pairs of
 * in-memory queues between two sockets of this process, registered by name in
 * a module-level table. As in libzmq, a connect may come before the bind: it
 * waits until the name is bound.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import type {
  Connection,
  Endpoint,
  InprocEndpoint,
  Listener,
  Transport,
  TransportConnectOptions,
} from "./types.ts";

/** Bound names → listeners. */
const bound = new Map<string, InprocListener>();
/** Names → connect() calls waiting for a bind. */
const waiting = new Map<string, Set<(listener: InprocListener) => void>>();

const EMPTY = new Uint8Array(0);
/**
 * Unread bytes a connection holds before its writer's `write()` waits, as a
 * kernel socket buffer would: without it a reader that stops reading would
 * never push back, and the sender's high-water mark would never apply.
 */
const BUFFER_LIMIT = 4 * 1024;

/**
 * One end of an in-memory connection. Written buffers are handed to the peer
 * by reference, without copying: a writer must not modify a buffer after
 * passing it to `write()`, even once the promise has settled, because the
 * peer may not have read it yet.
 */
class InprocConnection implements Connection, Disposable {
  readonly localEndpoint: string;
  readonly remoteEndpoint: string;
  /** Set once, right after construction, by {@linkcode pair}. */
  peer!: InprocConnection;
  /** Buffers written by the peer, not yet read; `#offset` bytes of the first are consumed. */
  #queue: Uint8Array[] = [];
  #head = 0;
  #offset = 0;
  #pending: { buffer: Uint8Array; resolve: (n: number | null) => void } | null = null;
  #closed = false;
  #peerClosed = false;
  /** Bytes queued and not yet read. */
  #unread = 0;
  /** The peer's writes waiting for room in this connection's queue. */
  #blockedWriters: (() => void)[] = [];

  constructor(endpoint: string) {
    this.localEndpoint = endpoint;
    this.remoteEndpoint = endpoint;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.resolve(null);
    if (this.#head < this.#queue.length) return Promise.resolve(this.#drain(buffer));
    if (this.#peerClosed) return Promise.resolve(null);
    if (buffer.length === 0) return Promise.resolve(0);
    // One reader at a time, as on a real socket: a second read replaces the
    // first, which resolves with 0 bytes.
    this.#pending?.resolve(0);
    return new Promise((resolve) => {
      this.#pending = { buffer, resolve };
    });
  }

  write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#closed || this.#peerClosed) {
      return Promise.reject(new ZmqError("ECONNRESET", "Write on a closed inproc connection"));
    }
    const peer = this.peer;
    peer.#receive(buffers);
    if (peer.#unread <= BUFFER_LIMIT) return Promise.resolve();
    return new Promise((resolve) => peer.#blockedWriters.push(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    this.#unread = 0;
    this.#settle(null);
    this.#releaseWriters();
    this.peer.#onPeerClose();
  }

  #releaseWriters(): void {
    const writers = this.#blockedWriters;
    this.#blockedWriters = [];
    for (const w of writers) w();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #receive(buffers: readonly Uint8Array[]): void {
    if (this.#closed) return;
    for (const b of buffers) {
      if (b.length === 0) continue;
      this.#queue.push(b);
      this.#unread += b.length;
    }
    if (this.#pending !== null && this.#head < this.#queue.length) {
      const { buffer } = this.#pending;
      this.#settle(this.#drain(buffer));
    }
  }

  #onPeerClose(): void {
    this.#peerClosed = true;
    this.#releaseWriters(); // the closed peer's own writes wait here
    if (this.#head >= this.#queue.length) this.#settle(null);
  }

  #settle(result: number | null): void {
    const pending = this.#pending;
    if (pending === null) return;
    this.#pending = null;
    pending.resolve(result);
  }

  /** Copies queued bytes into `buffer` as far as they fit; the rest waits for the next read. */
  #drain(buffer: Uint8Array): number {
    let n = 0;
    const queue = this.#queue;
    while (n < buffer.length && this.#head < queue.length) {
      const chunk = queue[this.#head];
      const available = chunk.length - this.#offset;
      const take = Math.min(available, buffer.length - n);
      buffer.set(
        this.#offset === 0 && take === chunk.length
          ? chunk
          : chunk.subarray(this.#offset, this.#offset + take),
        n,
      );
      n += take;
      if (take === available) {
        queue[this.#head++] = EMPTY;
        this.#offset = 0;
      } else {
        this.#offset += take;
      }
    }
    this.#unread -= n;
    if (this.#unread <= BUFFER_LIMIT && this.#blockedWriters.length > 0) this.#releaseWriters();
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    return n;
  }
}

function pair(endpoint: string): [InprocConnection, InprocConnection] {
  const a = new InprocConnection(endpoint);
  const b = new InprocConnection(endpoint);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A bound inproc name; connections arrive through {@linkcode InprocListener.deliver}. */
class InprocListener implements Listener, Disposable {
  readonly endpoint: string;
  readonly #name: string;
  #backlog: InprocConnection[] = [];
  #accepting: ((conn: InprocConnection | null) => void)[] = [];
  #closed = false;

  constructor(name: string) {
    this.#name = name;
    this.endpoint = `inproc://${name}`;
  }

  accept(): Promise<(Connection & Disposable) | null> {
    if (this.#closed) return Promise.resolve(null);
    const conn = this.#backlog.shift();
    if (conn !== undefined) return Promise.resolve(conn);
    return new Promise((resolve) => this.#accepting.push(resolve));
  }

  /** Creates a connection to this listener and returns the connecting end. */
  deliver(): InprocConnection {
    const [client, server] = pair(this.endpoint);
    const accept = this.#accepting.shift();
    if (accept !== undefined) accept(server);
    else this.#backlog.push(server);
    return client;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (bound.get(this.#name) === this) bound.delete(this.#name);
    for (const accept of this.#accepting) accept(null);
    this.#accepting = [];
    // Connections nobody accepted: their connecting ends read end of stream.
    for (const conn of this.#backlog) conn.close();
    this.#backlog = [];
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The `inproc://` transport: in-memory connections between sockets of this
 * process. A name can be bound once at a time (`EADDRINUSE` otherwise);
 * `connect()` before the bind waits for it (abortable with `signal`).
 * Written buffers are passed to the peer by reference, without copying, so a
 * writer must not modify a buffer after passing it to `write()`.
 *
 * @example Connect before bind
 * ```ts
 * import { InprocTransport } from "./inproc.ts";
 *
 * const inproc = new InprocTransport();
 * const connecting = inproc.connect({ transport: "inproc", name: "doc-example" });
 * const listener = await inproc.listen({ transport: "inproc", name: "doc-example" });
 * const client = await connecting;
 * const server = (await listener.accept())!;
 * await client.write([new TextEncoder().encode("hi")]);
 * const buffer = new Uint8Array(8);
 * console.assert((await server.read(buffer)) === 2);
 * client.close();
 * console.assert((await server.read(buffer)) === null);
 * server.close();
 * listener.close();
 * ```
 */
export class InprocTransport implements Transport {
  /**
   * Binds a name in this process and hands it to connects waiting for it.
   *
   * @param endpoint An `inproc` endpoint.
   * @returns The listener; its `endpoint` is `inproc://name`.
   * @throws {ZmqError} `EADDRINUSE` if the name is already bound.
   */
  listen(endpoint: Endpoint): Promise<Listener & Disposable> {
    let name: string;
    try {
      name = checkInproc(endpoint).name;
    } catch (err) {
      return Promise.reject(err);
    }
    if (bound.has(name)) {
      return Promise.reject(
        new ZmqError("EADDRINUSE", `Endpoint 'inproc://${name}' is already bound`),
      );
    }
    const listener = new InprocListener(name);
    bound.set(name, listener);
    const waiters = waiting.get(name);
    if (waiters !== undefined) {
      waiting.delete(name);
      for (const wake of waiters) wake(listener);
    }
    return Promise.resolve(listener);
  }

  /**
   * Connects to a bound name, or waits until it is bound.
   *
   * @param endpoint An `inproc` endpoint.
   * @param options `signal` aborts the wait; the promise then rejects with its reason.
   * @returns The connection.
   */
  connect(endpoint: Endpoint, options?: TransportConnectOptions): Promise<Connection & Disposable> {
    const signal = options?.signal;
    let name: string;
    try {
      signal?.throwIfAborted();
      name = checkInproc(endpoint).name;
    } catch (err) {
      return Promise.reject(err);
    }
    const listener = bound.get(name);
    if (listener !== undefined) return Promise.resolve(listener.deliver());
    return new Promise((resolve, reject) => {
      let waiters = waiting.get(name);
      if (waiters === undefined) waiting.set(name, waiters = new Set());
      const onAbort = () => {
        waiters.delete(wake);
        if (waiters.size === 0 && waiting.get(name) === waiters) waiting.delete(name);
        reject(signal!.reason);
      };
      const wake = (listener: InprocListener) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(listener.deliver());
      };
      waiters.add(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * Whether `inproc://name` is bound in this process. libzmq's ZAP client asks
 * this before each request (session_base.cpp `zap_connect`), as sockets here
 * do for `inproc://zeromq.zap.01`.
 *
 * @param name The name after `inproc://`.
 * @returns Whether a socket is bound there now.
 */
export function isInprocBound(name: string): boolean {
  return bound.has(name);
}

function checkInproc(endpoint: Endpoint): InprocEndpoint {
  if (endpoint?.transport !== "inproc") {
    throw new ZmqError("EINVAL", `Not an inproc endpoint: ${endpoint?.transport}`);
  }
  return endpoint;
}
