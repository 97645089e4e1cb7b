/**
 * A pipe is one peer of a socket: its outgoing queue (bounded by the send
 * high-water mark), its incoming queue inside the socket's fair queue
 * (bounded by the receive high-water mark), and, while connected, the ZMTP
 * session and connection that carry them. A pipe made by `connect()` lives
 * across reconnects, so messages queued while the peer is away are kept (as
 * libzmq does); a pipe made by an accepted connection dies with it.
 *
 * The pipe drives the sans-IO session: it reads into pooled chunks, feeds the
 * session, hands events to its owner, gathers everything the session wants to
 * write into one transport write per turn, and runs the session's timer.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { Session } from "../protocol/session.ts";
import type { PeerInfo, SessionEvent } from "../protocol/session.ts";
import type { SocketType } from "../protocol/socket_type.ts";
import type { Connection } from "../transport/types.ts";
import type { FairQueueSource } from "./_routing/fair_queue.ts";
import type { SubscriptionTable } from "./_routing/subscription_table.ts";
import type { Message } from "./_message.ts";
import type { ResolvedOptions } from "./options.ts";

/** What a pipe reports to the socket that owns it. */
export interface PipeOwner {
  readonly type: SocketType;
  readonly options: ResolvedOptions;
  /** The session completed its handshake; return false to refuse the peer. */
  pipeReady(pipe: Pipe): boolean;
  /** A message arrived. */
  pipeMessage(pipe: Pipe, frames: Message): void;
  /** A SUBSCRIBE or CANCEL command arrived. */
  pipeSubscription(pipe: Pipe, topic: Uint8Array, subscribe: boolean): void;
  /** The pipe's outgoing queue went from full to having room. */
  pipeWritable(pipe: Pipe): void;
  /** Whether the application waits in `receive()` (so it is not producing messages). */
  readonly receiving: boolean;
  /** Whether received messages wait for the application (so it will produce more soon). */
  readonly backlog: boolean;
  /** The handshake failed. */
  pipeHandshakeFailed(pipe: Pipe, event: Extract<SessionEvent, { type: "error" }>): void;
}

/** How a connection ended. */
export interface PipeEnd {
  reason: string;
  error?: Error;
}

/**
 * Largest read chunk (the study's 256 KiB: a 64 KiB frame then usually lies
 * wholly inside one and comes out as a view); reads start at FIRST_READ bytes
 * and double while they fill the chunk.
 */
const CHUNK = 256 * 1024;
const FIRST_READ = 4 * 1024;
/** Bytes of encoded messages per transport write: enough to amortise a write, small enough to stay fair. */
const FLUSH_BYTES = 256 * 1024;

/** One peer of a socket. */
export class Pipe {
  readonly owner: PipeOwner;
  /** The endpoint this pipe belongs to: the connect endpoint, or the listener's endpoint. */
  readonly endpoint: string;
  /** A routing id given with `connect(endpoint, { routingId })`. */
  readonly connectRoutingId: Uint8Array | undefined;

  /** Whether the socket's routing policy currently includes this pipe. */
  attached = false;
  /** The pipe's FIFO in the socket's fair queue, while attached. */
  inbox: FairQueueSource<Pipe, Message> | undefined;
  /** The peer's subscriptions (PUB, XPUB). */
  subscriptions: SubscriptionTable | undefined;
  /** The routing id a ROUTER knows this peer by. */
  routingId: Uint8Array | undefined;
  /** The handshake's result, while connected. */
  peer: PeerInfo | undefined;

  #out: Message[] = [];
  #outHead = 0;
  #conn: Connection | undefined;
  #session: Session | undefined;
  #writing = false;
  #flushQueued = false;
  #closed = false;
  #paused: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #end: ((end: PipeEnd) => void) | undefined;
  #drained: (() => void) | undefined;
  /** Writes completed on this pipe, across connections: the progress congestion waits for. */
  #writesDone = 0;
  /** `#writesDone` when a sender last waited for this pipe to drain. */
  #waitedAt = -1;
  #rx: Uint8Array = new Uint8Array(0);
  #rxUsed = 0;
  #rxSize = FIRST_READ;

  constructor(
    owner: PipeOwner,
    endpoint: string,
    connectRoutingId?: Uint8Array,
  ) {
    this.owner = owner;
    this.endpoint = endpoint;
    this.connectRoutingId = connectRoutingId;
  }

  /** Whether a connection has completed its handshake. */
  get ready(): boolean {
    return this.peer !== undefined && this.#session !== undefined;
  }

  /** Whether the pipe has a connection (handshaking or ready). */
  get connected(): boolean {
    return this.#conn !== undefined;
  }

  /** Messages waiting to be encoded. */
  get queued(): number {
    return this.#out.length - this.#outHead;
  }

  /** Whether the outgoing queue is under the send high-water mark. */
  hasRoom(): boolean {
    const hwm = this.owner.options.sendHighWaterMark;
    return hwm === 0 || this.#out.length - this.#outHead < hwm;
  }

