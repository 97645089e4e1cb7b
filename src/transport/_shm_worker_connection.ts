/**
 * One shm:// connection between Workers of one process: the two rings of
 * `_shm_ring.ts` in a `SharedArrayBuffer`, plus a small control block (who
 * accepted, who closed, each side's heartbeat). A side about to sleep sets its
 * parked flag and waits on it with `Atomics.waitAsync`; the other side clears
 * it and calls `Atomics.notify` only when it finds it set, so a busy stream
 * makes no wake-up at all.
 *
 * Two ends in the same isolate are linked and wake each other with plain
 * promises instead: Deno's event loop does not count a pending
 * `Atomics.waitAsync` as work, so a wake-up posted to our own isolate may
 * never run once nothing else is pending. (A wait on another isolate is kept
 * alive by that Worker.) A side's own close and a dead peer wake its sleepers
 * the same way.
 *
 * A Worker that is terminated runs no more code: it cannot say goodbye, and a
 * futex wait says nothing about it. So each side bumps a heartbeat word every
 * {@linkcode BEAT_INTERVAL} ms (one timer per isolate, for all its
 * connections) and declares its peer gone when the peer's word stood still
 * for {@linkcode DEAD_AFTER} ms of its own ticks. The timer runs only while a
 * connection is open and keeps the process alive meanwhile, as an open TCP
 * connection does, so that a disconnect is seen whatever else the isolate
 * has pending (a pending `Atomics.waitAsync` counts for nothing). A clean `close()` is seen at once: it sets the side's closed word
 * and wakes the peer.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { CorruptRing, RingView } from "./_shm_ring.ts";
import type { Connection } from "./types.ts";
import { WriteChain } from "./_write_chain.ts";

/** Control block words (Int32Array indices). */
export const STATE = 0;
/** STATE values: offered by a connecter, accepted by a binder, withdrawn by the connecter. */
export const OFFERED = 0;
/** The binder took the offer: the connection exists on both sides. */
export const ACCEPTED = 1;
/** The connecter gave up before any binder took it. */
export const WITHDRAWN = 2;
const BEAT = [1, 2] as const; // binder, connecter
const CLOSED = [3, 4] as const;
/** Bytes of the control block. */
export const CONTROL_BYTES = 64;

/** How often each isolate bumps its connections' heartbeat words, in ms. */
export const BEAT_INTERVAL = 500;
/** How long a peer's heartbeat may stand still before it counts as gone, in ms. */
export const DEAD_AFTER = 5000;
/** ...and in our own ticks, so that our own stalled event loop never condemns a peer. */
const DEAD_TICKS = Math.ceil(DEAD_AFTER / BEAT_INTERVAL);

/** The open connections of this isolate, for the heartbeat timer. */
const open = new Set<ShmWorkerConnection>();
let timer: ReturnType<typeof setInterval> | undefined;

function beatAll(): void {
  const now = performance.now();
  for (const connection of open) connection.beat(now);
}

function track(connection: ShmWorkerConnection): void {
  open.add(connection);
  if (timer !== undefined) return;
  timer = setInterval(beatAll, BEAT_INTERVAL);
}

