/**
 * XSUB (RFC 29, ZMQ_XSUB): a SUB whose subscriptions are messages the
 * application sends — first byte 1 (subscribe) or 0 (unsubscribe), then the
 * topic — as a proxy forwards them from an XPUB. Other messages sent are
 * passed to every publisher. Received messages are fair-queued and filtered
 * by the subscriptions.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import type { Message } from "./_message.ts";
import { SubscriberPattern } from "./_subscriber.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class XSubPattern extends SubscriberPattern {
  override trySend(frames: Message): boolean {
    const first = frames[0];
    if (frames.length === 1 && first.length > 0 && (first[0] === 1 || first[0] === 0)) {
      this.change(first.subarray(1), first[0] === 1);
      return true;
    }
    for (const pipe of this.core.pipes) if (pipe.ready && pipe.hasRoom()) pipe.enqueue(frames);
    return true;
  }
}

/**
 * An XSUB socket: a subscriber driven by subscription messages.
 *
 * @example Subscribing by message
 * ```ts
 * import { PubSocket, XSubSocket } from "@monocoque/zmtp";
 *
 * await using pub = new PubSocket();
 * await pub.bind("inproc://xsub-doc");
 * await using xsub = new XSubSocket();
 * xsub.connect("inproc://xsub-doc");
 * await xsub.send(new Uint8Array([1, ...new TextEncoder().encode("a")])); // subscribe to "a"
 * ```
 */
export class XSubSocket extends Socket {
  /**
   * Creates an XSUB socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("XSUB", options);
    const core = coreOf(this);
    core.pattern = new XSubPattern(core);
  }
}
