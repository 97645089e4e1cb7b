/**
 * STREAM (libzmq ZMQ_STREAM, src/stream.cpp): raw TCP (or any stream
 * transport) with a routing id per connection, so a Monocoque program can
 * serve and call non-ZeroMQ peers — HTTP, telnet, `nc` — through the same
 * API. There is no greeting and no framing: each read from a connection is
 * received as `[routingId, bytes]` (at most 8 KiB a message, libzmq's read
 * batch), and `send([routingId, bytes])` writes the bytes as they are.
 *
 * Each connection gets a 5-byte routing id, a zero byte and a 32-bit counter
 * from a random start (libzmq stream.cpp identify_peer), or the one given
 * with `connect(endpoint, { routingId })` (ZMQ_CONNECT_ROUTING_ID). A new
 * connection and a closed one are announced as `[routingId, ""]`
 * (ZMQ_STREAM_NOTIFY, on by default); `send([routingId, ""])` closes the
 * connection once what was queued for it is written (and, as in libzmq,
 * announces nothing). A send to a routing id
 * with no connection fails with `EHOSTUNREACH`; a send to a connection at
 * its high-water mark waits, up to `sendTimeout` (libzmq's stream.cpp xsend
 * returns EAGAIN there).
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { CodecEngine } from "../kernel/_codec_engine.ts";
import { coreOf } from "./_core.ts";
import type { SocketCore } from "./_core.ts";
import type { Message } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { BytesMap } from "./_routing/bytes_map.ts";
import { BasePattern } from "./_pattern.ts";
import { RawCodec } from "./_raw_codec.ts";
import type { ConnectOptions, SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

/**
 * Options of a {@linkcode StreamSocket}.
 *
 * @example
 * ```ts
 * import type { StreamSocketOptions } from "@monocoque/zmtp";
 *
 * const options: StreamSocketOptions = { notify: false, receiveHighWaterMark: 100 };
 * ```
 */
export interface StreamSocketOptions extends SocketOptions {
  /**
   * ZMQ_STREAM_NOTIFY: announce each connection and disconnection as a
   * `[routingId, ""]` message. Default true, as in libzmq.
   */
  notify?: boolean;
}

const EMPTY = new Uint8Array(0);

/** STREAM's routing by per-connection id; internal. */
class StreamPattern extends BasePattern {
  override readonly attachEarly = false;
  readonly #byId = new BytesMap<Pipe>();
  readonly #ids = new Map<Pipe, Uint8Array>();
  readonly #notify: boolean;
  #nextId = (Math.random() * 0x1_0000_0000) >>> 0;

  constructor(core: SocketCore, notify: boolean) {
    super(core);
    this.#notify = notify;
  }

