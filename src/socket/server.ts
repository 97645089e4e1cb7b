/**
 * SERVER (rfc.zeromq.org spec 41, ZMQ_SERVER): talks to CLIENT sockets and
 * replies by routing id. Each connected peer gets a 32-bit routing id, never
 * 0, from a counter that starts at a random value (libzmq src/server.cpp
 * xattach_pipe); a peer that reconnects gets a new one. Every received
 * message carries the id of the peer it came from as its `routingId`
 * property, and `send()` routes by the id in its options or, failing that,
 * on the message: so a received message sent back goes to its sender.
 *
 * Messages are single frames: a multipart send fails with `EINVAL`, and a
 * multipart message from a peer is dropped. A send to an id with no peer
 * fails with `EHOSTUNREACH`; a send to a peer at its high-water mark waits,
 * up to `sendTimeout` (libzmq's blocking send on `EAGAIN`).
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { coreOf } from "./_core.ts";
import type { Message as Frames } from "./_message.ts";
import { toFrames } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { SingleFramePattern } from "./_single_frame.ts";
import type { OperationOptions, SocketOptions } from "./options.ts";
import { type Message, type MessageLike, Socket } from "./socket.ts";

/** A message a {@linkcode ServerSocket} received: one frame, and the sender's routing id. */
export type ServerMessage = Message & {
  /** The routing id of the peer the message came from (1 to 2³² − 1). */
  readonly routingId: number;
};

/** Options of {@linkcode ServerSocket.send}. */
export interface ServerSendOptions extends OperationOptions {
  /**
   * The routing id of the peer to send to, as a received message carried it;
   * defaults to the `routingId` property of the message itself.
   */
  routingId?: number;
}

/** Frames with the routing id of their sender or destination; internal. */
export type Routed = Frames & { routingId?: number };

/**
 * Frames from `message`, routed by the id in `options` or on the message;
 * shared with PEER; internal.
 */
export function routedFrames(
  type: string,
  message: MessageLike | ServerMessage,
  options?: ServerSendOptions,
): Routed {
  const id = options?.routingId ?? (message as Partial<ServerMessage>).routingId;
  if (id === undefined) throw new TypeError(`A ${type} send needs a routing id`);
  if (!Number.isInteger(id) || id < 1 || id > 0xffff_ffff) {
    throw new RangeError(`A routing id is an integer from 1 to 4294967295, got ${id}`);
  }
  const frames: Routed = toFrames(message);
  frames.routingId = id;
  return frames;
}

/** SERVER's routing by numeric id, also PEER's; internal. */
export class ServerPattern extends SingleFramePattern {
  override readonly attachEarly: boolean = false;
  /** The id of the pipe attached last (libzmq peer.cpp's _peer_last_routing_id). */
  lastRoutingId = 0;
  readonly #byId = new Map<number, Pipe>();
  readonly #ids = new Map<Pipe, number>();
  #nextId = (Math.random() * 0x1_0000_0000) >>> 0;

  override attach(pipe: Pipe): boolean {
    let id: number;
    do {
      this.#nextId = (this.#nextId + 1) >>> 0;
      id = this.#nextId;
    } while (id === 0 || this.#byId.has(id)); // never 0 (libzmq src/server.cpp)
    this.#byId.set(id, pipe);
    this.#ids.set(pipe, id);
    this.lastRoutingId = id;
    return super.attach(pipe);
  }

  routingIdOf(pipe: Pipe): number | undefined {
    return this.#ids.get(pipe);
  }

  override detach(pipe: Pipe): void {
    super.detach(pipe);
    const id = this.#ids.get(pipe);
    if (id === undefined) return;
    this.#ids.delete(pipe);
    this.#byId.delete(id);
  }

  override message(pipe: Pipe, frames: Frames): void {
    const id = this.#ids.get(pipe);
    if (id === undefined) return;
    (frames as Routed).routingId = id;
    super.message(pipe, frames);
  }

  override prepareSend(frames: Frames): Frames {
    super.prepareSend(frames);
    if (!this.#byId.has((frames as Routed).routingId!)) {
      throw new ZmqError("EHOSTUNREACH", "No peer with that routing id is connected");
    }
    return frames;
  }

  override trySend(frames: Frames): boolean {
    const pipe = this.#byId.get((frames as Routed).routingId!);
    // Gone while the send waited: dropped, as a message queued to it would be.
    if (pipe === undefined) return true;
    if (!pipe.hasRoom()) return false;
    pipe.enqueue(frames);
    return true;
  }
}

/**
 * A SERVER socket: the answering end of CLIENT/SERVER.
 *
 * As in zeromq.js's `zeromq/draft` `Server`, the routing id is a number, not
 * a frame: `receive()`, `for await`, `messages()` and the streams all yield
 * a {@linkcode ServerMessage} (`[payload]` with a `routingId` property), and
 * `send(payload, { routingId })` replies. Sending the received message (or
 * writing it to `writable`) returns it to its sender.
 *
 * @example An echo server
 * ```ts
 * import { ClientSocket, ServerSocket, text } from "@monocoque/zmtp";
 *
 * await using server = new ServerSocket();
 * await server.bind("tcp://127.0.0.1:0");
 * await using client = new ClientSocket();
 * client.connect(server.lastEndpoint!);
 * await client.send("hello");
 *
 * const request = await server.receive();
 * const [payload] = request;
 * await server.send(`you said ${text(payload)}`, { routingId: request.routingId });
 * await server.send(request); // echoed to its sender
 *
 * console.assert(text((await client.receive())[0]) === "you said hello");
 * console.assert(text((await client.receive())[0]) === "hello");
 * ```
 */
export class ServerSocket extends Socket<ServerMessage> {
  /**
   * Creates a SERVER socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("SERVER", options);
    const core = coreOf(this);
    core.pattern = new ServerPattern(core, "SERVER");
  }

  /**
   * Sends a single-frame message to the peer with the given routing id.
   *
   * @param message One frame, or a received {@linkcode ServerMessage}.
   * @param options `routingId` (else the message's own), and a `signal`.
   * @returns Resolves when queued.
   * @throws {TypeError} Without a routing id.
   * @throws {RangeError} For a routing id that is not an integer from 1 to 2³² − 1.
   * @throws {ZmqError} `EINVAL` for a multipart message, `EHOSTUNREACH`
   *   when no peer has the routing id, `EAGAIN` after `sendTimeout`.
   */
  override send(
    message: MessageLike | ServerMessage,
    options?: ServerSendOptions,
  ): Promise<void> {
    let frames: Routed;
    try {
      frames = routedFrames("SERVER", message, options);
    } catch (e) {
      return Promise.reject(e);
    }
    return coreOf(this).send(frames, options?.signal);
  }
}
