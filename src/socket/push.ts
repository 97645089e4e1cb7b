/**
 * PUSH (RFC 30, ZMQ_PUSH): sends each message to one peer in turn among
 * those with room; waits, up to `sendTimeout`, while every peer is at its
 * high-water mark or none is connected. Cannot receive.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import type { Message } from "./_message.ts";
import { BasePattern, notSupported } from "./_pattern.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class PushPattern extends BasePattern {
  override message(): void {}
  override prepareReceive(): void {
    notSupported("PUSH", "receive");
  }
  override tryReceive(): Message | undefined {
    return undefined;
  }
}

/**
 * A PUSH socket: the sending end of a pipeline.
 *
 * @example A pipeline
 * ```ts
 * import { PullSocket, PushSocket } from "@monocoque/zmtp";
 *
 * await using pull = new PullSocket();
 * await pull.bind("tcp://127.0.0.1:0");
 * await using push = new PushSocket();
 * push.connect(pull.lastEndpoint!);
 * await push.send("task 1");
 * const [task] = await pull.receive();
 * console.assert(new TextDecoder().decode(task) === "task 1");
 * ```
 */
export class PushSocket extends Socket {
  /**
   * Creates a PUSH socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("PUSH", options);
    const core = coreOf(this);
    core.pattern = new PushPattern(core);
  }
}
