/**
 * A {@linkcode Connection} over a C-owned socket driven through the ring.
 *
 * Receive: one RECV at a time lands in a slab slot; its bytes are copied into
 * the caller's buffer (and what does not fit waits in the slot for the next
 * read). After the first `read()`, one RECV stays armed ahead of the reader
 * while at most two received slots wait, so the kernel can fill the next slot
 * while JavaScript decodes the previous one. Once a receive fills its buffer
 * (a busy stream), reads are synchronous `recv(MSG_DONTWAIT)` calls straight
 * into the reader's buffer until one finds nothing: one system call and one
 * copy, with no doorbell or wake.
 *
 * Send: one `write()` call's buffers are gathered (one copy) into slab slots
 * and sent with one SENDMSG (`MSG_WAITALL`) over those slots' iovecs, up to
 * {@linkcode MAX_SEND_SLOTS} slots per SENDMSG. Slots stay allocated until
 * the SENDMSG completes. Overlapping `write()` calls are serialised. A
 * SENDMSG carries no doorbell; the ring asks {@linkcode NativeConnection.watchSend}
 * to arm a POLLOUT watch that does when a send has to wait for room.
 *
 * @module
 */

import { ZmqError } from "../src/errors.ts";
import type { Connection } from "../src/transport/types.ts";
import { Errno, errnoError } from "./_errno.ts";
import type { Ring, SendWatcher } from "./_ring.ts";

/** Slots (of `slotSize` bytes each) gathered into one SENDMSG. */
export const MAX_SEND_SLOTS = 16;

interface PendingRead {
  buffer: Uint8Array;
  resolve: (n: number | null) => void;
  reject: (err: unknown) => void;
}

interface Segment {
  slot: number;
  off: number;
  end: number;
}

/** A native connection; created by the listener and transport only. */
export class NativeConnection implements Connection, Disposable, SendWatcher {
  readonly localEndpoint: string;
  readonly remoteEndpoint: string;
  #ring: Ring;
  #fd: number;
  #closed = false;
  #eof = false;
  #error: ZmqError | undefined;
  #reads: PendingRead[] = [];
  #segments: Segment[] = [];
  #recvOp = -1;
  #recvSlot = -1;
  #spare = -1;
  #sendOp = -1;
  #watchOp = -1;
  /** The last receive filled its slot: more is probably waiting in the socket. */
  #busy = false;
  #sendSlots = new Uint32Array(MAX_SEND_SLOTS);
  #tail: Promise<unknown> = Promise.resolve();

