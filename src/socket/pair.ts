/**
 * PAIR (RFC 31, ZMQ_PAIR): exactly one peer; a second connection is refused
 * while the first lasts. Sends wait for room as PUSH does.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import type { Pipe } from "./_pipe.ts";
import { BasePattern } from "./_pattern.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class PairPattern extends BasePattern {
  override attach(pipe: Pipe): boolean {
    if (this.peers.size > 0) return false;
    return super.attach(pipe);
  }
}

/**
 * A PAIR socket: an exclusive connection between two sockets.
 *
 * @example Both directions over one connection
 * ```ts
 * import { PairSocket } from "@monocoque/zmtp";
 *
 * await using a = new PairSocket();
 * await a.bind("inproc://pair-doc");
 * await using b = new PairSocket();
 * b.connect("inproc://pair-doc");
 * await b.send("ping");
 * await a.receive();
 * await a.send("pong");
 * const [pong] = await b.receive();
 * console.assert(new TextDecoder().decode(pong) === "pong");
 * ```
 */
export class PairSocket extends Socket {
  /**
   * Creates a PAIR socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("PAIR", options);
    const core = coreOf(this);
    core.pattern = new PairPattern(core);
  }
}
