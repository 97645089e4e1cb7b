/**
 * The engine behind {@linkcode NativeLibrary}: one `libmonocoque.so` handle,
 * one io_uring, one slab. It hands out operation ids (the SQE `user_data`),
 * submits everything prepared in a turn with one `io_uring_enter`, reads
 * completions straight from the mmapped CQ through views made once at start,
 * and parks on the doorbell (a Deno-native unix socket that the kernel writes
 * to after each completion JavaScript waits for, through a hard-linked SEND)
 * or, without one, on a `nonblocking` `io_uring_enter` wait on Deno's pool.
 * Sends carry no doorbell (see {@linkcode SendWatcher}); a turn that sends to
 * many peers gets one, and receives armed ahead ride along with the turn's
 * next submission. `ffi/README.md` has the system-call model behind this.
 *
 * Memory note: `mq_recv_now` is the one call given JavaScript memory; it is
 * synchronous, so the kernel is done with the buffer when it returns.
 *
 * Memory rules: the kernel only ever sees slab slots and C-owned op storage;
 * a slot handed to an operation stays allocated until that operation's
 * completion has been reaped; the slab and the ring are unmapped only by
 * {@linkcode Ring.close}, after every operation has completed.
 *
 * @module
 */

import { ZmqError } from "../src/errors.ts";
import { macrotask } from "../src/socket/_macrotask.ts";
import { Errno, errnoError } from "./_errno.ts";
import { ABI_VERSION, SYMBOLS, type Symbols } from "./_symbols.ts";

/** How a parked pump is woken. */
export type Wake = "doorbell" | "wait";

/** Sizes and choices for {@linkcode Ring.open}. */
export interface RingOptions {
  path: string;
  slotSize: number;
  slotCount: number;
  submissionEntries: number;
  completionEntries: number;
  maxOperations: number;
  wake: Wake;
}

/** Called once with the completion's `res` (bytes, fd, or `-errno`). */
export type Handler = (res: number) => void;

/**
 * A connection with a send in flight. Sends carry no doorbell (most complete
 * inline, inside the `io_uring_enter` that submits them); before the pump
 * parks, each one still in flight is asked to arm a POLLOUT watch that does.
 */
export interface SendWatcher {
  /** Arms the connection's POLLOUT+doorbell watch unless one is armed already. */
  watchSend(): void;
}

/** Something the ring closes when the library closes. */
export interface Closable {
  close(): void;
}

const IORING_SQ_CQ_OVERFLOW = 2;
/** Sends in one turn from which the turn gets its own doorbell (see #flushTask). */
const TURN_BELL_SENDS = 4;
const ignore: Handler = () => {};
const DRAIN_TIMEOUT_MS = 5000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated copy of `text` for a `const char *` parameter. */
export function cstr(text: string): Uint8Array {
  if (text.includes("\0")) throw new ZmqError("EINVAL", "Path or host contains a NUL character");
  return encoder.encode(text + "\0");
}

/** Decodes a NUL-terminated C string written into `buffer`. */
export function fromCstr(buffer: Uint8Array): string {
  const end = buffer.indexOf(0);
  return decoder.decode(end < 0 ? buffer : buffer.subarray(0, end));
}

interface Held {
  dylib: Deno.DynamicLibrary<typeof SYMBOLS>;
  ctx: Deno.PointerObject;
  state: { destroyed: boolean };
}

/* Safety net only: a ring nobody closed is torn down when collected. It is
 * unreachable only if no pump is parked (a parked pump references it), but
 * the slab is leaked anyway in case a completion is still due. */
const finalizer = new FinalizationRegistry<Held>((held) => {
  if (held.state.destroyed) return;
  held.state.destroyed = true;
  try {
    held.dylib.symbols.mq_destroy(held.ctx, 1);
    held.dylib.close();
  } catch {
    // Nothing more can be done from a finalizer.
  }
});

const RINGS = new WeakMap<object, Ring>();

/** Associates a public handle with its ring. */
export function attachRing(handle: object, ring: Ring): void {
  RINGS.set(handle, ring);
}

/** The ring behind a public handle (a `NativeLibrary`). */
export function ringOf(handle: object): Ring {
  const ring = RINGS.get(handle);
  if (!ring) throw new TypeError("Not a NativeLibrary");
  return ring;
}