  constructor(ring: Ring, fd: number, localEndpoint: string, remoteEndpoint: string) {
    this.#ring = ring;
    this.#fd = fd;
    this.localEndpoint = localEndpoint;
    this.remoteEndpoint = remoteEndpoint;
    ring.track(this);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.resolve(null);
    if (this.#segments.length > 0) {
      const n = this.#copyOut(buffer);
      this.#arm();
      return Promise.resolve(n);
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#eof) return Promise.resolve(null);
    if (buffer.length === 0) return Promise.resolve(0);
    // Not ahead of earlier readers still waiting (e.g. for a free slot).
    if (this.#busy && this.#recvOp < 0 && this.#reads.length === 0) {
      const n = this.#readNow(buffer);
      if (n !== undefined) return n;
    }
    return new Promise((resolve, reject) => {
      this.#reads.push({ buffer, resolve, reject });
      this.#arm();
    });
  }

  /**
   * One synchronous recv(MSG_DONTWAIT) straight into the reader's buffer, for
   * a stream whose last receive filled its buffer: one system call and one
   * copy, as Deno's own sockets do, instead of a RECV into the slab, its
   * doorbell, a wake and a second copy. `undefined` when nothing is there yet.
   */
  #readNow(buffer: Uint8Array): Promise<number | null> | undefined {
    const ring = this.#ring;
    const n = ring.sym.mq_recv_now(this.#fd, buffer, buffer.length);
    if (n > 0) {
      this.#busy = n === buffer.length;
      return Promise.resolve(n);
    }
    this.#busy = false;
    if (n === -Errno.EAGAIN || n === -Errno.EINTR) return undefined;
    if (n === 0) {
      this.#eof = true;
      return Promise.resolve(null);
    }
    this.#fail(errnoError(-n, "Read failed", ring.describe, "ECONNRESET"));
    return Promise.reject(this.#error);
  }

  #copyOut(buffer: Uint8Array): number {
    const slab = this.#ring.slab;
    const size = this.#ring.slotSize;
    let n = 0;
    while (n < buffer.length && this.#segments.length > 0) {
      const seg = this.#segments[0];
      const k = Math.min(buffer.length - n, seg.end - seg.off);
      const start = seg.slot * size + seg.off;
      buffer.set(slab.subarray(start, start + k), n);
      n += k;
      seg.off += k;
      if (seg.off === seg.end) {
        this.#segments.shift();
        this.#releaseSlot(seg.slot);
      }
    }
    return n;
  }

  #releaseSlot(slot: number): void {
    if (this.#spare < 0 && !this.#closed) this.#spare = slot;
    else this.#ring.freeSlot(slot);
  }

  #arm = (): void => {
    if (this.#closed || this.#eof || this.#error || this.#recvOp >= 0) return;
    if (this.#segments.length >= 2) return;
    // A busy stream is read by the next read() directly (see #readNow).
    if (this.#busy && this.#reads.length === 0) return;
    const ring = this.#ring;
    let slot = this.#spare;
    if (slot >= 0) {
      this.#spare = -1;
    } else {
      slot = ring.allocSlot();
      if (slot < 0) {
        ring.slotsFreed().then(this.#arm);
        return;
      }
    }
    let op: number;
    try {
      op = ring.allocOp();
    } catch (err) {
      ring.freeSlot(slot);
      this.#fail(err as ZmqError);
      return;
    }
    const rc = ring.sym.mq_prep_recv(ring.ctx, op, this.#fd, slot, 0, ring.slotSize);
    if (rc < 0) {
      ring.releaseOp(op);
      ring.freeSlot(slot);
      this.#fail(errnoError(-rc, "Read failed", ring.describe, "ECONNRESET"));
      return;
    }
    this.#recvOp = op;
    this.#recvSlot = slot;
    // Lazy only when no reader waits: an armed-ahead receive can ride along
    // with the next send's submission.
    ring.start(op, this.#onRecv, this.#reads.length === 0);
  };

  #onRecv = (res: number): void => {
    const slot = this.#recvSlot;
    this.#recvOp = -1;
    this.#recvSlot = -1;
    if (this.#closed) {
      this.#ring.freeSlot(slot);
      return;
    }
    this.#received(slot, res);
    if (res > 0) this.#arm();
  };

  /** Hands a receive's result (bytes, 0 at end of stream, or -errno) to the readers. */
  #received(slot: number, res: number): void {
    if (res > 0) {
      this.#busy = res === this.#ring.slotSize;
      this.#segments.push({ slot, off: 0, end: res });
      while (this.#reads.length > 0 && this.#segments.length > 0) {
        const read = this.#reads.shift()!;
        read.resolve(this.#copyOut(read.buffer));
      }
      return;
    }
    this.#busy = false;
    this.#releaseSlot(slot);
    if (res === 0 || res === -Errno.ECANCELED) {
      this.#eof = true;
      for (const read of this.#reads.splice(0)) read.resolve(null);
    } else {
      this.#fail(errnoError(-res, "Read failed", this.#ring.describe, "ECONNRESET"));
    }
  }

  #fail(err: ZmqError): void {
    this.#error ??= err;
    for (const read of this.#reads.splice(0)) read.reject(this.#error);
  }

  write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new ZmqError("ECONNRESET", "Write on a closed connection"));
    }
    const result = this.#tail.then(() => this.#writeNow(buffers));
    this.#tail = result.catch(() => {});
    return result;
  }

  async #writeNow(buffers: readonly Uint8Array[]): Promise<void> {
    let left = 0;
    for (const buffer of buffers) left += buffer.byteLength;
    const ring = this.#ring;
    const size = ring.slotSize;
    const slots = this.#sendSlots;
    let index = 0;
    let offset = 0;
    while (left > 0) {
      if (this.#closed || ring.closed) throw closedDuringWrite();
      let got = ring.allocSlots(slots, Math.min(MAX_SEND_SLOTS, Math.ceil(left / size)));
      while (got === 0) {
        await ring.slotsFreed();
        if (this.#closed || ring.closed) throw closedDuringWrite();
        got = ring.allocSlots(slots, Math.min(MAX_SEND_SLOTS, Math.ceil(left / size)));
      }
      const chunk = Math.min(left, got * size);
      // Gather: the one copy from the caller's buffers into slab slots.
      const slab = ring.slab;
      let copied = 0;
      for (let i = 0; copied < chunk; i++) {
        let dst = slots[i] * size;
        let room = Math.min(size, chunk - copied);
        while (room > 0) {
          const buffer = buffers[index];
          const k = Math.min(room, buffer.byteLength - offset);
          if (k > 0) {
            slab.set(
              offset === 0 && k === buffer.byteLength
                ? buffer
                : buffer.subarray(offset, offset + k),
              dst,
            );
          }
          dst += k;
          room -= k;
          copied += k;
          offset += k;
          if (offset === buffer.byteLength) {
            index++;
            offset = 0;
          }
        }
      }
      await this.#send(got, chunk);
      left -= chunk;
    }
  }

  /** One SENDMSG of `total` bytes packed in `#sendSlots[0..n)`, resumed after a short send. */
  #send(n: number, total: number): Promise<void> {
    const ring = this.#ring;
    return new Promise<void>((resolve, reject) => {
      let done = 0;
      const finish = (err?: ZmqError) => {
        this.#sendOp = -1;
        ring.sendDone(this);
        ring.freeSlots(this.#sendSlots, n);
        if (err) reject(err);
        else resolve();
      };
      const onSent = (res: number) => {
        this.#sendOp = -1;
        if (res > 0) {
          done += res;
          if (done >= total) finish();
          else if (this.#closed) finish(closedDuringWrite());
          else submit();
        } else if (this.#closed || res === -Errno.ECANCELED) {
          finish(closedDuringWrite());
        } else {
          const errno = res === 0 ? Errno.EPIPE : -res;
          finish(errnoError(errno, "Write failed", ring.describe, "ECONNRESET"));
        }
      };
      const submit = () => {
        let op: number;
        try {
          op = ring.allocOp();
        } catch (err) {
          finish(err as ZmqError);
          return;
        }
        const rc = ring.sym.mq_prep_send(
          ring.ctx,
          op,
          this.#fd,
          this.#sendSlots,
          n,
          done,
          total,
        );
        if (rc < 0) {
          ring.releaseOp(op);
          finish(errnoError(-rc, "Write failed", ring.describe, "ECONNRESET"));
          return;
        }
        this.#sendOp = op;
        ring.sendStarted(this);
        ring.start(op, onSent);
      };
      submit();
    });
  }

  watchSend(): void {
    if (this.#closed || this.#sendOp < 0 || this.#watchOp >= 0) return;
    const ring = this.#ring;
    let op: number;
    try {
      op = ring.allocOp();
    } catch {
      return; // Out of op ids: the send's completion is seen at the next wake.
    }
    if (ring.sym.mq_prep_pollout(ring.ctx, op, this.#fd) < 0) {
      ring.releaseOp(op);
      return;
    }
    this.#watchOp = op;
    ring.start(op, this.#onWatch);
  }

  #onWatch = (): void => {
    this.#watchOp = -1;
  };

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const ring = this.#ring;
    for (const read of this.#reads.splice(0)) read.resolve(null);
    if (this.#recvOp >= 0) ring.cancel(this.#recvOp);
    if (this.#sendOp >= 0) ring.cancel(this.#sendOp);
    if (this.#watchOp >= 0) ring.cancel(this.#watchOp);
    ring.sendDone(this);
    // Submit before closing: submitted operations keep their own reference
    // to the socket, and the fd number must not be reused under a prepared SQE.
    ring.flushNow();
    ring.closeFd(this.#fd);
    for (const seg of this.#segments.splice(0)) ring.freeSlot(seg.slot);
    if (this.#spare >= 0) ring.freeSlot(this.#spare);
    this.#spare = -1;
    ring.untrack(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function closedDuringWrite(): ZmqError {
  return new ZmqError("ECONNRESET", "Connection closed during write");
}
