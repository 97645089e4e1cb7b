/**
 * One shm:// connection: a shared mapping of two rings (`_shm_ring.ts`) plus
 * the Unix socket it was set up over, kept open as the doorbell. A side about
 * to sleep sets its parked flag and waits for a byte on the doorbell; the
 * other side writes one byte only when it finds that flag set, so a busy
 * stream makes no system call at all. The doorbell is also the liveness
 * signal: a peer that exits or is killed closes it (the kernel does), and we
 * read end of stream, so no wait outlives the peer.
 *
 * Why a socket rather than a futex or an eventfd: Deno reads a socket on its
 * own event loop, whereas a futex wait would park one of Deno's blocking
 * threads per connection (a `nonblocking` FFI call), and an eventfd has no
 * Deno API to read it with; and a futex says nothing when the peer dies.
 *
 * @module
 */

import { ZmqError } from "../src/errors.ts";
import type { Connection } from "../src/transport/types.ts";
import { CorruptRing, RingView } from "./_shm_ring.ts";
import { releaseShm } from "./_shm_library.ts";
import type { ShmSymbols } from "./_symbols.ts";
import { WriteChain } from "../src/transport/_write_chain.ts";

const BELL = new Uint8Array([1]);

/** A mapped shm region and what must be released with it. */
export class Mapping {
  readonly buffer: ArrayBuffer;
  readonly capacity: number;
  #symbols: ShmSymbols;
  #pointer: Deno.PointerObject;
  #size: number;
  /** The binder's memfd until the connecter has opened it, else -1. */
  #fd: number;
  #released = false;

  constructor(
    symbols: ShmSymbols,
    pointer: Deno.PointerObject,
    size: number,
    capacity: number,
    fd: number,
  ) {
    this.#symbols = symbols;
    this.#pointer = pointer;
    this.#size = size;
    this.capacity = capacity;
    this.#fd = fd;
    this.buffer = Deno.UnsafePointerView.getArrayBuffer(pointer, size);
  }

  /** The binder's memfd: `/proc/<pid>/fd/<fd>` is what the connecter opens. */
  get fd(): number {
    return this.#fd;
  }

  /** Closes the memfd once the connecter has mapped it (the mappings keep the memory). */
  closeFd(): void {
    if (this.#fd < 0) return;
    this.#symbols.mq_shm_close_fd(this.#fd);
    this.#fd = -1;
  }

  /** Unmaps and drops the library reference; idempotent. Views of `buffer` must be detached first. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.closeFd();
    this.#symbols.mq_shm_unmap(this.#pointer, this.#size);
    releaseShm();
  }
}

/** A {@linkcode Connection} over a shared mapping, woken through a doorbell connection. */
export class ShmConnection implements Connection, Disposable {
  readonly localEndpoint: string;
  readonly remoteEndpoint: string;
  #mapping: Mapping;
  #bell: Connection;
  #rx: RingView;
  #tx: RingView;
  #closed = false;
  #peerGone = false;
  /** Settles at the next doorbell byte, end of stream or close: every sleeper waits on it. */
  #tick!: Promise<void>;
  #wake!: () => void;
  /** The write in progress, so concurrent writes keep their order. */
  readonly #writes = new WriteChain();
  /** A doorbell byte is being written; at most one is, whatever the peer does. */
  #ringing = false;
  /** A wake-up was asked for while one was being written: write another after it. */
  #ringAgain = false;

  /**
   * @param mapping The mapped rings.
   * @param side Which rings are ours: the binder writes ring 0 and reads ring 1.
   * @param bell The Unix connection the rings were set up over.
   * @param endpoint `shm://name`, for both endpoints.
   */
  constructor(mapping: Mapping, side: "binder" | "connecter", bell: Connection, endpoint: string) {
    this.#mapping = mapping;
    this.#bell = bell;
    this.localEndpoint = endpoint;
    this.remoteEndpoint = endpoint;
    this.#rx = new RingView(mapping.buffer, side === "binder" ? 1 : 0, mapping.capacity);
    this.#tx = new RingView(mapping.buffer, side === "binder" ? 0 : 1, mapping.capacity);
    this.#arm();
    this.#pump();
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
      if (this.#peerGone) return null;
      this.#rx.park("reader");
      const again = this.#take(buffer); // the eventcount's second look, after the flag is visible
      if (again > 0) {
        this.#rx.unpark("reader");
        return again;
      }
      await this.#tick;
      if (!this.#closed) this.#rx.unpark("reader");
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
    if (n > 0 && this.#rx.shouldWake("writer")) this.#ring();
    return n;
  }

  write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#closed || this.#peerGone) {
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
      if (this.#closed || this.#peerGone) {
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
      if (room > 0) {
        this.#tx.unpark("writer");
        continue;
      }
      await this.#tick;
      if (!this.#closed) this.#tx.unpark("writer");
    }
  }

  /**
   * Copies from `at` on as far as the ring allows, publishes, and wakes a
   * parked reader; returns whether everything was copied (`at` advances).
   */
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
    if (this.#tx.shouldWake("reader")) this.#ring();
    return complete;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rx.detach();
    this.#tx.detach();
    this.#mapping.release();
    this.#bell.close();
    this.#wake();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #corrupt(err: unknown): unknown {
    if (!(err instanceof CorruptRing)) return err;
    this.close();
    return new ZmqError("ECONNRESET", err.message, { cause: err });
  }

  /**
   * Writes one doorbell byte. The parked flags live in memory the peer can
   * write, so a peer that keeps setting them and never reads its doorbell
   * would otherwise have us queue one pending write per read or write of
   * ours, without bound. So one byte at most is in flight; a wake-up asked
   * for meanwhile writes one more once it settles (not none: the peer may
   * have read the byte in flight and parked again before our new data).
   */
  #ring(): void {
    if (this.#ringing) {
      this.#ringAgain = true;
      return;
    }
    this.#ringing = true;
    // A dead peer shows as end of stream in #pump, so a failed write needs no handling here.
    this.#bell.write([BELL]).catch(() => {}).finally(() => {
      this.#ringing = false;
      if (this.#ringAgain && !this.#closed) {
        this.#ringAgain = false;
        this.#ring();
      }
    });
  }

  #arm(): void {
    this.#tick = new Promise((resolve) => this.#wake = resolve);
  }

  /** Reads the doorbell until end of stream: every byte wakes every sleeper, who look again. */
  async #pump(): Promise<void> {
    const scratch = new Uint8Array(64);
    for (;;) {
      let n: number | null;
      try {
        n = await this.#bell.read(scratch);
      } catch {
        n = null;
      }
      if (this.#closed) return;
      // The connecter's first byte says it has mapped the memfd: no need to keep it open.
      this.#mapping.closeFd();
      const wake = this.#wake;
      if (n === null) this.#peerGone = true;
      else this.#arm();
      wake();
      if (n === null) return;
    }
  }
}
