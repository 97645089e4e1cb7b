/**
 * PEER (rfc.zeromq.org spec 51, ZMQ_PEER): SERVER's routing by numeric id on
 * both ends of a connection. Every peer, accepted or connected, gets a 32-bit
 * routing id, never 0; {@linkcode PeerSocket.connectPeer} returns the id of
 * the connection it starts at once, before the handshake, since the
 * connecting pipe is attached on `connect()` (libzmq src/peer.cpp
 * connect_peer, xattach_pipe) and keeps its id across reconnects.
 *
 * Messages are single frames: a multipart send fails with `EINVAL`, and a
 * multipart message from a peer is dropped. A send to an id with no peer
 * fails with `EHOSTUNREACH`.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { coreOf } from "./_core.ts";
import { type Routed, routedFrames, ServerPattern } from "./server.ts";
import type { ServerMessage, ServerSendOptions } from "./server.ts";
import type { SocketOptions } from "./options.ts";
import { type MessageLike, Socket } from "./socket.ts";

/** A message a {@linkcode PeerSocket} received: one frame, and the sender's routing id. */
export type PeerMessage = ServerMessage;

/** Options of {@linkcode PeerSocket.send}. */
export type PeerSendOptions = ServerSendOptions;

class PeerPattern extends ServerPattern {
  // Connected pipes join on connect() so connectPeer() knows their id at once.
  override readonly attachEarly: boolean = true;
}

/**
 * A PEER socket: routes by numeric id to any of its peers, bound or connected.
 *
 * @example Two peers, one connected by `connectPeer`
 * ```ts
 * import { PeerSocket, text } from "@monocoque/zmtp";
 *
 * await using a = new PeerSocket();
 * await a.bind("inproc://peer-doc");
 * await using b = new PeerSocket();
 * const toA = b.connectPeer("inproc://peer-doc");
 * await b.send("hello", { routingId: toA }); // queued until the handshake
 *
 * const greeting = await a.receive();
 * await a.send(`hi, ${text(greeting[0])}`, { routingId: greeting.routingId });
 * const reply = await b.receive();
 * console.assert(text(reply[0]) === "hi, hello" && reply.routingId === toA);
 * ```
 */
export class PeerSocket extends Socket<PeerMessage> {
  /**
   * Creates a PEER socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("PEER", options);
    const core = coreOf(this);
    core.pattern = new PeerPattern(core, "PEER");
  }

  /**
   * Connects to an endpoint, as `connect()` does, and returns the routing id
   * of the new connection, usable for sends right away (libzmq's
   * `zmq_connect_peer`).
   *
   * @param endpoint The endpoint to connect to.
   * @returns The routing id of the connection (1 to 2³² − 1).
   * @throws {ZmqError} `ENOTSUP` with the `immediate` option (libzmq fails
   *   with `EFAULT`: the pipe would not exist until the handshake), and as
   *   `connect()` throws.
   */
  connectPeer(endpoint: string): number {
    const core = coreOf(this);
    if (core.options.immediate) {
      throw new ZmqError("ENOTSUP", "connectPeer cannot work with the immediate option");
    }
    this.connect(endpoint);
    return (core.pattern as PeerPattern).lastRoutingId;
  }

  /**
   * Sends a single-frame message to the peer with the given routing id.
   *
   * @param message One frame, or a received {@linkcode PeerMessage}.
   * @param options `routingId` (else the message's own), and a `signal`.
   * @returns Resolves when queued.
   * @throws {TypeError} Without a routing id.
   * @throws {RangeError} For a routing id that is not an integer from 1 to 2³² − 1.
   * @throws {ZmqError} `EINVAL` for a multipart message, `EHOSTUNREACH`
   *   when no peer has the routing id, `EAGAIN` after `sendTimeout`.
   */
  override send(message: MessageLike | PeerMessage, options?: PeerSendOptions): Promise<void> {
    let frames: Routed;
    try {
      frames = routedFrames("PEER", message, options);
    } catch (e) {
      return Promise.reject(e);
    }
    return coreOf(this).send(frames, options?.signal);
  }
}
