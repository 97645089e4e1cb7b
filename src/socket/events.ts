/**
 * Monitor events (libzmq's zmq_socket_monitor, as an async iterable):
 * what happened to a socket's endpoints and connections. Events never block
 * the socket: each `events()` iterator buffers a bounded number and drops
 * the oldest when its reader falls behind.
 *
 * @module
 */

import type { ZmqError } from "../errors.ts";
import type { SocketType } from "../protocol/socket_type.ts";

/** Why a handshake failed. */
export type HandshakeFailure = "protocol" | "authentication" | "other";

/**
 * What a ROUTER did with a connection whose peer announced a routing id
 * already in use: `refused` keeps the newcomer's connection open but unused
 * (the default), `displaced` does that to the old connection and gives the id
 * to the newcomer (`handover`).
 */
export type RoutingIdConflict = "refused" | "displaced";

/** One monitor event; `endpoint` is the endpoint string it concerns. */
export type SocketEvent =
  | { type: "listening"; endpoint: string }
  | { type: "bindFailed"; endpoint: string; error: Error }
  | { type: "accepted"; endpoint: string; remote: string }
  | { type: "acceptFailed"; endpoint: string; error: Error }
  | { type: "connected"; endpoint: string }
  | { type: "connectDelayed"; endpoint: string; error: Error }
  | { type: "connectRetried"; endpoint: string; interval: number }
  | {
    type: "handshakeSucceeded";
    endpoint: string;
    peer: {
      socketType: SocketType;
      routingId: Uint8Array | undefined;
      /**
       * The User-Id a ZAP handler gave the peer (libzmq `zmq_msg_gets(msg,
       * "User-Id")`); `undefined` when no handler judged it.
       */
      userId?: string;
      /**
       * Every property of the peer: its READY/INITIATE metadata (Socket-Type,
       * Identity, ...) and, taking precedence, the ZAP handler's User-Id and
       * metadata (as libzmq's `zmq_msg_gets` sees them).
       */
      properties?: ReadonlyMap<string, Uint8Array>;
    };
  }
  | {
    type: "handshakeFailed";
    endpoint: string;
    /** The peer's address, e.g. `tcp://127.0.0.1:51234`. */
    remote: string;
    kind: HandshakeFailure;
    reason: string;
    /** Why, with a libzmq code (`EPROTO`, `EACCES`, `ETIMEDOUT`, ...). */
    error: ZmqError;
  }
  | {
    type: "disconnected";
    endpoint: string;
    /** The peer's address, e.g. `tcp://127.0.0.1:51234`. */
    remote: string;
    reason: string;
    /**
     * Why, with a libzmq code (`ECONNRESET`, `EPROTO`, `EMSGSIZE`, `ETIMEDOUT`,
     * `ETERM`, ...) and the underlying error as `cause` where there is one.
     */
    error: ZmqError;
    /**
     * The routing id the socket knew the peer by, on the types that address
     * peers by one (ROUTER and STREAM: bytes; SERVER and PEER: a number), so
     * an application can forget what it kept for that peer; absent on other
     * types and for a connection that never got one (or lost it to a newer
     * connection with ROUTER's `handover`).
     */
    routingId?: Uint8Array | number;
  }
  | {
    type: "routingIdConflict";
    endpoint: string;
    /** The address of the connection now kept open but unused. */
    remote: string;
    /** The routing id both peers claimed. */
    routingId: Uint8Array;
    /** Whether the newcomer was refused or the old connection displaced. */
    action: RoutingIdConflict;
  }
  | {
    type: "datagramDropped";
    endpoint: string;
    /** The sender's address for a datagram received, e.g. `udp://127.0.0.1:51234`; else the endpoint. */
    remote: string;
    reason: string;
    /** Why: `EPROTO` for a malformed datagram, `EMSGSIZE` for a message too large to send, ... */
    error: ZmqError;
  }
  | { type: "closed"; endpoint: string };

/** The names of {@linkcode SocketEvent}s. */
export type SocketEventType = SocketEvent["type"];

const MAX_BUFFERED = 1000;

/** Fan-out of events to any number of bounded iterators; internal. */
export class EventHub {
  #subscribers = new Set<EventSubscriber>();
  #ended = false;

  emit(event: SocketEvent): void {
    for (const s of this.#subscribers) s.push(event);
  }

  /** Ends every iterator after what it has buffered. */
  end(): void {
    this.#ended = true;
    for (const s of this.#subscribers) s.end();
    this.#subscribers.clear();
  }

  subscribe(signal?: AbortSignal): AsyncIterableIterator<SocketEvent> {
    const s = new EventSubscriber(() => this.#subscribers.delete(s));
    if (this.#ended) s.end();
    else this.#subscribers.add(s);
    if (signal) {
      if (signal.aborted) s.end();
      else signal.addEventListener("abort", () => s.end(), { once: true });
    }
    return s;
  }
}

class EventSubscriber implements AsyncIterableIterator<SocketEvent> {
  #buffer: SocketEvent[] = [];
  #waiter: ((r: IteratorResult<SocketEvent>) => void) | undefined;
  #done = false;
  #unsubscribe: () => void;

  constructor(unsubscribe: () => void) {
    this.#unsubscribe = unsubscribe;
  }

  push(event: SocketEvent): void {
    if (this.#done) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: event, done: false });
      return;
    }
    if (this.#buffer.length >= MAX_BUFFERED) this.#buffer.shift();
    this.#buffer.push(event);
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#unsubscribe();
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<SocketEvent>> {
    const e = this.#buffer.shift();
    if (e !== undefined) return Promise.resolve({ value: e, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  return(): Promise<IteratorResult<SocketEvent>> {
    this.#buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SocketEvent> {
    return this;
  }
}
