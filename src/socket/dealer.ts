/**
 * DEALER (RFC 28, ZMQ_DEALER): sends round-robin to peers with room (waiting
 * while all are full), fair-queues incoming messages, and leaves envelopes
 * to the application.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import { BasePattern } from "./_pattern.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

/**
 * A DEALER socket: asynchronous request/reply.
 *
 * @example Talking to a ROUTER
 * ```ts
 * import { DealerSocket, RouterSocket } from "@monocoque/zmtp";
 *
 * await using router = new RouterSocket();
 * await router.bind("inproc://dealer-doc");
 * await using dealer = new DealerSocket({ routingId: "d1" });
 * dealer.connect("inproc://dealer-doc");
 * await dealer.send("hi");
 * const [id, body] = await router.receive();
 * await router.send([id, "hello ", body]);
 * const reply = await dealer.receive();
 * console.assert(reply.length === 2); // ["hello ", "hi"]
 * ```
 */
export class DealerSocket extends Socket {
  /**
   * Creates a DEALER socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("DEALER", options);
    const core = coreOf(this);
    core.pattern = new BasePattern(core);
  }
}
