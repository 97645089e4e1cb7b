/**
 * XPUB (RFC 29, ZMQ_XPUB): a PUB that also hands subscriptions to the
 * application as messages — first byte 1 (subscribe) or 0 (unsubscribe),
 * then the topic. By default only a topic's first subscription and last
 * unsubscription are passed on; `verbose` passes every subscription. With
 * `manual`, the application decides what each subscriber gets by calling
 * `subscribe()`/`unsubscribe()` after receiving its subscription message.
 * `welcomeMessage` is sent to every new subscriber.
 *
 * @module
 */

import { coreOf } from "./_core.ts";
import type { SocketCore } from "./_core.ts";
import { topicBytes } from "./_message.ts";
import type { Message } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { SubscriptionTable } from "./_routing/subscription_table.ts";
import { runSliced } from "./_slices.ts";
import { PublisherPattern } from "./_subscriptions.ts";
import { SubscriberWaiters } from "./_subscriber_waiters.ts";
import type { WaitForSubscribersOptions, XPubSocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

function subscriptionMessage(topic: Uint8Array, subscribe: boolean): Message {
  const m = new Uint8Array(topic.length + 1);
  m[0] = subscribe ? 1 : 0;
  m.set(topic, 1);
  return [m];
}

class XPubPattern extends PublisherPattern {
  readonly #all = new SubscriptionTable();
  /** Manual mode: what each peer asked for, reported back when it leaves. */
  readonly #requested = new Map<Pipe, SubscriptionTable>();
  readonly #verbose: boolean;
  readonly #manual: boolean;
  readonly #welcome: Uint8Array | undefined;
  readonly waiters: SubscriberWaiters = new SubscriberWaiters();

  constructor(core: SocketCore, options: XPubSocketOptions) {
    super(core, options);
    this.#verbose = options.verbose === true;
    this.#manual = options.manual === true;
    const w = options.welcomeMessage;
    this.#welcome = w === undefined ? undefined : topicBytes(w);
  }

  override attach(pipe: Pipe): boolean {
    super.attach(pipe);
    if (this.#welcome !== undefined) pipe.enqueue([this.#welcome]);
    return true;
  }

  override detach(pipe: Pipe): void {
    const own = this.subscribers.get(pipe)?.topics;
    super.detach(pipe);
    this.waiters.left(pipe);
    // The pipe's queue in the fair queue outlives the detach (its messages
    // stay readable), so the reports go there, however many slices they take.
    const inbox = pipe.inbox;
    if (inbox === undefined) return;
    let topics: SubscriptionTable | undefined;
    let report: (topic: Uint8Array) => boolean;
    if (this.#manual) {
      // libzmq reports every topic a leaving peer asked for in manual mode,
      // whoever else holds it: the application keeps its own accounts
      // (xpub.cpp, xpub_t::xpipe_terminated: unsubscribes with
      // send_unsubscription for each of the pipe's topics, manual or not).
      topics = this.#requested.get(pipe);
      this.#requested.delete(pipe);
      report = () => true;
    } else {
      // The peer's topics that nobody else wants any more are unsubscribed upstream.
      topics = own;
      report = (topic) => this.#all.remove(topic);
    }
    if (topics === undefined || topics.size === 0) return;
    // A peer may leave a million topics behind: report them a slice at a time.
    const core = this.core;
    const cursor = topics.cursor();
    function* unsubscribe(): Generator<void> {
      for (let topic = cursor.next(); topic !== undefined; topic = cursor.next()) {
        if (report(topic)) {
          inbox!.push(subscriptionMessage(topic, false));
          core.wakeReceivers();
        }
        yield;
      }
    }
    core.background(runSliced(unsubscribe(), { stopped: () => core.closed }));
  }

  override subscription(pipe: Pipe, topic: Uint8Array, subscribe: boolean): void {
    if (subscribe) this.waiters.subscribed(pipe);
    if (this.#manual) {
      let requested = this.#requested.get(pipe);
      if (requested === undefined) this.#requested.set(pipe, requested = new SubscriptionTable());
      if (subscribe) requested.add(topic);
      else requested.remove(topic);
      pipe.inbox!.push(subscriptionMessage(topic, subscribe));
      return;
    }
    const table = this.subscribers.get(pipe)?.topics;
    if (table === undefined) return;
    if (subscribe) {
      // #all counts each peer once per topic (libzmq's mtrie holds a set of pipes per
      // prefix), so a peer repeating a SUBSCRIBE cannot pin the topic there after it cancels.
      const reported = table.add(topic) ? this.#all.add(topic) : false;
      if (reported || this.#verbose) pipe.inbox!.push(subscriptionMessage(topic, true));
    } else if (table.remove(topic) && this.#all.remove(topic)) {
      pipe.inbox!.push(subscriptionMessage(topic, false));
    }
  }

  override message(pipe: Pipe, frames: Message): void {
    const first = frames[0];
    if (frames.length === 1 && first.length > 0 && (first[0] === 1 || first[0] === 0)) {
      super.message(pipe, frames);
    } else {
      pipe.inbox!.push(frames); // an upstream message from an XSUB
    }
  }

  /** Manual mode: applies a subscription to the peer whose subscription was read last. */
  manualSubscription(topic: Uint8Array, subscribe: boolean): void {
    const pipe = this.core.inbox.lastKey;
    const topics = pipe === undefined ? undefined : this.subscribers.get(pipe)?.topics;
    if (topics === undefined) return;
    if (subscribe) topics.add(topic);
    else topics.remove(topic);
  }
}

/**
 * An XPUB socket: a publisher that sees its subscribers' subscriptions.
 *
 * @example Learning what subscribers want
 * ```ts
 * import { SubSocket, XPubSocket } from "@monocoque/zmtp";
 *
 * await using xpub = new XPubSocket();
 * await xpub.bind("inproc://xpub-doc");
 * await using sub = new SubSocket();
 * sub.connect("inproc://xpub-doc");
 * sub.subscribe("news");
 * const [subscription] = await xpub.receive();
 * console.assert(subscription[0] === 1); // 1 = subscribe, then the topic
 * await xpub.send(["news", "hello"]);
 * const [, body] = await sub.receive();
 * console.assert(new TextDecoder().decode(body) === "hello");
 * ```
 */
export class XPubSocket extends Socket {
  /**
   * Creates an XPUB socket.
   *
   * @param options Socket options, plus `noDrop`, `verbose`, `manual` and `welcomeMessage`.
   */
  constructor(options?: XPubSocketOptions) {
    super("XPUB", options);
    const core = coreOf(this);
    core.pattern = new XPubPattern(core, options ?? {});
  }

  /**
   * Resolves once `n` subscribers are connected, each having completed its
   * handshake and sent at least one subscription (counted whether or not
   * `verbose` passes it on, and in `manual` mode before the application
   * decides). See `PubSocket.waitForSubscribers`.
   *
   * @example Wait for two subscribers
   * ```ts
   * import { SubSocket, XPubSocket } from "@monocoque/zmtp";
   *
   * await using xpub = new XPubSocket();
   * await xpub.bind("inproc://xpub-wait-doc");
   * await using a = new SubSocket();
   * await using b = new SubSocket();
   * for (const sub of [a, b]) {
   *   sub.subscribe("news");
   *   sub.connect("inproc://xpub-wait-doc");
   * }
   * await xpub.waitForSubscribers(2, { signal: AbortSignal.timeout(5000) });
   * ```
   *
   * @param n How many subscribers to wait for.
   * @param options `timeout` in ms and `signal` to stop waiting.
   * @returns Resolves when `n` subscribers are there.
   * @throws {ZmqError} `EAGAIN` on timeout, `ECANCELED` when aborted, `ETERM` when closed.
   */
  waitForSubscribers(n: number, options?: WaitForSubscribersOptions): Promise<void> {
    return (coreOf(this).pattern as XPubPattern).waiters.wait(n, options);
  }

  /**
   * Closes the socket; a pending {@linkcode waitForSubscribers} rejects with `ETERM`.
   *
   * @returns Resolves once every port, file and timer is released.
   */
  override close(): Promise<void> {
    (coreOf(this).pattern as XPubPattern).waiters.close();
    return super.close();
  }

  /**
   * In `manual` mode, subscribes the peer whose subscription message was
   * received last to `topic` (ZMQ_SUBSCRIBE on an XPUB).
   *
   * @param topic The topic prefix.
   */
  subscribe(topic: string | Uint8Array): void {
    (coreOf(this).pattern as XPubPattern).manualSubscription(topicBytes(topic), true);
  }

  /**
   * In `manual` mode, unsubscribes the peer whose subscription message was
   * received last from `topic` (ZMQ_UNSUBSCRIBE on an XPUB).
   *
   * @param topic The topic prefix.
   */
  unsubscribe(topic: string | Uint8Array): void {
    (coreOf(this).pattern as XPubPattern).manualSubscription(topicBytes(topic), false);
  }
}