  /**
   * Whether a sender that found this pipe full should let I/O run and retry
   * before dropping: a write is in flight (or about to be) and the pipe's
   * writes moved since a sender last waited for it. A peer that keeps up then
   * drains between a burst's messages as libzmq's I/O thread drains its pipes
   * concurrently; a peer that stopped reading completes no write, so the next
   * sender drops at once and never waits for it again until it reads.
   */
  congested(): boolean {
    if (this.hasRoom() || this.#conn === undefined || this.peer === undefined) return false;
    if (!this.#writing && !this.#flushQueued) return false;
    if (this.#writesDone === this.#waitedAt) return false;
    this.#waitedAt = this.#writesDone;
    return true;
  }

  /** Completed writes so far; a sender compares it before and after letting I/O run. */
  get writesDone(): number {
    return this.#writesDone;
  }

  /** Queues a message for this peer. The caller checked {@linkcode hasRoom} where it matters. */
  enqueue(frames: Message): void {
    if (this.#closed) return;
    if (this.owner.options.conflate) {
      this.#out.length = 0;
      this.#outHead = 0;
    }
    this.#out.push(frames);
    this.#scheduleFlush();
  }

  /** Sends a SUBSCRIBE (or CANCEL) to the peer, if connected. */
  subscribe(topic: Uint8Array, subscribe: boolean): void {
    const s = this.#session;
    if (s === undefined || this.peer === undefined) return;
    if (subscribe) s.subscribe(topic);
    else s.cancel(topic);
    this.#scheduleFlush();
  }

  /** Drops every queued outgoing message. */
  discard(): void {
    this.#out.length = 0;
    this.#outHead = 0;
  }

  /** Pauses reading when the socket's queue for this peer is full; resumes otherwise. */
  checkInbound(): void {
    const resume = this.#paused;
    if (resume === undefined) return;
    const hwm = this.owner.options.receiveHighWaterMark;
    if (hwm !== 0 && (this.inbox?.size ?? 0) >= hwm) return;
    this.#paused = undefined;
    resume();
  }

  /**
   * Runs a session over `conn` until it ends; resolves with how it ended.
   * Never rejects.
   */
  run(conn: Connection, now: number): Promise<PipeEnd> {
    const o = this.owner.options;
    this.#conn = conn;
    this.#session = new Session({
      socketType: this.owner.type,
      now,
      routingId: o.routingId,
      maxMessageSize: o.maxMessageSize,
      handshakeInterval: o.handshakeInterval,
      heartbeatInterval: o.heartbeatInterval,
      heartbeatTimeout: o.heartbeatTimeout,
      heartbeatTimeToLive: o.heartbeatTimeToLive,
      onMessage: (frames) => this.owner.pipeMessage(this, frames),
    });
    const done = new Promise<PipeEnd>((resolve) => (this.#end = resolve));
    this.#flush();
    this.#armTimer();
    this.#readLoop(conn);
    return done;
  }

  /** Ends the current connection (if any) with `reason`. */
  drop(reason: string, error?: Error): void {
    this.#finish({ reason, error });
  }

  /** Whether messages wait to be written on the current connection. */
  get pending(): boolean {
    return this.connected && (this.queued > 0 || this.#writing);
  }

  /** Waits until queued messages are written or `ms` pass (-1: no bound). */
  async drain(ms: number): Promise<void> {
    if (!this.pending) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#drained = resolve;
      if (ms >= 0) timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.#drained = undefined;
  }

  /** Closes the pipe for good: ends any connection and drops queued messages. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.discard();
    this.drop(reason);
  }

  #finish(end: PipeEnd, last: Uint8Array[] = []): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    this.#conn = undefined;
    this.#session?.close();
    this.#session = undefined;
    this.peer = undefined;
    this.#writing = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (last.length === 0) conn.close();
    else closeAfter(conn, last);
    const resume = this.#paused;
    this.#paused = undefined;
    resume?.();
    this.#drained?.();
    const settle = this.#end;
    this.#end = undefined;
    settle?.(end);
  }

  async #readLoop(conn: Connection): Promise<void> {
    try {
      while (this.#conn === conn) {
        const hwm = this.owner.options.receiveHighWaterMark;
        if (hwm !== 0 && this.inbox !== undefined && this.inbox.size >= hwm) {
          await new Promise<void>((resolve) => (this.#paused = resolve));
          continue;
        }
        if (this.#rx.length - this.#rxUsed < this.#rxSize >> 2) {
          // Views of the old chunk may be in user hands: never overwrite it.
          this.#rx = new Uint8Array(this.#rxSize);
          this.#rxUsed = 0;
        }
        const view = this.#rx.subarray(this.#rxUsed);
        const n = await conn.read(view);
        if (this.#conn !== conn) return;
        if (n === null) {
          this.#finish({ reason: "Connection closed by peer" });
          return;
        }
        if (n === view.length && this.#rxSize < CHUNK) this.#rxSize *= 2;
        this.#rxUsed += n;
        const session = this.#session!;
        session.receive(view.subarray(0, n), performance.now());
        this.#handleEvents(session);
        this.#flush();
        this.#armTimer();
      }
    } catch (e) {
      if (this.#conn === conn) {
        const error = e instanceof Error ? e : new Error(String(e));
        this.#finish({ reason: error.message, error });
      }
    }
  }

  #handleEvents(session: Session): void {
    const events = session.takeEvents();
    for (let i = 0; i < events.length; i++) {
      if (this.#session !== session) return;
      const ev = events[i];
      switch (ev.type) {
        case "message":
          this.owner.pipeMessage(this, ev.frames);
          break;
        case "subscribe":
          this.owner.pipeSubscription(this, ev.topic, true);
          break;
        case "cancel":
          this.owner.pipeSubscription(this, ev.topic, false);
          break;
        case "ready":
          this.peer = ev.peer;
          if (!this.owner.pipeReady(this)) {
            this.#finish({ reason: "Peer refused by the socket" });
            return;
          }
          break;
        case "error": {
          // Write what the session queued (an ERROR command) before closing.
          const out = this.#writing ? [] : session.takeOutput();
          if (this.peer === undefined) this.owner.pipeHandshakeFailed(this, ev);
          this.#finish({ reason: ev.reason, error: new Error(ev.reason) }, out);
          return;
        }
      }
    }
  }

  #scheduleFlush(later = false): void {
    if (this.#flushQueued || this.#writing || this.#session === undefined) return;
    this.#flushQueued = true;
    const run = () => {
      this.#flushQueued = false;
      this.#flush();
    };
    // While received messages wait to be handled, the application is mid-batch
    // (a ROUTER answering a burst): its next replies come within this turn, so
    // one macrotask later they leave in one write instead of one write each.
    if (later || this.owner.backlog) setImmediate(run);
    else queueMicrotask(run);
  }

  /** Encodes queued messages and writes everything the session has, in one write. */
  #flush(): void {
    const session = this.#session;
    const conn = this.#conn;
    if (session === undefined || conn === undefined || this.#writing) return;
    let freed = false;
    if (this.peer !== undefined && this.#outHead < this.#out.length) {
      const wasFull = !this.hasRoom();
      const out = this.#out;
      let i = this.#outHead;
      while (i < out.length && session.outputSize < FLUSH_BYTES) {
        session.send(out[i]);
        (out as (Message | undefined)[])[i] = undefined;
        i++;
      }
      if (i === out.length) {
        out.length = 0;
        this.#outHead = 0;
      } else {
        this.#outHead = i;
        if (i > 4096) {
          this.#out = out.slice(i);
          this.#outHead = 0;
        }
      }
      freed = wasFull && this.hasRoom();
    }
    if (session.outputSize > 0) {
      const buffers = session.takeOutput();
      this.#writing = true;
      conn.write(buffers).then(
        () => {
          if (this.#conn !== conn) return;
          this.#writing = false;
          this.#writesDone++;
          // Deno completes small writes almost at once; flushing again right
          // away would send one message per write while a producer loops on
          // send(). Waiting one macrotask lets the batch fill (or the HWM
          // block the producer), so writes carry hundreds of messages.
          // A full queue means the producer already waits, and a pending
          // receive means the application is done sending for now (a ROUTER
          // or REP answering): flush at once, deferring would only add latency.
          if (!this.hasRoom() || this.owner.receiving) this.#flush();
          else if (this.queued > 0 || session.outputSize > 0) this.#scheduleFlush(true);
          else this.#drained?.();
        },
        (e) => {
          if (this.#conn !== conn) return;
          const error = e instanceof Error ? e : new Error(String(e));
          this.#finish({ reason: error.message, error });
        },
      );
    } else if (this.queued === 0) {
      this.#drained?.();
    }
    if (freed) this.owner.pipeWritable(this);
  }

  #armTimer(): void {
    const session = this.#session;
    if (session === undefined) return;
    const at = session.nextTimeout();
    if (at === this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    const delay = Math.max(0, Math.ceil(at - performance.now()));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      if (this.#session !== session) return;
      session.tick(performance.now());
      this.#handleEvents(session);
      this.#flush();
      this.#armTimer();
    }, delay);
  }
}

/** How long a last ERROR command may take to leave before the connection closes anyway. */
const LAST_WRITE_MS = 100;

/** Writes `last` (an ERROR command), then closes; a peer that does not read cannot hold it open. */
function closeAfter(conn: Connection, last: Uint8Array[]): void {
  const close = () => {
    clearTimeout(timer);
    conn.close(); // idempotent: the later of the two calls does nothing
  };
  const timer = setTimeout(close, LAST_WRITE_MS);
  conn.write(last).then(close, close);
}
