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
import type { Pipe } from "./_pipe.ts";
import { SubscriberWaiters } from "./_subscriber_waiters.ts";
import { PublisherPattern } from "./_subscriptions.ts";
import type { PubSocketOptions, WaitForSubscribersOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class PubPattern extends PublisherPattern {
  readonly waiters: SubscriberWaiters = new SubscriberWaiters();

  override detach(pipe: Pipe): void {
    super.detach(pipe);
    this.waiters.left(pipe);
  }

  override subscription(pipe: Pipe, topic: Uint8Array, subscribe: boolean): void {
    super.subscription(pipe, topic, subscribe);
    if (subscribe) this.waiters.subscribed(pipe);
  }

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
 * // Subscriptions reach the publisher asynchronously (the slow joiner): wait for one.
 * await pub.waitForSubscribers(1, { timeout: 5000 });
 * await pub.send(["weather.paris", "21C"]);
 * const [, temperature] = await sub.receive();
 * console.assert(new TextDecoder().decode(temperature) === "21C");
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

  /**
   * Resolves once `n` subscribers are connected, each having completed its
   * handshake and sent at least one subscription: from then on what this
   * socket publishes reaches them. The cure for the Guide's slow-joiner
   * problem (messages published before a subscriber is there are dropped,
   * as in libzmq). A subscriber that leaves stops counting.
   *
   * @example Publish once the subscriber is listening
   * ```ts
   * import { PubSocket, SubSocket } from "@monocoque/zmtp";
   *
   * await using pub = new PubSocket();
   * await pub.bind("inproc://wait-doc");
   * await using sub = new SubSocket();
   * sub.subscribe();
   * sub.connect("inproc://wait-doc");
   * await pub.waitForSubscribers(1, { timeout: 5000 });
   * await pub.send("first message, not lost");
   * console.assert((await sub.receive()).length === 1);
   * ```
   *
   * @param n How many subscribers to wait for.
   * @param options `timeout` in ms and `signal` to stop waiting.
   * @returns Resolves when `n` subscribers are there (at once if they already are).
   * @throws {ZmqError} `EAGAIN` on timeout, `ECANCELED` when aborted, `ETERM` when closed.
   */
  waitForSubscribers(n: number, options?: WaitForSubscribersOptions): Promise<void> {
    return (coreOf(this).pattern as PubPattern).waiters.wait(n, options);
  }

  /**
   * Closes the socket; a pending {@linkcode waitForSubscribers} rejects with `ETERM`.
   *
   * @returns Resolves once every port, file and timer is released.
   */
  override close(): Promise<void> {
    (coreOf(this).pattern as PubPattern).waiters.close();
    return super.close();
  }
}
