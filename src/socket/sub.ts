/**
 * SUB (RFC 29, ZMQ_SUB): receives the messages whose first frame starts with
 * one of its subscribed prefixes. With no subscription nothing is received
 * (as libzmq); the empty prefix subscribes to everything, and so does
 * `subscribe()` with no argument (as zeromq.js). Subscriptions are counted:
 * subscribing twice needs two unsubscribes. Cannot send.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import { topicBytes } from "./_message.ts";
import type { Message } from "./_message.ts";
import { notSupported } from "./_pattern.ts";
import { SubscriberPattern } from "./_subscriber.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

/** No topic means the empty prefix: every message. */
function everything(topics: (string | Uint8Array)[]): (string | Uint8Array)[] {
  return topics.length === 0 ? [""] : topics;
}

class SubPattern extends SubscriberPattern {
  override prepareSend(): Message {
    notSupported("SUB", "send");
  }
}

/**
 * A SUB socket: subscribes to topic prefixes of publishers.
 *
 * @example Subscribing to a prefix
 * ```ts
 * import { SubSocket } from "@monocoque/zmtp";
 *
 * await using sub = new SubSocket({ receiveTimeout: 1000 });
 * sub.subscribe("weather.", "traffic.");
 * sub.unsubscribe("traffic.");
 * sub.connect("tcp://127.0.0.1:5556"); // connects in the background, whenever a publisher is there
 * ```
 */
export class SubSocket extends Socket {
  /**
   * Creates a SUB socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("SUB", options);
    const core = coreOf(this);
    core.pattern = new SubPattern(core);
  }

  /**
   * Subscribes to messages whose first frame starts with each prefix
   * (ZMQ_SUBSCRIBE). With no argument, or `""`, subscribes to everything
   * (zeromq.js's `subscribe()`).
   *
   * @example Everything
   * ```ts
   * import { SubSocket } from "@monocoque/zmtp";
   *
   * await using sub = new SubSocket();
   * sub.subscribe(); // the same as sub.subscribe("")
   * sub.unsubscribe(); // and back to nothing
   * ```
   *
   * @param topics The prefixes; none means every message.
   */
  subscribe(...topics: (string | Uint8Array)[]): void {
    const pattern = coreOf(this).pattern as SubPattern;
    for (const t of everything(topics).map(topicBytes)) pattern.change(t, true);
  }

  /**
   * Removes one subscription to each prefix (ZMQ_UNSUBSCRIBE). With no
   * argument, removes one subscription to everything (`""`), the one
   * `subscribe()` made; other prefixes stay.
   *
   * @param topics The prefixes; none means the empty prefix.
   */
  unsubscribe(...topics: (string | Uint8Array)[]): void {
    const pattern = coreOf(this).pattern as SubPattern;
    for (const t of everything(topics).map(topicBytes)) pattern.change(t, false);
  }
}
