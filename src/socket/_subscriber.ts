/**
 * What SUB and XSUB share (RFC 29): the socket's own counted subscriptions,
 * sent to every peer when it connects (so a restarted publisher learns them
 * again), changes sent to every connected peer, and incoming messages kept
 * only when they match; internal.
 *
 * @module
 */

import type { Message } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { BasePattern } from "./_pattern.ts";
import { SubscriptionTable } from "./_routing/subscription_table.ts";

/** Subscriptions kept locally and mirrored to every peer. */
export class SubscriberPattern extends BasePattern {
  readonly table: SubscriptionTable = new SubscriptionTable();

  override ready(pipe: Pipe): void {
    for (const topic of this.table.prefixes()) pipe.subscribe(topic, true);
  }

  /** Adds (or removes) one subscription and tells the peers when it changes the set. */
  change(topic: Uint8Array, subscribe: boolean): void {
    const changed = subscribe ? this.table.add(topic) : this.table.remove(topic);
    if (!changed) return;
    for (const pipe of this.core.pipes) if (pipe.attached) pipe.subscribe(topic, subscribe);
  }

  override message(pipe: Pipe, frames: Message): void {
    if (this.table.matches(frames[0])) super.message(pipe, frames);
  }
}
