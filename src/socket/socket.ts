/**
 * The base class of every socket type: endpoints, `send()`/`receive()`,
 * async iteration, WHATWG streams of messages, monitor events and close.
 *
 * @module
 */

import type { SocketType } from "../protocol/socket_type.ts";
import { ZmqError } from "../errors.ts";
import { registerCore, SocketCore } from "./_core.ts";
import { MessageIterator, messageReadable, messageWritable } from "./_message_streams.ts";
import type { Message as Frames, MessageLike } from "./_message.ts";
import { toFrames } from "./_message.ts";
import type { SocketEvent } from "./events.ts";
import type { PeerMetadata } from "./peer_metadata.ts";
import type {
  ConnectOptions,
  MutableInteger,
  OperationOptions,
  ResolvedOptions,
  SocketOptions,
} from "./options.ts";
import { checkInteger, MUTABLE_INTEGERS, resolveOptions, routingIdBytes } from "./options.ts";

export type { MessageLike } from "./_message.ts";
export type { FrameLike } from "./_message.ts";

/**
 * One message as received: one `Uint8Array` per frame. Every frame is backed
 * by an `ArrayBuffer` (never a `SharedArrayBuffer`), so it can go straight to
 * WebCrypto (`crypto.subtle.verify`), `TextDecoder` or `Deno.stdout.write`.
 * Frames are zero-copy views or compact copies; use {@linkcode text} from
 * `@monocoque/zmtp` for strings.
 *
 * What a message knows beyond its frames travels as properties of the array,
 * so `const [body] = message` keeps working and a received message can be
 * sent on as it is: `peer`, the sender's {@linkcode PeerMetadata}, on a
 * socket made with the `peerMetadata` option; SERVER and PEER messages add
 * `routingId`, DISH messages `group`.
 */
export type Message = Uint8Array<ArrayBuffer>[] & {
  /**
   * The metadata of the peer that sent the message (libzmq's `zmq_msg_gets`),
   * on sockets made with `peerMetadata: true`; absent otherwise.
   */
  readonly peer?: PeerMetadata;
};

/** Options for {@linkcode Socket.events}. */
export interface EventsOptions {
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
}

