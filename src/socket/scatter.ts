/**
 * SCATTER (rfc.zeromq.org spec 49, ZMQ_SCATTER): PUSH for single-frame
 * messages; sends each message to one GATHER peer in turn among those with
 * room. A multipart send fails with `EINVAL` (libzmq src/scatter.cpp).
 * Cannot receive.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import type { Message } from "./_message.ts";
import { notSupported } from "./_pattern.ts";
import { SingleFramePattern } from "./_single_frame.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class ScatterPattern extends SingleFramePattern {
  override message(): void {}
  override prepareReceive(): void {
    notSupported("SCATTER", "receive");
  }
  override tryReceive(): Message | undefined {
    return undefined;
  }
}

/**
 * A SCATTER socket: the sending end of a single-frame pipeline.
 *
 * @example A pipeline
 * ```ts
 * import { GatherSocket, ScatterSocket, text } from "@monocoque/zmtp";
 *
 * await using gather = new GatherSocket();
 * await gather.bind("tcp://127.0.0.1:0");
 * await using scatter = new ScatterSocket();
 * scatter.connect(gather.lastEndpoint!);
 * await scatter.send("task 1");
 * const [task] = await gather.receive();
 * console.assert(text(task) === "task 1");
 * ```
 */
export class ScatterSocket extends Socket {
  /**
   * Creates a SCATTER socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("SCATTER", options);
    const core = coreOf(this);
    core.pattern = new ScatterPattern(core, "SCATTER");
  }
}
