/**
 * CHANNEL (rfc.zeromq.org spec 52, ZMQ_CHANNEL): PAIR with single-frame
 * messages. Exactly one peer; a second connection is refused while the first
 * lasts (libzmq src/channel.cpp xattach_pipe). A multipart send fails with
 * `EINVAL`, and a multipart message from the peer is dropped (channel.cpp
 * xsend, xrecv).
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import type { Pipe } from "./_pipe.ts";
import { SingleFramePattern } from "./_single_frame.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class ChannelPattern extends SingleFramePattern {
  override attach(pipe: Pipe): boolean {
    if (this.peers.size > 0) return false;
    return super.attach(pipe);
  }
}

/**
 * A CHANNEL socket: an exclusive connection between two sockets, one frame
 * per message.
 *
 * @example Both directions over one connection
 * ```ts
 * import { ChannelSocket, text } from "@monocoque/zmtp";
 *
 * await using a = new ChannelSocket();
 * await a.bind("inproc://channel-doc");
 * await using b = new ChannelSocket();
 * b.connect("inproc://channel-doc");
 * await b.send("ping");
 * await a.receive();
 * await a.send("pong");
 * const [pong] = await b.receive();
 * console.assert(text(pong) === "pong");
 * ```
 */
export class ChannelSocket extends Socket {
  /**
   * Creates a CHANNEL socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("CHANNEL", options);
    const core = coreOf(this);
    core.pattern = new ChannelPattern(core, "CHANNEL");
  }
}