/**
 * A ZeroMQ socket. Use one of the concrete types (`ReqSocket`, `PubSocket`,
 * ...); they all share this API.
 *
 * `M` is what the socket receives: a plain {@linkcode Message} for the
 * classic types, a message with properties for the draft types that have
 * them (`ServerSocket` yields a `ServerMessage` with `routingId`,
 * `DishSocket` a `DishMessage` with `group`). `receive()`, `for await`,
 * `messages()` and the streams all yield the same `M`.
 *
 * @typeParam M The type of a received message.
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
export abstract class Socket<M extends Message = Message>
  implements AsyncIterable<M>, AsyncDisposable {
  #core: SocketCore;
  #readable: ReadableStream<M> | undefined;
  #writable: WritableStream<MessageLike> | undefined;
  /** Whether heartbeatTimeout was given; if not it follows heartbeatInterval, as at construction. */
  #heartbeatTimeoutSet: boolean;

  /**
   * Creates the shared part of a socket; called by the socket types.
   *
   * @param type The ZMTP socket type.
   * @param options Socket options; see {@linkcode SocketOptions}.
   */
  constructor(type: SocketType, options?: SocketOptions) {
    this.#core = new SocketCore(type, resolveOptions(options, type));
    this.#heartbeatTimeoutSet = options?.heartbeatTimeout !== undefined;
    registerCore(this, this.#core);
  }

  // ---- options (zmq_getsockopt / zmq_setsockopt) ----------------------

  #option(name: MutableInteger): number {
    return this.#core.options[name];
  }

  #setOption(name: MutableInteger, value: number): void {
    (this.#core.options as ResolvedOptions)[name] = checkInteger(
      name,
      value,
      MUTABLE_INTEGERS[name],
    );
  }

  /**
   * ZMQ_ROUTING_ID: this socket's identity sent to ROUTER peers, or
   * `undefined`. May be set (1..255 bytes) only before the first `bind()` or
   * `connect()`, as libzmq reads it when a connection starts.
   *
   * @throws {ZmqError} `EINVAL` when set after `bind()` or `connect()`.
   */
  get routingId(): Uint8Array | undefined {
    return this.#core.options.routingId;
  }
  set routingId(value: string | Uint8Array | undefined) {
    const bytes = routingIdBytes(value, "Option routingId");
    if (this.#core.lastEndpoint !== undefined) {
      throw new ZmqError("EINVAL", "Option routingId cannot change after bind() or connect()");
    }
    this.#core.options.routingId = bytes;
  }

  /**
   * ZMQ_SNDHWM: messages queued per peer before sends wait or drop (0: no
   * limit). A change applies at once to every peer, connected or not.
   */
  get sendHighWaterMark(): number {
    return this.#option("sendHighWaterMark");
  }
  set sendHighWaterMark(value: number) {
    this.#setOption("sendHighWaterMark", value);
    this.#core.wakeSenders();
  }

  /**
   * ZMQ_RCVHWM: messages queued per peer before reading from it pauses (0:
   * no limit). A change applies at once to every peer.
   */
  get receiveHighWaterMark(): number {
    return this.#option("receiveHighWaterMark");
  }
  set receiveHighWaterMark(value: number) {
    this.#setOption("receiveHighWaterMark", value);
    for (const pipe of this.#core.pipes) pipe.checkInbound();
  }

  /** ZMQ_SNDTIMEO: ms a waiting `send()` lasts before `EAGAIN` (-1 forever); for later calls. */
  get sendTimeout(): number {
    return this.#option("sendTimeout");
  }
  set sendTimeout(value: number) {
    this.#setOption("sendTimeout", value);
  }

  /**
   * ZMQ_RCVTIMEO: ms a `receive()` waits before `EAGAIN` (-1 forever); for
   * later calls. A REQ whose receive timed out still waits for that reply:
   * see the README's Lazy Pirate note.
   */
  get receiveTimeout(): number {
    return this.#option("receiveTimeout");
  }
  set receiveTimeout(value: number) {
    this.#setOption("receiveTimeout", value);
  }

  /**
   * ZMQ_LINGER: ms `close()` gives queued messages to reach connected peers
   * (-1 until written, 0 discards). Setting it just before `close()` is the
   * Guide's idiom.
   */
  get linger(): number {
    return this.#option("linger");
  }
  set linger(value: number) {
    this.#setOption("linger", value);
  }

  /** ZMQ_RECONNECT_IVL: ms before redialling (-1: never); from the next retry. */
  get reconnectInterval(): number {
    return this.#option("reconnectInterval");
  }
  set reconnectInterval(value: number) {
    this.#setOption("reconnectInterval", value);
  }

  /** ZMQ_RECONNECT_IVL_MAX: cap of the doubling reconnect interval (0: no doubling); from the next retry. */
  get reconnectMaxInterval(): number {
    return this.#option("reconnectMaxInterval");
  }
  set reconnectMaxInterval(value: number) {
    this.#setOption("reconnectMaxInterval", value);
  }

  /** ZMQ_CONNECT_TIMEOUT: ms a TCP connect may take (0: the OS decides); from the next attempt. */
  get connectTimeout(): number {
    return this.#option("connectTimeout");
  }
  set connectTimeout(value: number) {
    this.#setOption("connectTimeout", value);
  }

  /** ZMQ_HANDSHAKE_IVL: ms a new connection has for its handshake (0: no limit); for new connections. */
  get handshakeInterval(): number {
    return this.#option("handshakeInterval");
  }
  set handshakeInterval(value: number) {
    this.#setOption("handshakeInterval", value);
  }

  /** ZMQ_HEARTBEAT_IVL: ms between PINGs (0: off); for new connections. */
  get heartbeatInterval(): number {
    return this.#option("heartbeatInterval");
  }
  set heartbeatInterval(value: number) {
    this.#setOption("heartbeatInterval", value);
    if (!this.#heartbeatTimeoutSet) this.#core.options.heartbeatTimeout = value;
  }

  /** ZMQ_HEARTBEAT_TIMEOUT: ms without traffic after a PING before a peer is dropped; for new connections. */
  get heartbeatTimeout(): number {
    return this.#option("heartbeatTimeout");
  }
  set heartbeatTimeout(value: number) {
    this.#setOption("heartbeatTimeout", value);
    this.#heartbeatTimeoutSet = true;
  }

  /** ZMQ_HEARTBEAT_TTL: ms sent in PINGs for the peer; for new connections. */
  get heartbeatTimeToLive(): number {
    return this.#option("heartbeatTimeToLive");
  }
  set heartbeatTimeToLive(value: number) {
    this.#setOption("heartbeatTimeToLive", value);
  }

  /** ZMQ_MAXMSGSIZE: largest frame accepted (-1: no limit); for new connections. */
  get maxMessageSize(): number {
    return this.#option("maxMessageSize");
  }
  set maxMessageSize(value: number) {
    this.#setOption("maxMessageSize", value);
  }

  /** ZMQ_IMMEDIATE, set at construction only (it decides how `connect()` queues). */
  get immediate(): boolean {
    return this.#core.options.immediate;
  }

  /** ZMQ_CONFLATE, set at construction only (libzmq reads it when a pipe is made). */
  get conflate(): boolean {
    return this.#core.options.conflate;
  }

  /** Bytes queued per peer before reading pauses, set at construction only (0: no byte bound). */
  get receiveHighWaterMarkBytes(): number {
    return this.#core.options.receiveHighWaterMarkBytes;
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
    let frames: Frames;
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
  receive(options?: OperationOptions): Promise<M> {
    return this.#core.receive(options?.signal) as Promise<M>;
  }

  /**
   * The messages this socket receives, as a stream sharing the queue with
   * {@linkcode receive}; the same stream on every access. It closes when the
   * socket closes. Once cancelled (an aborted `pipeTo()`, `reader.cancel()`)
   * it stays closed, like any stream: take a fresh one from
   * {@linkcode readableStream}.
   */
  get readable(): ReadableStream<M> {
    return this.#readable ??= this.readableStream();
  }

  /**
   * A new stream of the messages this socket receives, sharing the queue
   * with {@linkcode receive} and every other stream: one per reader, so
   * cancelling one (an aborted `pipeTo()`) leaves the socket readable.
   * Nothing is taken before a read, and a cancelled stream gives back what
   * it had taken and not delivered.
   *
   * @example A fresh stream after an aborted pipe
   * ```ts
   * import { PullSocket, PushSocket, text } from "@monocoque/zmtp";
   *
   * await using pull = new PullSocket();
   * await pull.bind("inproc://readable-stream-doc");
   * await using push = new PushSocket();
   * push.connect("inproc://readable-stream-doc");
   * await push.send("one");
   * await push.send("two");
   *
   * const stop = new AbortController();
   * const seen: string[] = [];
   * const sink = new WritableStream<Uint8Array[]>({
   *   write([frame]) {
   *     seen.push(text(frame));
   *     stop.abort();
   *   },
   * });
   * await pull.readableStream().pipeTo(sink, { signal: stop.signal }).catch(() => {});
   * const [next] = await pull.readableStream().values().next().then((r) => r.value!);
   * console.assert(seen[0] === "one" && text(next) === "two");
   * ```
   *
   * @param options `signal` errors the stream (with the `ZmqError` an aborted
   *   `receive()` gets) and gives back what it had not delivered.
   * @returns A new readable stream.
   */
  readableStream(options?: OperationOptions): ReadableStream<M> {
    return messageReadable(this.#core, options?.signal) as ReadableStream<M>;
  }

  /**
   * The messages this socket receives, as an async iterator that stops on
   * `signal`: what `for await (const m of socket)` uses, with a way to
   * cancel the wait. An abort rejects the pending `next()` with `ZmqError`
   * `ECANCELED` (or `EAGAIN` for `AbortSignal.timeout()`), the reason as
   * `cause`; the socket's close ends the iteration quietly.
   *
   * @example Receive until a deadline
   * ```ts
   * import { PullSocket, ZmqError } from "@monocoque/zmtp";
   *
   * await using pull = new PullSocket();
   * await pull.bind("inproc://messages-doc");
   * try {
   *   for await (const message of pull.messages({ signal: AbortSignal.timeout(50) })) {
   *     console.log(message);
   *   }
   * } catch (e) {
   *   console.assert(e instanceof ZmqError && e.code === "EAGAIN"); // the deadline passed
   * }
   * ```
   *
   * @param options `signal` ends the iteration by rejecting the pending `next()`.
   * @returns An async iterator of messages.
   */
  messages(options?: OperationOptions): AsyncIterableIterator<M> {
    return new MessageIterator(this.#core, options?.signal) as AsyncIterableIterator<M>;
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
   * Idempotent. With the default `linger` of -1 it waits as long as a
   * connected peer does not read: set a finite `linger` (even just before
   * closing) where that must not hold up the process.
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
  [Symbol.asyncIterator](): AsyncIterator<M> {
    return this.messages();
  }

  /** Closes the socket (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
