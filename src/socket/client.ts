/**
 * CLIENT (rfc.zeromq.org spec 41, ZMQ_CLIENT): talks to SERVER sockets; sends
 * each message to one peer in turn among those with room (waiting while all
 * are full or none is connected) and fair-queues incoming messages, like
 * DEALER without envelopes. Messages are single frames: a multipart send
 * fails with `EINVAL`, and a multipart message from a peer is dropped, as
 * libzmq does (src/client.cpp).
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import { SingleFramePattern } from "./_single_frame.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

/**
 * A CLIENT socket: the asking end of CLIENT/SERVER.
 *
 * @example Asking a SERVER
 * ```ts
 * import { ClientSocket, ServerSocket, text } from "@monocoque/zmtp";
 *
 * await using server = new ServerSocket();
 * await server.bind("inproc://client-doc");
 * await using client = new ClientSocket();
 * client.connect("inproc://client-doc");
 * await client.send("ping");
 * const request = await server.receive();
 * await server.send("pong", { routingId: request.routingId });
 * const [reply] = await client.receive();
 * console.assert(text(reply) === "pong");
 * ```
 */
export class ClientSocket extends Socket {
  /**
   * Creates a CLIENT socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("CLIENT", options);
    const core = coreOf(this);
    core.pattern = new SingleFramePattern(core, "CLIENT");
  }
}
