/**
 * PUB (RFC 29, ZMQ_PUB): sends each message to every subscriber whose
 * subscriptions match its first frame. Never waits: a subscriber at its
 * high-water mark misses messages. Cannot receive.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import type { Message } from "./_message.ts";
import { notSupported } from "./_pattern.ts";
import { PublisherPattern } from "./_subscriptions.ts";
import type { PubSocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class PubPattern extends PublisherPattern {
  override prepareReceive(): void {
    notSupported("PUB", "receive");
  }
  override tryReceive(): Message | undefined {
    return undefined;
  }
}

/**
 * A PUB socket: publishes to subscribers by topic prefix.
 *
 * @example Publish to a subscriber
 * ```ts
 * import { PubSocket, SubSocket } from "@monocoque/zmtp";
 *
 * await using pub = new PubSocket();
 * await pub.bind("inproc://pub-doc");
 * await using sub = new SubSocket();
 * sub.subscribe("weather.");
 * sub.connect("inproc://pub-doc");
 * // Subscriptions reach the publisher asynchronously: publish until one arrives.
 * const received = sub.receive();
 * let got: Uint8Array[] | undefined;
 * while (got === undefined) {
 *   await pub.send(["weather.paris", "21C"]);
 *   got = await Promise.race([
 *     received,
 *     new Promise<undefined>((r) => setTimeout(() => r(undefined), 10)),
 *   ]);
 * }
 * console.assert(new TextDecoder().decode(got[1]) === "21C");
 * ```
 */
export class PubSocket extends Socket {
  /**
   * Creates a PUB socket.
   *
   * @param options Socket options, plus `noDrop`.
   */
  constructor(options?: PubSocketOptions) {
    super("PUB", options);
    const core = coreOf(this);
    core.pattern = new PubPattern(core, options ?? {});
  }
}