/** One library handle, ring and slab. */
export class Ring {
  /** The library's symbols. */
  readonly sym: Symbols;
  /** The `mq_ctx *`. */
  readonly ctx: Deno.PointerObject;
  /** Path the library was loaded from. */
  readonly path: string;
  /** Bytes per slot. */
  readonly slotSize: number;
  /** Slots in the slab. */
  readonly slotCount: number;
  /** The whole slab (empty once destroyed, so a stray access throws instead of faulting). */
  slab: Uint8Array;
  /** Operations submitted (or prepared) and not yet reaped. */
  inflight = 0;
  /** Set by {@linkcode Ring.close}: no new operations. */
  closed = false;
  /** Set once the ring is unmapped: no FFI call at all. */
  destroyed = false;

  #dylib: Deno.DynamicLibrary<typeof SYMBOLS>;
  #held: Held;
  #ringU32: Uint32Array;
  #ringI32: Int32Array;
  #cqHead: number;
  #cqTail: number;
  #cqMask: number;
  #cqes: number;
  #sqFlags: number;
  #maxOps: number;
  #handlers: (Handler | undefined)[] = [];
  #freeOps: number[] = [];
  #nextOp = 0;
  #wakePref: Wake;
  #bell: Deno.UnixConn | undefined;
  #bellBuf = new Uint8Array(4096);
  #ready: Promise<void> | undefined;
  #pump: Promise<void> = Promise.resolve();
  #pumping = false;
  #waitCall: Promise<number> | undefined;
  #flushQueued = false;
  #turnQueued = false;
  #sendsThisTurn = 0;
  #resources = new Set<Closable>();
  #sending = new Set<SendWatcher>();
  #slotWaiters: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #closing: Promise<void> | undefined;
  #errText = new Uint8Array(256);
  #stats = new Uint32Array(4);

  private constructor(
    dylib: Deno.DynamicLibrary<typeof SYMBOLS>,
    ctx: Deno.PointerObject,
    options: RingOptions,
  ) {
    this.#dylib = dylib;
    this.sym = dylib.symbols;
    this.ctx = ctx;
    this.path = options.path;
    this.#wakePref = options.wake;
    const layout = new Uint32Array(16);
    this.sym.mq_layout(ctx, layout);
    const [ringSize, cqHead, cqTail, cqMaskOff, , cqes, sqFlags, , slotSize, slotCount, maxOps] =
      layout;
    const ringPtr = this.sym.mq_ring_ptr(ctx)!;
    const ringBuf = Deno.UnsafePointerView.getArrayBuffer(ringPtr, ringSize);
    this.#ringU32 = new Uint32Array(ringBuf);
    this.#ringI32 = new Int32Array(ringBuf);
    this.#cqHead = cqHead >>> 2;
    this.#cqTail = cqTail >>> 2;
    this.#cqMask = this.#ringU32[cqMaskOff >>> 2];
    this.#cqes = cqes >>> 2;
    this.#sqFlags = sqFlags >>> 2;
    this.slotSize = slotSize;
    this.slotCount = slotCount;
    this.#maxOps = maxOps;
    const slabPtr = this.sym.mq_slab_ptr(ctx)!;
    this.slab = new Uint8Array(
      Deno.UnsafePointerView.getArrayBuffer(slabPtr, slotSize * slotCount),
    );
    this.#held = { dylib, ctx, state: { destroyed: false } };
    finalizer.register(this, this.#held, this);
  }

  /** Loads the library and creates the ring; throws an `Error` saying why it cannot. */
  static open(options: RingOptions): Ring {
    let dylib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      dylib = Deno.dlopen(options.path, SYMBOLS);
    } catch (err) {
      throw new Error(`Cannot load ${options.path}: ${(err as Error)?.message ?? err}`, {
        cause: err,
      });
    }
    try {
      const version = dylib.symbols.mq_version();
      if (version !== ABI_VERSION) {
        throw new Error(
          `${options.path} has ABI version ${version}, expected ${ABI_VERSION}: rebuild it with \`deno task build:native\``,
        );
      }
      const ctx = dylib.symbols.mq_create(
        options.submissionEntries,
        options.completionEntries,
        options.slotSize,
        options.slotCount,
        options.maxOperations,
      );
      if (ctx === null) {
        const errno = dylib.symbols.mq_errno();
        const text = describeWith(dylib.symbols, errno);
        if (errno === Errno.EPERM || errno === Errno.EACCES) {
          throw new Error(
            `io_uring is not permitted here (seccomp, or /proc/sys/kernel/io_uring_disabled): ${text}`,
          );
        }
        if (errno === Errno.ENOSYS) throw new Error(`This kernel has no usable io_uring: ${text}`);
        throw new Error(`Cannot create an io_uring: ${text}`);
      }
      return new Ring(dylib, ctx, options);
    } catch (err) {
      dylib.close();
      throw err;
    }
  }

