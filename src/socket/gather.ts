/**
 * GATHER (rfc.zeromq.org spec 49, ZMQ_GATHER): PULL for single-frame
 * messages; fair-queues messages from every SCATTER peer and drops multipart
 * ones, as libzmq does (src/gather.cpp). Cannot send.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import type { Message } from "./_message.ts";
import { notSupported } from "./_pattern.ts";
import { SingleFramePattern } from "./_single_frame.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class GatherPattern extends SingleFramePattern {
  override prepareSend(): Message {
    notSupported("GATHER", "send");
  }
}

/**
 * A GATHER socket: the receiving end of a single-frame pipeline.
 *
 * @example Fair-queued from several scatterers
 * ```ts
 * import { GatherSocket, ScatterSocket } from "@monocoque/zmtp";
 *
 * await using gather = new GatherSocket();
 * await gather.bind("inproc://gather-doc");
 * await using a = new ScatterSocket();
 * await using b = new ScatterSocket();
 * a.connect("inproc://gather-doc");
 * b.connect("inproc://gather-doc");
 * await a.send("from a");
 * await b.send("from b");
 * const got = [await gather.receive(), await gather.receive()];
 * console.assert(got.length === 2);
 * ```
 */
export class GatherSocket extends Socket {
  /**
   * Creates a GATHER socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("GATHER", options);
    const core = coreOf(this);
    core.pattern = new GatherPattern(core, "GATHER");
  }
}
