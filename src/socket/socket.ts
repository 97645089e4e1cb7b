/**
 * The base class of every socket type: endpoints, `send()`/`receive()`,
 * async iteration, WHATWG streams of messages, monitor events and close.
 *
 * @module
 */

import type { SocketType } from "../protocol/socket_type.ts";
import { registerCore, SocketCore } from "./_core.ts";
import { MessageIterator, messageReadable, messageWritable } from "./_message_streams.ts";
import type { Message, MessageLike } from "./_message.ts";
import { toFrames } from "./_message.ts";
import type { SocketEvent } from "./events.ts";
import type { ConnectOptions, OperationOptions, SocketOptions } from "./options.ts";
import { resolveOptions } from "./options.ts";

export type { Message, MessageLike } from "./_message.ts";
export type { FrameLike } from "./_message.ts";

/** Options for {@linkcode Socket.events}. */
export interface EventsOptions {
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
}

/**
 * A ZeroMQ socket. Use one of the concrete types (`ReqSocket`, `PubSocket`,
 * ...); they all share this API.
 *
 * @example Any socket type can bind, connect, send and receive
 * ```ts
 * import { PullSocket, PushSocket } from "@monocoque/zmtp";
 *
 * await using pull = new PullSocket();
 * await pull.bind("inproc://socket-doc");
 * await using push = new PushSocket();
 * push.connect("inproc://socket-doc");
 * await push.send(["multi", "part"]);
 * const [a, b] = await pull.receive();
 * console.assert(new TextDecoder().decode(a) === "multi" && b.length === 4);
 * ```
 */
export abstract class Socket implements AsyncIterable<Message>, AsyncDisposable {
  #core: SocketCore;
  #readable: ReadableStream<Message> | undefined;
  #writable: WritableStream<MessageLike> | undefined;

  /**
   * Creates the shared part of a socket; called by the socket types.
   *
   * @param type The ZMTP socket type.
   * @param options Socket options; see {@linkcode SocketOptions}.
   */
  constructor(type: SocketType, options?: SocketOptions) {
    this.#core = new SocketCore(type, resolveOptions(options));
    registerCore(this, this.#core);
  }

  /** The ZMTP socket type, e.g. `"REQ"`. */
  get type(): SocketType {
    return this.#core.type;
  }

  /**
   * The endpoint last bound (with wildcards and port 0 resolved) or
   * connected, as libzmq's ZMQ_LAST_ENDPOINT; `undefined` before any.
   */
  get lastEndpoint(): string | undefined {
    return this.#core.lastEndpoint;
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Listens on an endpoint: `tcp://host:port` (`*` for every interface, port
   * 0 or `*` for any free port), `ipc:///path` or `inproc://name`. Any number
   * of binds per socket.
   *
   * @param endpoint The endpoint to bind.
   * @returns Resolves once listening; {@linkcode lastEndpoint} then holds the resolved endpoint.
   * @throws {ZmqError} `EADDRINUSE`, `EINVAL`, `EPROTONOSUPPORT`, `ETERM`.
   */
  bind(endpoint: string): Promise<void> {
    return this.#core.bind(endpoint);
  }

  /**
   * Stops listening on a bound endpoint and drops the connections it accepted.
   *
   * @param endpoint The endpoint as given to `bind()` or as resolved in {@linkcode lastEndpoint}.
   * @returns Resolves once the endpoint is released.
   * @throws {ZmqError} `ENOENT` for an endpoint that is not bound.
   */
  unbind(endpoint: string): Promise<void> {
    return this.#core.unbind(endpoint);
  }

  /**
   * Connects to an endpoint. Returns at once: the socket connects in the
   * background and reconnects whenever the connection is refused or lost.
   *
   * @param endpoint The endpoint to connect to.
   * @param options `routingId` names the peer for a ROUTER (ZMQ_CONNECT_ROUTING_ID).
   * @throws {ZmqError} `EINVAL` for a malformed endpoint, `ETERM` once closed.
   */
  connect(endpoint: string, options?: ConnectOptions): void {
    this.#core.connect(endpoint, options);
  }

  /**
   * Stops connecting to an endpoint and drops its connection and queued messages.
   *
   * @param endpoint The endpoint as given to `connect()`.
   * @throws {ZmqError} `ENOENT` for an endpoint that is not connected.
   */
  disconnect(endpoint: string): void {
    this.#core.disconnect(endpoint);
  }

  /**
   * Sends a message: a string, `Uint8Array` or `ArrayBuffer`, or an array of
   * those for a multipart message. Resolves once the message is queued for a
   * peer; concurrent calls queue in order. Do not modify a sent buffer.
   *
   * @param message The message.
   * @param options An `AbortSignal` to stop waiting.
   * @returns Resolves when queued.
   * @throws {ZmqError} `EAGAIN` after `sendTimeout`, `EFSM` out of turn, `ETERM` once closed.
   */
  send(message: MessageLike, options?: OperationOptions): Promise<void> {
    let frames: Message;
    try {
      frames = toFrames(message);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#core.send(frames, options?.signal);
  }

  /**
   * Receives the next message, one `Uint8Array` per frame.
   *
   * @param options An `AbortSignal` to stop waiting.
   * @returns The message.
   * @throws {ZmqError} `EAGAIN` after `receiveTimeout`, `EFSM` out of turn, `ETERM` once closed.
   */
  receive(options?: OperationOptions): Promise<Message> {
    return this.#core.receive(options?.signal);
  }

  /**
   * The messages this socket receives, as a stream sharing the queue with
   * {@linkcode receive}. It closes when the socket closes.
   */
  get readable(): ReadableStream<Message> {
    return this.#readable ??= messageReadable(this.#core);
  }

  /**
   * A stream of messages to send, sharing the queue with {@linkcode send};
   * its backpressure is the send high-water mark.
   */
  get writable(): WritableStream<MessageLike> {
    return this.#writable ??= messageWritable((message) => this.send(message));
  }

  /**
   * Monitor events (libzmq's zmq_socket_monitor): listening, accepted,
   * connected, handshake results, disconnections, retries. Each call returns
   * a new iterator that sees events from then on; it ends when the socket
   * closes. A slow reader loses the oldest events, never messages.
   *
   * @param options An `AbortSignal` to end the iteration.
   * @returns An async iterator of events.
   */
  events(options?: EventsOptions): AsyncIterableIterator<SocketEvent> {
    return this.#core.events.subscribe(options?.signal);
  }

  /**
   * Closes the socket: stops listening and connecting, gives queued messages
   * up to `linger` ms to reach connected peers, then closes every
   * connection. Pending `send()`/`receive()` calls reject with `ETERM`.
   * Idempotent.
   *
   * @returns Resolves once every port, file and timer is released.
   */
  close(): Promise<void> {
    return this.#core.close();
  }

  /**
   * Receives messages until the socket closes, sharing the queue with
   * {@linkcode receive}: queued messages are taken without waiting, each
   * wait has `receiveTimeout`, and errors other than `ETERM` end the loop by
   * throwing.
   *
   * @returns An async iterator of messages.
   */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return new MessageIterator(this.#core);
  }

  /** Closes the socket (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
