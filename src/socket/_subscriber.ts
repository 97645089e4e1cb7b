/**
 * What SUB and XSUB share (RFC 29): the socket's own counted subscriptions,
 * sent to every peer when it connects (so a restarted publisher learns them
 * again), changes sent to every connected peer, and incoming messages kept
 * only when they match; internal.
 *
 * The resend on connect is proportional to the subscriptions (there may be a
 * million), so it runs in slices ({@linkcode runSliced}) and waits for each
 * ~256 KiB of SUBSCRIBE commands to be written before queueing more. While
 * it runs, a change the application makes is sent at once if the resend has
 * passed its topic, else left to the resend (which sends what the table holds
 * when it gets there): each topic reaches the peer once, in a consistent order.
 *
 * @module
 */

import type { Message } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { BasePattern } from "./_pattern.ts";
import { SubscriptionTable } from "./_routing/subscription_table.ts";
import type { SubscriptionCursor } from "./_routing/subscription_table.ts";
import { nextTurn, runSliced } from "./_slices.ts";

/** Bytes of SUBSCRIBE commands queued on a pipe before the resend waits for them to be written. */
const RESEND_BYTES = 256 * 1024;
/** How often a resend waiting for a write looks again, in ms. */
const RESEND_POLL_MS = 2;

/** Subscriptions kept locally and mirrored to every peer. */
export class SubscriberPattern extends BasePattern {
  readonly table: SubscriptionTable = new SubscriptionTable();
  /** Resends in progress, by pipe: where each has got to. */
  readonly #resends = new Map<Pipe, SubscriptionCursor>();

  override ready(pipe: Pipe): void {
    if (this.table.size === 0) {
      this.#resends.delete(pipe);
      return;
    }
    const cursor = this.table.cursor();
    this.#resends.set(pipe, cursor);
    const current = () => this.#resends.get(pipe) === cursor;
    const job = runSliced(this.#resend(pipe, cursor), {
      // A pipe that disconnects (or reconnects, and so resends anew) ends this resend.
      stopped: () => this.core.closed || !current() || !pipe.ready,
    }).finally(() => {
      if (current()) this.#resends.delete(pipe);
    });
    this.core.background(job);
  }

  /** Adds (or removes) one subscription and tells the peers when it changes the set. */
  change(topic: Uint8Array, subscribe: boolean): void {
    const changed = subscribe ? this.table.add(topic) : this.table.remove(topic);
    if (!changed) return;
    for (const pipe of this.core.pipes) {
      if (!pipe.attached) continue;
      const resend = this.#resends.get(pipe);
      if (resend !== undefined && !resend.passed(topic)) continue; // the resend will see it
      pipe.subscribe(topic, subscribe);
    }
  }

  override message(pipe: Pipe, frames: Message): void {
    if (this.table.matches(frames[0])) super.message(pipe, frames);
  }

  *#resend(pipe: Pipe, cursor: SubscriptionCursor): Generator<Promise<void> | undefined> {
    let queued = 0;
    for (let topic = cursor.next(); topic !== undefined; topic = cursor.next()) {
      pipe.subscribe(topic, true);
      queued += topic.length + 16;
      if (queued < RESEND_BYTES) {
        yield;
        continue;
      }
      queued = 0;
      yield written(pipe);
    }
  }
}

/** Resolves once the pipe has written what it had queued (or is gone). */
async function written(pipe: Pipe): Promise<void> {
  // The pipe's flush runs a microtask or a macrotask after subscribe(): let it start.
  await nextTurn();
  while (pipe.ready && pipe.pending) {
    await new Promise((resolve) => setTimeout(resolve, RESEND_POLL_MS));
  }
}