  /** The mechanism parked pumps use now. */
  get wake(): Wake {
    return this.#bell ? "doorbell" : "wait";
  }

  /** `strerror` text of an errno. */
  describe = (errno: number): string => {
    if (this.destroyed) return `errno ${errno}`;
    const n = this.sym.mq_strerror(errno, this.#errText, this.#errText.length);
    return decoder.decode(this.#errText.subarray(0, n));
  };

  /** Throws `ETERM` once the library is closing. */
  checkOpen(): void {
    if (this.closed) throw new ZmqError("ETERM", "The native library is closed");
  }

  /**
   * Sets up the doorbell once (first listen/connect), before any operation
   * exists, so every operation is linked to it. Falls back to the pool wait
   * when `--allow-net` (needed to connect to the abstract unix socket) is not
   * granted.
   */
  ready(): Promise<void> {
    return this.#ready ??= this.#setupBell();
  }

  async #setupBell(): Promise<void> {
    if (this.#wakePref !== "doorbell") return;
    if (Deno.permissions.querySync({ name: "net" }).state !== "granted") return;
    const name = new Uint8Array(108);
    const n = this.sym.mq_bell_listen(this.ctx, name, name.length);
    if (n < 0) return;
    let conn: Deno.UnixConn;
    try {
      conn = await Deno.connect({
        transport: "unix",
        path: "\0" + decoder.decode(name.subarray(0, n)),
      });
    } catch {
      if (!this.destroyed) this.sym.mq_bell_cancel(this.ctx);
      return;
    }
    if (this.closed || this.sym.mq_bell_accept(this.ctx) < 0) {
      conn.close();
      return;
    }
    this.#bell = conn;
  }

  // ---- operations ----

  /** A free operation id (not yet in flight). */
  allocOp(): number {
    const op = this.#freeOps.pop();
    if (op !== undefined) return op;
    if (this.#nextOp >= this.#maxOps) {
      throw new ZmqError("EAGAIN", `More than ${this.#maxOps} native operations in flight`);
    }
    return this.#nextOp++;
  }

  /** Returns an id whose preparation failed. */
  releaseOp(op: number): void {
    this.#freeOps.push(op);
  }

  /**
   * Marks a prepared operation in flight; `handler` runs when it completes.
   * A `lazy` operation (a receive armed ahead) is submitted with whatever the
   * rest of the turn prepares, e.g. the reply that follows a request, or one
   * macrotask later: one `io_uring_enter` per round trip instead of two.
   */
  start(op: number, handler: Handler, lazy = false): void {
    this.#handlers[op] = handler;
    this.inflight++;
    if (!lazy) {
      this.#scheduleFlush();
    } else if (!this.#turnQueued) {
      this.#turnQueued = true;
      macrotask(this.#afterTurn);
    }
  }

  /** Marks a connection as having a send in flight (see {@linkcode SendWatcher}). */
  sendStarted(conn: SendWatcher): void {
    this.#sending.add(conn);
    this.#sendsThisTurn++;
  }

  /** The connection's sends have all completed. */
  sendDone(conn: SendWatcher): void {
    this.#sending.delete(conn);
  }

  /** Asks the kernel to cancel an in-flight operation (it completes with `-ECANCELED`). */
  cancel(op: number): void {
    if (!this.destroyed && this.#handlers[op]) this.sym.mq_prep_cancel(this.ctx, op);
  }

  /** Submits everything prepared so far, now. */
  flushNow(): void {
    if (!this.destroyed) this.#submit();
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(this.#flushTask);
  }

  #flushTask = (): void => {
    this.#flushQueued = false;
    if (this.destroyed) return;
    // A turn that sends to many peers (fan-out) gets one doorbell of its own,
    // a NOP linked to it: the pump then reaps every send of the turn at the
    // next poll of the event loop, which lets the next batches grow as large
    // as a per-send doorbell did, for one doorbell instead of one per peer.
    const spread = this.#sendsThisTurn >= TURN_BELL_SENDS && this.#bell !== undefined;
    this.#sendsThisTurn = 0;
    if (spread) this.#turnBell();
    this.#submit();
    if (!spread && this.#sending.size > 0 && this.#bell !== undefined && !this.#turnQueued) {
      this.#turnQueued = true;
      macrotask(this.#afterTurn);
    }
    if (this.inflight > 0) this.#startPump();
  };

  /**
   * Runs one macrotask after sends were submitted without a doorbell (or a
   * lazy operation was prepared): submits what is still pending, reaps
   * those that completed inside the io_uring_enter, and arms a POLLOUT watch
   * (which does ring) for any still waiting for room, since a parked pump
   * would not see them otherwise. Not reaping in the submitting microtask is
   * deliberate: a write() that resolved at once would make the socket layer
   * flush again within the same turn, in smaller batches (measured on
   * PUB→100 SUB: 0.48 send completions and 35 µs CPU per published message
   * instead of 0.14 and 24 µs).
   */
  #afterTurn = (): void => {
    this.#turnQueued = false;
    if (this.destroyed) return;
    this.#submit();
    this.#reap();
    if (this.#bell !== undefined) this.#watchSends();
    if (this.inflight > 0) this.#startPump();
  };

  #turnBell(): void {
    let op: number;
    try {
      op = this.allocOp();
    } catch {
      return;
    }
    if (this.sym.mq_prep_nop(this.ctx, op) < 0) {
      this.releaseOp(op);
      return;
    }
    this.#handlers[op] = ignore;
    this.inflight++;
  }

  /** Arms a watch for every send still in flight; true if that prepared SQEs. */
  #watchSends(): boolean {
    if (this.#sending.size === 0) return false;
    for (const conn of this.#sending) conn.watchSend();
    if (!this.#pendingSqes()) return false;
    this.#submit();
    return true;
  }

  #startPump(): void {
    if (this.#pumping || this.destroyed) return;
    // Set before the call: the pump may run to completion synchronously.
    this.#pumping = true;
    this.#pump = this.#runPump();
  }

  #submit(): void {
    const rc = this.sym.mq_submit(this.ctx);
    // -EBUSY/-EAGAIN: the kernel wants completions reaped first; the pump retries.
    if (rc < 0 && rc !== -Errno.EBUSY && rc !== -Errno.EAGAIN && rc !== -Errno.EINTR) {
      reportError(errnoError(-rc, "io_uring_enter failed", this.describe, "EAGAIN"));
    }
  }

  #pendingSqes(): boolean {
    return this.sym.mq_stats(this.ctx, this.#stats) > 0 && this.#stats[2] > 0;
  }

  #cqReady(): boolean {
    const u32 = this.#ringU32;
    return Atomics.load(u32, this.#cqTail) !== u32[this.#cqHead] ||
      (Atomics.load(u32, this.#sqFlags) & IORING_SQ_CQ_OVERFLOW) !== 0;
  }

  /** Dispatches every completion in the CQ. */
  #reap(): void {
    const u32 = this.#ringU32;
    const i32 = this.#ringI32;
    const mask = this.#cqMask;
    const cqes = this.#cqes;
    const maxOps = this.#maxOps;
    let head = u32[this.#cqHead];
    let tail = Atomics.load(u32, this.#cqTail);
    while (head !== tail) {
      const base = cqes + ((head & mask) << 2);
      const op = u32[base];
      const high = u32[base + 1];
      const res = i32[base + 2];
      head = (head + 1) >>> 0;
      Atomics.store(u32, this.#cqHead, head);
      // Doorbell and cancel CQEs (posted only on failure) carry reserved ids.
      if (high === 0 && op < maxOps) {
        const handler = this.#handlers[op];
        if (handler !== undefined) {
          this.#handlers[op] = undefined;
          this.#freeOps.push(op);
          this.inflight--;
          try {
            handler(res);
          } catch (err) {
            reportError(err);
          }
        }
      }
      if (head === tail) tail = Atomics.load(u32, this.#cqTail);
    }
  }

  async #runPump(): Promise<void> {
    try {
      while (!this.destroyed) {
        this.#submit();
        this.#reap();
        if (this.inflight === 0) break;
        if (this.#cqReady()) continue;
        // Sends left waiting for room have no doorbell of their own.
        if (this.#bell !== undefined && this.#watchSends()) continue;
        if (this.#bell !== undefined) {
          let n: number | null = null;
          try {
            n = await this.#bell.read(this.#bellBuf);
          } catch {
            n = null;
          }
          if (n === null && !this.destroyed) this.#bell = undefined;
        } else {
          const call = this.sym.mq_wait(this.ctx, 1);
          this.#waitCall = call;
          const rc = await call;
          this.#waitCall = undefined;
          if (rc < 0 && rc !== -Errno.EINTR && rc !== -Errno.EAGAIN && rc !== -Errno.EBUSY) {
            // Not expected; avoid a hot loop while reporting it.
            reportError(errnoError(-rc, "io_uring wait failed", this.describe, "EAGAIN"));
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        }
      }
    } finally {
      this.#pumping = false;
      if (this.inflight === 0) {
        for (const resolve of this.#drainWaiters.splice(0)) resolve();
      } else if (!this.destroyed && !this.#flushQueued) {
        this.#scheduleFlush();
      }
    }
  }

  // ---- slab ----

  /** One slot, or -1 when the slab is exhausted. */
  allocSlot(): number {
    const slot = this.sym.mq_slot_alloc(this.ctx);
    return slot < 0 ? -1 : slot;
  }

  /** Up to `n` slots into `out`; returns how many. */
  allocSlots(out: Uint32Array, n: number): number {
    return this.sym.mq_slots_alloc(this.ctx, out, n);
  }

  /** Returns a slot whose operation has completed. */
  freeSlot(slot: number): void {
    if (this.destroyed) return;
    this.sym.mq_slot_free(this.ctx, slot);
    this.#wakeSlotWaiters();
  }

  /** Returns `slots[0..n)`. */
  freeSlots(slots: Uint32Array, n: number): void {
    if (this.destroyed) return;
    this.sym.mq_slots_free(this.ctx, slots, n);
    this.#wakeSlotWaiters();
  }

  /** Resolves when a slot is freed (or the library closes). */
  slotsFreed(): Promise<void> {
    return new Promise((resolve) => this.#slotWaiters.push(resolve));
  }

  #wakeSlotWaiters(): void {
    if (this.#slotWaiters.length > 0) {
      for (const resolve of this.#slotWaiters.splice(0)) resolve();
    }
  }

  // ---- sockets ----

  /** Counts an accepted fd as ours and sets `TCP_NODELAY`. */
  adopt(fd: number): void {
    this.sym.mq_adopt(this.ctx, fd);
  }

  /** Closes a socket (submit first: in-flight operations hold their own reference). */
  closeFd(fd: number): void {
    if (this.destroyed) return;
    this.sym.mq_shutdown(fd);
    this.sym.mq_close_fd(this.ctx, fd);
  }

  /** Registers something to close when the library closes. */
  track(resource: Closable): void {
    this.#resources.add(resource);
  }

  /** Forgets a closed resource. */
  untrack(resource: Closable): void {
    this.#resources.delete(resource);
  }

  /** Slots in use, sockets open, SQEs not yet submitted, doorbell up (1/0). */
  stats(): Uint32Array {
    if (!this.destroyed) this.sym.mq_stats(this.ctx, this.#stats);
    return this.#stats;
  }

  // ---- shutdown ----

  /**
   * Closes every resource, waits until every operation has completed (so no
   * buffer is still pinned by the kernel), kicks and awaits a pending wait
   * call, then unmaps and unloads.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    this.closed = true;
    await this.#ready?.catch(() => {});
    for (const resource of [...this.#resources]) resource.close();
    for (let op = 0; op < this.#handlers.length; op++) this.cancel(op);
    this.#submit();
    this.#wakeSlotWaiters();
    if (this.inflight > 0) {
      this.#startPump();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#drainWaiters.push(resolve)),
        new Promise<void>((resolve) => timer = setTimeout(resolve, DRAIN_TIMEOUT_MS)),
      ]);
      clearTimeout(timer);
    }
    const leak = this.inflight > 0 ? 1 : 0;
    this.destroyed = true;
    this.#held.state.destroyed = true;
    if (this.#waitCall !== undefined) {
      // A pool thread is inside io_uring_enter: closing the library under it
      // crashes the process. Post a completion so it returns, and await it.
      this.sym.mq_prep_nop(this.ctx, this.#maxOps - 1);
      this.sym.mq_submit(this.ctx);
      await this.#waitCall.catch(() => {});
    }
    try {
      this.#bell?.close();
    } catch {
      // Already closed.
    }
    this.#bell = undefined;
    await this.#pump.catch(() => {});
    this.slab = new Uint8Array(0);
    this.#ringU32 = new Uint32Array(0);
    this.#ringI32 = new Int32Array(0);
    finalizer.unregister(this);
    this.sym.mq_destroy(this.ctx, leak);
    this.#dylib.close();
    if (leak) {
      throw new ZmqError(
        "ETERM",
        `${this.inflight} native operations did not complete within ${DRAIN_TIMEOUT_MS} ms; their buffers were leaked`,
      );
    }
  }
}

function describeWith(sym: Symbols, errno: number): string {
  const buf = new Uint8Array(256);
  const n = sym.mq_strerror(errno, buf, buf.length);
  return decoder.decode(buf.subarray(0, n));
}