function untrack(connection: ShmWorkerConnection): void {
  open.delete(connection);
  if (open.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

/** A {@linkcode Connection} over rings in a `SharedArrayBuffer`. */
export class ShmWorkerConnection implements Connection, Disposable {
  readonly localEndpoint: string;
  readonly remoteEndpoint: string;
  #control: Int32Array;
  #me: 0 | 1;
  #rx: RingView;
  #tx: RingView;
  #closed = false;
  #peerGone = false;
  /** The write in progress, so concurrent writes keep their order. */
  readonly #writes = new WriteChain();
  /** The other end when it lives in this isolate (then wakes are direct calls). */
  #peer: ShmWorkerConnection | undefined;
  /** Our sleepers' local wakers: a sleep settles on these or on the peer's `Atomics.notify`. */
  #wakers: { reader: (() => void) | null; writer: (() => void) | null } = {
    reader: null,
    writer: null,
  };
  #peerBeat = 0;
  #stillTicks = 0;
  #stillSince = 0;

  /**
   * @param control The control block (`CONTROL_BYTES`, shared).
   * @param rings Both rings (`mappingSize(capacity)`, shared).
   * @param capacity Data bytes per ring.
   * @param side The binder writes ring 0 and reads ring 1.
   * @param endpoint `shm://name`, for both endpoints.
   */
  constructor(
    control: SharedArrayBuffer,
    rings: SharedArrayBuffer,
    capacity: number,
    side: "binder" | "connecter",
    endpoint: string,
  ) {
    this.localEndpoint = endpoint;
    this.remoteEndpoint = endpoint;
    this.#control = new Int32Array(control);
    this.#me = side === "binder" ? 0 : 1;
    this.#rx = new RingView(rings, side === "binder" ? 1 : 0, capacity);
    this.#tx = new RingView(rings, side === "binder" ? 0 : 1, capacity);
    this.#peerBeat = Atomics.load(this.#control, BEAT[1 - this.#me]);
    this.#stillSince = performance.now();
    track(this);
  }

  /** Links two ends of one connection that live in the same isolate. */
  static link(a: ShmWorkerConnection, b: ShmWorkerConnection): void {
    a.#peer = b;
    b.#peer = a;
  }

  /** Sleeps on our parked flag until the peer (or we, at close) wake us. */
  #sleep(who: "reader" | "writer"): Promise<void> {
    // Not Promise.withResolvers: Node 20 has none.
    const promise = new Promise<void>((resolve) => this.#wakers[who] = resolve);
    if (this.#peer === undefined) {
      (who === "reader" ? this.#rx : this.#tx).sleep(who).then(() => this.#wake(who));
    }
    return promise;
  }

  #wake(who: "reader" | "writer"): void {
    const wake = this.#wakers[who];
    this.#wakers[who] = null;
    wake?.();
  }

  /** Wakes the peer's reader (of our tx ring) or writer (of our rx ring), whose flag we cleared. */
  #wakePeer(who: "reader" | "writer"): void {
    if (this.#peer !== undefined) this.#peer.#wake(who);
    else (who === "reader" ? this.#tx : this.#rx).notify(who);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.resolve(null);
    try {
      const n = this.#take(buffer);
      if (n > 0 || buffer.length === 0) return Promise.resolve(n);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#readSlow(buffer);
  }

  async #readSlow(buffer: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) return null;
      const n = this.#take(buffer);
      if (n > 0) return n;
      if (this.#gone()) return null;
      this.#rx.park("reader");
      const again = this.#take(buffer); // the eventcount's second look, after the flag is visible
      if (again > 0 || this.#gone()) {
        this.#rx.unpark("reader");
        if (again > 0) return again;
        continue;
      }
      await this.#sleep("reader");
    }
  }

  /** Copies readable bytes out and wakes a producer parked on a full ring. */
  #take(buffer: Uint8Array): number {
    let n: number;
    try {
      n = this.#rx.read(buffer);
    } catch (err) {
      throw this.#corrupt(err);
    }
    if (n > 0 && this.#rx.shouldWake("writer")) this.#wakePeer("writer");
    return n;
  }

  write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#closed || this.#gone()) {
      return Promise.reject(new ZmqError("ECONNRESET", "Write on a closed shm connection"));
    }
    const at = { index: 0, offset: 0 };
    if (this.#writes.idle) {
      // Fast path: everything fits now, no promise at all beyond the result.
      try {
        if (this.#put(buffers, at)) return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#writes.chain(() => this.#writeSlow(buffers, at));
  }

  async #writeSlow(
    buffers: readonly Uint8Array[],
    at: { index: number; offset: number },
  ): Promise<void> {
    for (;;) {
      if (this.#closed || this.#gone()) {
        throw new ZmqError("ECONNRESET", "The shm connection closed during a write");
      }
      if (this.#put(buffers, at)) return;
      this.#tx.park("writer");
      let room: number;
      try {
        room = this.#tx.writable();
      } catch (err) {
        throw this.#corrupt(err);
      }
      if (room > 0 || this.#gone()) {
        this.#tx.unpark("writer");
        continue;
      }
      await this.#sleep("writer");
    }
  }

  /** Copies from `at` on as far as the ring allows, publishes, wakes a parked reader. */
  #put(buffers: readonly Uint8Array[], at: { index: number; offset: number }): boolean {
    let complete = true;
    try {
      while (at.index < buffers.length) {
        const buffer = buffers[at.index];
        const rest = at.offset === 0 ? buffer : buffer.subarray(at.offset);
        const n = rest.length === 0 ? 0 : this.#tx.write(rest);
        if (n < rest.length) {
          at.offset += n;
          complete = false;
          break;
        }
        at.index++;
        at.offset = 0;
      }
      this.#tx.publish();
    } catch (err) {
      throw this.#corrupt(err);
    }
    if (this.#tx.shouldWake("reader")) this.#wakePeer("reader");
    return complete;
  }

  /** Whether the peer closed or was found dead. */
  #gone(): boolean {
    if (!this.#peerGone && Atomics.load(this.#control, CLOSED[1 - this.#me]) !== 0) {
      this.#peerGone = true;
    }
    return this.#peerGone;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    untrack(this);
    Atomics.store(this.#control, CLOSED[this.#me], 1);
    // Wake both sides' sleepers: ours see #closed, the peer's see our closed word.
    this.#rx.release("reader");
    this.#rx.release("writer");
    this.#tx.release("reader");
    this.#tx.release("writer");
    this.#rx.detach();
    this.#tx.detach();
    this.#wake("reader");
    this.#wake("writer");
    const peer = this.#peer;
    if (peer !== undefined) {
      peer.#wake("reader");
      peer.#wake("writer");
      this.#peer = undefined;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Heartbeat tick: bumps our word, and gives up on a peer whose word stood still too long. */
  beat(now: number): void {
    if (this.#closed || this.#peerGone) return;
    Atomics.add(this.#control, BEAT[this.#me], 1);
    const peer = Atomics.load(this.#control, BEAT[1 - this.#me]);
    if (peer !== this.#peerBeat) {
      this.#peerBeat = peer;
      this.#stillTicks = 0;
      this.#stillSince = now;
      return;
    }
    if (++this.#stillTicks < DEAD_TICKS || now - this.#stillSince < DEAD_AFTER) return;
    // The peer's isolate is gone (a terminated Worker): wake our own sleepers to see it.
    this.#peerGone = true;
    this.#rx.unpark("reader");
    this.#tx.unpark("writer");
    this.#wake("reader");
    this.#wake("writer");
  }

  #corrupt(err: unknown): unknown {
    if (!(err instanceof CorruptRing)) return err;
    this.close();
    return new ZmqError("ECONNRESET", err.message, { cause: err });
  }
}
