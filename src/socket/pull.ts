/**
 * PULL (RFC 30, ZMQ_PULL): fair-queues messages from every peer. Cannot send.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import type { Message } from "./_message.ts";
import { BasePattern, notSupported } from "./_pattern.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class PullPattern extends BasePattern {
  override prepareSend(): Message {
    notSupported("PULL", "send");
  }
}

/**
 * A PULL socket: the receiving end of a pipeline.
 *
 * @example Fair-queued from several pushers
 * ```ts
 * import { PullSocket, PushSocket } from "@monocoque/zmtp";
 *
 * await using pull = new PullSocket();
 * await pull.bind("inproc://pull-doc");
 * await using a = new PushSocket();
 * await using b = new PushSocket();
 * a.connect("inproc://pull-doc");
 * b.connect("inproc://pull-doc");
 * await a.send("from a");
 * await b.send("from b");
 * const got = [await pull.receive(), await pull.receive()];
 * console.assert(got.length === 2);
 * ```
 */
export class PullSocket extends Socket {
  /**
   * Creates a PULL socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("PULL", options);
    const core = coreOf(this);
    core.pattern = new PullPattern(core);
  }
}
