/**
 * What PUB and XPUB share (RFC 29): each peer's subscriptions, learnt from
 * SUBSCRIBE/CANCEL commands or from the 0x01/0x00 subscription messages of
 * ZMTP 3.0 peers, and fan-out of each message to every matching peer with
 * room. Publishing never blocks: a peer at its high-water mark misses the
 * message, unless its writes are still moving, in which case the send lets
 * I/O run a few turns first (so a subscriber that keeps up is not cut just
 * because the loop never yielded). The subscriptions are this pattern's state,
 * one {@linkcode Subscription} per peer, not the pipe's; internal.
 *
 * @module
 */

import type { Message } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { BasePattern } from "./_pattern.ts";
import { SubscriptionTable } from "./_routing/subscription_table.ts";
import { allHaveRoom, distribute } from "./_routing/distributor.ts";
import type { Subscription } from "./_routing/distributor.ts";
import { turnBudgetMs } from "./_routing/turn_budget.ts";
import type { DeferredSend, SocketCore } from "./_core.ts";
import type { PubSocketOptions } from "./options.ts";

/** A peer's subscriptions, as a publishing pattern keeps them. */
export interface PipeSubscription extends Subscription<Pipe> {
  readonly topics: SubscriptionTable;
}

/** Fan-out to subscribers; subclasses decide what subscriptions do. */
export class PublisherPattern extends BasePattern {
  override readonly attachEarly = false;
  /** Each attached peer's subscriptions. */
  readonly subscribers: Map<Pipe, PipeSubscription> = new Map();
  readonly #noDrop: boolean;
  #deferred: Pipe[] = [];
  #deferredFrames: Message | undefined;

  constructor(core: SocketCore, options: PubSocketOptions) {
    super(core);
    this.#noDrop = options.noDrop === true;
  }

  /** A send loop yields after a time that grows with the subscribers (see turn_budget.ts). */
  get yieldAfterMs(): number {
    return turnBudgetMs(this.subscribers.size);
  }

  override attach(pipe: Pipe): boolean {
    this.subscribers.set(pipe, { peer: pipe, topics: new SubscriptionTable() });
    pipe.flushLater = true;
    return true;
  }

  override detach(pipe: Pipe): void {
    this.subscribers.delete(pipe);
  }

  /** SUBSCRIBE and CANCEL (RFC 29); other commands are not a publisher's business. */
  command(pipe: Pipe, name: string, data: Uint8Array): void {
    if (name === "SUBSCRIBE") this.subscription(pipe, data, true);
    else if (name === "CANCEL") this.subscription(pipe, data, false);
  }

  /** A subscription, from a command or a ZMTP 3.0 subscription message. */
  subscription(pipe: Pipe, topic: Uint8Array, subscribe: boolean): void {
    const topics = this.subscribers.get(pipe)?.topics;
    if (topics === undefined) return;
    if (subscribe) topics.add(topic);
    else topics.remove(topic);
  }

  override message(pipe: Pipe, frames: Message): void {
    const first = frames[0];
    if (frames.length === 1 && first.length > 0 && (first[0] === 1 || first[0] === 0)) {
      this.subscription(pipe, first.subarray(1), first[0] === 1);
    }
  }

  override trySend(frames: Message): boolean {
    if (this.#noDrop) {
      if (!allHaveRoom(this.subscribers.values(), frames)) return false;
      distribute(this.subscribers.values(), frames);
      return true;
    }
    const deferred = this.#deferred;
    // Misses need no yield of their own: a subscriber whose writes move is
    // deferred, and the core lets I/O run at least every yieldAfterMs.
    distribute(this.subscribers.values(), frames, deferred);
    if (deferred.length > 0) this.#deferredFrames = frames;
    return true;
  }

  /** Subscribers that were full while their writes moved: retried once I/O ran. */
  takeDeferred(): DeferredSend[] | undefined {
    const pipes = this.#deferred;
    if (pipes.length === 0) return undefined;
    this.#deferred = [];
    const frames = this.#deferredFrames!;
    this.#deferredFrames = undefined;
    return pipes.map((pipe) => ({ pipe, frames }));
  }
}