  #generateId(): Uint8Array {
    const id = new Uint8Array(5);
    do {
      this.#nextId = (this.#nextId + 1) >>> 0;
      new DataView(id.buffer).setUint32(1, this.#nextId);
    } while (this.#byId.has(id));
    return id;
  }

  override attach(pipe: Pipe): boolean {
    const given = pipe.connectRoutingId;
    // A connect routing id already in use: libzmq refuses the pipe; here it gets a fresh id.
    const id = given === undefined || given.length === 0 || this.#byId.has(given)
      ? this.#generateId()
      : given.slice();
    this.#byId.set(id, pipe);
    this.#ids.set(pipe, id);
    return super.attach(pipe);
  }

  override ready(pipe: Pipe): void {
    const id = this.#ids.get(pipe);
    if (!this.#notify || id === undefined || pipe.inbox === undefined) return;
    pipe.inbox.push([id, EMPTY]);
    this.core.wakeReceivers();
  }

  routingIdOf(pipe: Pipe): Uint8Array | undefined {
    return this.#ids.get(pipe);
  }

  override detach(pipe: Pipe): void {
    const id = this.#ids.get(pipe);
    // The disconnect notice goes behind whatever the connection sent last; the
    // core keeps a detached pipe's queued messages until they are taken.
    if (this.#notify && id !== undefined && pipe.inbox !== undefined) {
      pipe.inbox.push([id, EMPTY]);
      this.core.wakeReceivers();
    }
    super.detach(pipe);
    if (id === undefined) return;
    this.#ids.delete(pipe);
    if (this.#byId.get(id) === pipe) this.#byId.delete(id);
  }

  override message(pipe: Pipe, frames: Message): void {
    const id = this.#ids.get(pipe);
    if (id === undefined) return;
    const out = new Array<Uint8Array>(frames.length + 1);
    out[0] = id;
    for (let i = 0; i < frames.length; i++) out[i + 1] = frames[i];
    pipe.inbox!.push(out);
  }

  override prepareSend(frames: Message): Message {
    if (frames.length < 2) {
      throw new ZmqError("EINVAL", "A STREAM message is a routing id and data: [routingId, data]");
    }
    if (!this.#byId.has(frames[0])) {
      throw new ZmqError("EHOSTUNREACH", "No connection with that routing id");
    }
    return frames;
  }

  override trySend(frames: Message): boolean {
    const pipe = this.#byId.get(frames[0]);
    if (pipe === undefined) return true; // gone while the send waited: dropped
    let empty = true;
    for (let i = 1; i < frames.length && empty; i++) empty = frames[i].length === 0;
    if (empty) {
      this.#closeAfterWrites(pipe);
      return true;
    }
    if (!pipe.hasRoom()) return false;
    pipe.enqueue(frames.slice(1));
    return true;
  }

  /**
   * libzmq stream.cpp xsend: a zero-length message terminates the pipe, after
   * what it holds. The id is forgotten at once: later sends to it fail, what
   * the peer still sends is dropped, and no disconnect notice follows (libzmq
   * announces only the closes it did not ask for; its interop test checks it).
   */
  #closeAfterWrites(pipe: Pipe): void {
    const id = this.#ids.get(pipe);
    this.#ids.delete(pipe);
    if (id !== undefined && this.#byId.get(id) === pipe) this.#byId.delete(id);
    const close = () => pipe.drop("Closed by the application", undefined, true);
    if (!pipe.pending) close();
    else pipe.drain(-1).then(close);
  }
}

/**
 * A STREAM socket: raw bytes to and from non-ZeroMQ peers, one routing id per
 * connection (libzmq ZMQ_STREAM).
 *
 * @example A one-shot HTTP server
 * ```ts
 * import { StreamSocket, text } from "@monocoque/zmtp";
 *
 * await using server = new StreamSocket();
 * await server.bind("tcp://127.0.0.1:0");
 * const url = server.lastEndpoint!.replace("tcp://", "http://");
 * const response = fetch(url);
 *
 * for await (const [id, data] of server) {
 *   if (data.length === 0) continue; // a connect or disconnect notice
 *   if (!text(data).includes("\r\n\r\n")) continue; // wait for the whole request head
 *   await server.send([id, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello"]);
 *   await server.send([id, ""]); // close the connection
 *   break;
 * }
 * console.assert(await (await response).text() === "hello");
 * ```
 */
export class StreamSocket extends Socket {
  /**
   * Creates a STREAM socket.
   *
   * @param options Socket options, plus `notify`.
   */
  constructor(options?: StreamSocketOptions) {
    const { notify, ...rest } = options ?? {};
    super("STREAM", rest);
    const core = coreOf(this);
    core.engine = (context) =>
      new CodecEngine(context, { codec: new RawCodec(), name: "raw", peerType: "STREAM" });
    core.pattern = new StreamPattern(core, notify !== false);
  }

  /**
   * Connects to a raw TCP (or ipc, inproc) endpoint; `options.routingId`
   * names the connection (ZMQ_CONNECT_ROUTING_ID) instead of a generated id.
   *
   * @param endpoint The endpoint to connect to.
   * @param options The routing id to give this connection.
   */
  override connect(endpoint: string, options?: ConnectOptions): void {
    super.connect(endpoint, options);
  }
}
