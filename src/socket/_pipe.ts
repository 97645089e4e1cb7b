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

import { Deadline } from "./_deadlines.ts";
import { macrotask } from "./_macrotask.ts";
import { ZmqError } from "../errors.ts";
import { Session } from "../protocol/session.ts";
import type { PeerInfo, SessionEvent } from "../protocol/session.ts";
import type { EngineFactory, ProtocolEngine } from "../protocol/engine.ts";
import type { SocketType } from "../protocol/socket_type.ts";
import type { Connection } from "../transport/types.ts";
import type { FairQueueSource } from "./_routing/fair_queue.ts";
import type { Message } from "./_message.ts";
import type { RoutingIdConflict } from "./events.ts";
import type { ResolvedOptions } from "./options.ts";
import type { PeerMetadata } from "./peer_metadata.ts";
import { authenticate, createMechanism } from "./_security.ts";

/** What a pipe reports to the socket that owns it. */
export interface PipeOwner {
  readonly type: SocketType;
  readonly options: ResolvedOptions;
  /** Makes each connection's protocol engine; undefined: a ZMTP {@linkcode Session}. */
  readonly engine?: EngineFactory;
  /** The session completed its handshake; return false to refuse the peer. */
  pipeReady(pipe: Pipe): boolean;
  /** A message arrived. */
  pipeMessage(pipe: Pipe, frames: Message): void;
  /** A command in the data phase (SUBSCRIBE, CANCEL, JOIN, LEAVE, unknown ones): the pattern's business. */
  pipeCommand(pipe: Pipe, name: string, data: Uint8Array): void;
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
  /** Our side ended it (socket closed, endpoint unbound or disconnected). */
  local?: boolean;
  /** The socket refused the peer after its handshake (e.g. a second PAIR peer). */
  refused?: boolean;
}

/**
 * Largest read chunk (the study's 256 KiB: a 64 KiB frame then usually lies
 * wholly inside one and comes out as a view); reads start at FIRST_READ bytes
 * and double while they fill the chunk.
 */
const CHUNK = 256 * 1024;
/**
 * libzmq's read batch: a 4 KiB message with its header (4105 B and more)
 * fits, so a 4 KiB request/reply flow reads each message at once into the
 * pipe's own buffer instead of splitting it and allocating an 8 KiB one.
 */
const FIRST_READ = 8 * 1024;
/**
 * The read that waits on a peer whose last read was tiny: an idle connection
 * then pins TINY_READ bytes in its pending read, not FIRST_READ (a thousand
 * idle peers: 0.25 MiB, not 8). A burst after it costs one extra read.
 */
const TINY_READ = 256;
/** No read buffer (before the first read, or let go). */
const NO_BYTES = new Uint8Array(0);
/**
 * Read chunks no view points into, shared by every pipe: a connection whose
 * last read emptied its socket reads next into its own FIRST_READ buffer and
 * gives its big chunk back, so a peer that sent one burst and went quiet
 * costs FIRST_READ, not CHUNK (libzmq reads into a fixed 8 KiB batch), and a
 * busy connection takes one back without allocating.
 */
const chunkPool: Uint8Array[] = [];
const CHUNK_POOL = 8;

function takeChunk(size: number): Uint8Array {
  return size === CHUNK && chunkPool.length > 0 ? chunkPool.pop()! : new Uint8Array(size);
}

function giveChunk(chunk: Uint8Array): void {
  if (chunk.length === CHUNK && chunkPool.length < CHUNK_POOL) chunkPool.push(chunk);
}

/** Read chunks waiting in the pool, in bytes (for memory tests). */
export function pooledReadBytes(): number {
  return chunkPool.length * CHUNK;
}
/** Bytes of encoded messages per transport write: enough to amortise a write, small enough to stay fair. */
const FLUSH_BYTES = 256 * 1024;
/**
 * Bytes a parked connection may still send us (decoded, then dropped) before
 * we stop reading it: enough that a peer which sends a request or two and
 * then closes is noticed and cleaned up, bounded so a flood meets TCP
 * backpressure instead of our CPU.
 */
const PARK_READ_BYTES = 256 * 1024;
/**
 * Most decoded messages a peer's queue holds ahead of an application that is
 * taking them, under a larger receive high-water mark. The rest of what was
 * read stays undecoded in the session (18 bytes for a 16-byte message, not a
 * message object of about 200) until the application has taken these, and
 * reading waits meanwhile, as at the high-water mark. Few decoded messages
 * alive means few objects survive each young-generation GC, so V8 does not
 * grow its young generation under a flood (a 16 B PUSH→PULL receiver: 64 MiB
 * of young generation with up to 1000 decoded ahead, 16 MiB with 64), and
 * large frames pin at most this many read chunks. An application that took
 * nothing for a whole macrotask gets its queue filled to the high-water mark,
 * as libzmq fills its pipe (see the pipe's #checkAhead).
 */
const DECODE_AHEAD = 64;

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
  /** The handshake's result, while connected. */
  peer: PeerInfo | undefined;
  /**
   * The metadata of the last connection that completed its handshake, with
   * the `peerMetadata` option; kept after it ends for the messages it left.
   */
  metadata: PeerMetadata | undefined;
  /** Why a ROUTER keeps this connection open but unused; `undefined` while in use. */
  parked: RoutingIdConflict | undefined;
  /**
   * Whether the first message queued after a quiet spell also waits a
   * macrotask before it is written: set by fan-out patterns, whose sends come
   * in loops across many peers, so that each turn writes one batch per peer
   * instead of a lone first message and then the rest.
   */
  flushLater = false;
  /** Abandons a ZAP request in flight; the owner calls it when the connection ends. */
  cancelAuthentication: (() => void) | undefined;

  #out: Message[] = [];
  #outHead = 0;
  #conn: Connection | undefined;
  #session: ProtocolEngine | undefined;
  #writing = false;
  /** The current connection's write settlements (see run()). */
  #onWritten: () => void = () => {};
  #onWriteFailed: (e: unknown) => void = () => {};
  #flushQueued = false;
  #closed = false;
  #paused: (() => void) | undefined;
  /** The session's next timeout, on the timer all pipes share; made at the first connection. */
  #deadline: Deadline | undefined;
  #end: ((end: PipeEnd) => void) | undefined;
  #drained: (() => void) | undefined;
  // True while the session decodes: a nested checkInbound() leaves it to the running loop.
  #decoding = false;
  /** Writes completed on this pipe, across connections: the progress congestion waits for. */
  #writesDone = 0;
  /** `#writesDone` when a sender last waited for this pipe to drain. */
  #waitedAt = -1;
  #rx: Uint8Array = NO_BYTES;
  #rxUsed = 0;
  /** Whether views of #rx were handed out (large frames): then it is never overwritten. */
  #rxPinned = false;
  #rxSize = FIRST_READ;
  /** The last read did not fill its view: the socket was emptied, the peer may be quiet. */
  #rxDrained = true;
  /** The FIRST_READ buffer read into after a draining read, kept for the pipe's life. */
  #rxSmall: Uint8Array | undefined;
  /** The TINY_READ buffer read into after a draining read of at most half its size. */
  #rxTiny: Uint8Array | undefined;
  /** Bytes the last read brought. */
  #rxLast = 0;
  #parkBudget = 0;
  #remote = "";
  /** Decoded messages the queue may hold: {@linkcode DECODE_AHEAD}, or no limit but the HWM. */
  #ahead = DECODE_AHEAD;
  /** Messages the application took from this pipe (for the check below). */
  #takes = 0;
  /** A check whether the application took anything since decoding paused at #ahead is due. */
  #aheadCheck = false;

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

  /** The address of the current (or, once it ended, the last) connection's peer. */
  get remote(): string {
    return this.#remote;
  }

  /**
   * Keeps the connection open but unused, as libzmq does with a duplicate
   * routing id (src/router.cpp identify_peer: the refused pipe sits in
   * `_anonymous_pipes`, a displaced one is terminated while its session and
   * engine stay up; src/session_base.cpp push_msg then fails and the engine
   * stops reading). Nothing new is queued for it, so nothing is written but
   * what was queued before (and protocol replies such as PONG); what the peer
   * sends is dropped and read only up to {@linkcode PARK_READ_BYTES}, then
   * reading stops. Its close is noticed while it is still read.
   */
  park(why: RoutingIdConflict): void {
    this.parked = why;
    this.#parkBudget = PARK_READ_BYTES;
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
    if (subscribe) s.subscribe?.(topic);
    else s.cancel?.(topic);
    this.#scheduleFlush();
  }

  /** Sends a command (e.g. DISH's JOIN) to the peer, if connected. */
  sendCommand(name: string, data: Uint8Array): void {
    const s = this.#session;
    if (s === undefined || this.peer === undefined) return;
    s.sendCommand?.(name, data);
    this.#scheduleFlush();
  }

  /** Drops every queued outgoing message. */
  discard(): void {
    this.#out.length = 0;
    this.#outHead = 0;
  }

  /**
   * Whether this peer's queue in the socket has room for another message:
   * under the receive high-water mark and the decode-ahead limit, and
   * under the byte bound if one is set.
   */
  #canDeliver(): boolean {
    const inbox = this.inbox;
    if (inbox === undefined) return true; // not attached: messages are dropped
    const o = this.owner.options;
    return inbox.size < this.#ahead &&
      (o.receiveHighWaterMark === 0 || inbox.size < o.receiveHighWaterMark) &&
      (o.receiveHighWaterMarkBytes === 0 || inbox.bytes < o.receiveHighWaterMarkBytes);
  }

  /**
   * Whether a paused peer may be decoded again: its queue fell to the low
   * water mark (half the high-water marks, the message one capped at the
   * decode-ahead limit), so decoding resumes in batches, not one message per
   * message taken. libzmq's pipe wakes its writer the same way (pipe.cpp
   * compute_lwm: hwm/2, or hwm - 1024 above 2048).
   */
  #belowLowWater(): boolean {
    const inbox = this.inbox;
    if (inbox === undefined) return true;
    const o = this.owner.options;
    const set = o.receiveHighWaterMark;
    const hwm = set === 0 || set > this.#ahead ? this.#ahead : set;
    const lwm = hwm === Infinity ? Infinity : hwm > 2048 ? hwm - 1024 : (hwm + 1) >> 1;
    return inbox.size <= lwm &&
      (o.receiveHighWaterMarkBytes === 0 || inbox.bytes <= o.receiveHighWaterMarkBytes / 2);
  }

  /**
   * Called when the application took a message from this peer: once the
   * queue is down to its low water mark, decodes the bytes the session kept,
   * then lets reading go on when none are left.
   */
  checkInbound(): void {
    this.#takes++;
    // The application caught up: decode only a little ahead of it again.
    if (this.#ahead !== DECODE_AHEAD && (this.inbox?.size ?? 0) <= DECODE_AHEAD >> 1) {
      this.#ahead = DECODE_AHEAD;
    }
    this.#resumeDecoding();
  }

  #resumeDecoding(): void {
    const wake = this.#paused;
    if (wake === undefined || this.#decoding || !this.#belowLowWater()) return;
    const session = this.#session;
    if (session !== undefined && session.paused) {
      this.#decode(session, undefined);
      if (session.paused || this.#paused !== wake) return;
    }
    this.#paused = undefined;
    wake();
  }

  /**
   * Runs a session over `conn` until it ends; resolves with how it ended.
   * Never rejects.
   */
  run(conn: Connection, now: number): Promise<PipeEnd> {
    const o = this.owner.options;
    this.#conn = conn;
    this.#remote = conn.remoteEndpoint;
    this.parked = undefined;
    const engine = this.owner.engine;
    let session: ProtocolEngine;
    try {
      session = engine !== undefined
        ? engine({
          now,
          maxMessageSize: o.maxMessageSize,
          onMessage: (frames) => this.owner.pipeMessage(this, frames),
          canDeliver: () => this.#canDeliver(),
        })
        : new Session({
          socketType: this.owner.type,
          now,
          mechanism: createMechanism(o.security),
          routingId: o.routingId,
          properties: o.metadata,
          maxMessageSize: o.maxMessageSize,
          handshakeInterval: o.handshakeInterval,
          heartbeatInterval: o.heartbeatInterval,
          heartbeatTimeout: o.heartbeatTimeout,
          heartbeatTimeToLive: o.heartbeatTimeToLive,
          onMessage: (frames) => this.owner.pipeMessage(this, frames),
          canDeliver: () => this.#canDeliver(),
          // ws and wss carry ZWS 2.0: one message per frame, the mechanism negotiated beforehand.
          framing: conn.framing,
          routingIdHandshake: conn.framing === "message" && conn.mechanism === "",
        });
    } catch (e) {
      // A custom engine (a codec factory) that throws must not reject this
      // promise (the accept and connect loops await it): end this connection.
      this.#conn = undefined;
      conn.close();
      const error = e instanceof Error ? e : new Error(String(e));
      return Promise.resolve({ reason: error.message, error });
    }
    this.#session = session;
    // Made once per connection, not per write: a flush costs no closures.
    this.#onWritten = () => {
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
    };
    this.#onWriteFailed = (e: unknown) => {
      if (this.#conn !== conn) return;
      const error = e instanceof Error ? e : new Error(String(e));
      this.#finish({ reason: error.message, error });
    };
    const done = new Promise<PipeEnd>((resolve) => (this.#end = resolve));
    this.#flush();
    this.#armTimer();
    if (conn.framing === "message") this.#readMessages(conn);
    else this.#readLoop(conn);
    return done;
  }

  /** Ends the current connection (if any) with `reason`. */
  drop(reason: string, error?: Error, local = false): void {
    this.#finish({ reason, error, local });
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
    this.drop(reason, undefined, true);
  }

  #finish(end: PipeEnd, last: Uint8Array[] = []): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    this.#conn = undefined;
    this.#session?.close();
    this.#session = undefined;
    this.peer = undefined;
    this.#writing = false;
    this.#deadline?.set(Infinity);
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
        // Nothing more is read while the peer's queue is full or the session
        // keeps undecoded bytes: one peer holds at most its high-water mark
        // of messages plus one read chunk (libzmq's engine stops reading the
        // same way, stream_engine_base.cpp restart_input). A parked
        // connection is read only up to its budget.
        const parkedOut = this.parked !== undefined && this.#parkBudget <= 0;
        if (parkedOut || this.#session!.paused || !this.#canDeliver()) {
          // A parked connection is never read again: it keeps no read buffer (views of the
          // old one, if any, keep it alive themselves).
          if (parkedOut) this.#releaseReadBuffer();
          await new Promise<void>((resolve) => (this.#paused = resolve));
          continue;
        }
        // Small frames are copies: unless the session kept a view of the
        // buffer (a large frame, perhaps still queued, or decoded after a
        // pause), it is reused from the start. Decided here, at the next
        // read, because a paused session may still hand out views of it.
        // After a read that emptied the socket the next one waits for the
        // peer: it gets a small buffer of the pipe's own, so a quiet peer
        // holds no big one, and a peer whose last read was tiny (an idle one
        // after its handshake, a request) holds only TINY_READ bytes.
        const want = this.#rxDrained
          ? (this.#rxLast <= TINY_READ >> 1 ? TINY_READ : FIRST_READ)
          : this.#rxSize;
        if (this.#rxPinned && this.#rx.length - this.#rxUsed < want >> 2) {
          // Views of the old buffer may be in user hands: never overwrite it.
          if (this.#rx === this.#rxSmall) this.#rxSmall = undefined;
          if (this.#rx === this.#rxTiny) this.#rxTiny = undefined;
          this.#rx = NO_BYTES;
          this.#rxPinned = false;
        }
        if (!this.#rxPinned) {
          if (this.#rx.length !== want) {
            giveChunk(this.#rx);
            this.#rx = want === TINY_READ
              ? (this.#rxTiny ??= new Uint8Array(TINY_READ))
              : want === FIRST_READ
              ? (this.#rxSmall ??= new Uint8Array(FIRST_READ))
              : takeChunk(want);
          }
          this.#rxUsed = 0;
        }
        const view = this.#rxUsed === 0 ? this.#rx : this.#rx.subarray(this.#rxUsed);
        const n = await conn.read(view);
        if (this.#conn !== conn) return;
        if (n === null) {
          this.#finish({ reason: "Connection closed by peer" });
          return;
        }
        this.#rxDrained = n < view.length;
        this.#rxLast = n;
        if (!this.#rxDrained && view.length >= this.#rxSize && this.#rxSize < CHUNK) {
          this.#rxSize *= 2;
        }
        if (this.parked !== undefined) this.#parkBudget -= n;
        const session = this.#session!;
        this.#decode(session, view.subarray(0, n));
        this.#rxUsed += n;
      }
    } catch (e) {
      if (this.#conn === conn) {
        const error = e instanceof Error ? e : new Error(String(e));
        this.#finish({ reason: error.message, error });
      }
    }
  }

  /**
   * Decoding paused at the decode-ahead limit: if the application takes
   * nothing before the next macrotask it is not consuming (it may never
   * read), so the queue may fill to the high-water mark as libzmq's would.
   * While it takes, the check repeats once a turn until the pause ends.
   */
  #checkAhead(): void {
    const inbox = this.inbox;
    // At or under the low water mark decoding resumes without a take.
    if (inbox === undefined || inbox.size <= DECODE_AHEAD >> 1) return;
    const hwm = this.owner.options.receiveHighWaterMark;
    if (hwm !== 0 && hwm <= DECODE_AHEAD) return;
    this.#aheadCheck = true;
    const takes = this.#takes;
    macrotask(() => {
      this.#aheadCheck = false;
      if (this.#conn === undefined) return;
      // Still taking: look again next turn, the application may stop any time.
      if (this.#takes !== takes) this.#checkAhead();
      else {
        this.#ahead = Infinity;
        this.#resumeDecoding();
      }
    });
  }

  /** Whether reading must wait: the peer's queue is full, the session paused, or parked out. */
  #readBlocked(): boolean {
    const parkedOut = this.parked !== undefined && this.#parkBudget <= 0;
    if (parkedOut) this.#releaseReadBuffer();
    return parkedOut || this.#session!.paused || !this.#canDeliver();
  }

  /** The read loop of a message connection (ws): each message is one frame, fed whole. */
  async #readMessages(conn: Connection): Promise<void> {
    try {
      while (this.#conn === conn) {
        if (this.#readBlocked()) {
          await new Promise<void>((resolve) => (this.#paused = resolve));
          continue;
        }
        const message = await conn.readMessage!();
        if (this.#conn !== conn) return;
        if (message === null) {
          this.#finish({ reason: "Connection closed by peer" });
          return;
        }
        if (this.parked !== undefined) this.#parkBudget -= message.length;
        this.#decode(this.#session!, message);
      }
    } catch (e) {
      if (this.#conn === conn) {
        const error = e instanceof Error ? e : new Error(String(e));
        this.#finish({ reason: error.message, error });
      }
    }
  }

  #releaseReadBuffer(): void {
    this.#rx = NO_BYTES;
    this.#rxSmall = undefined;
    this.#rxTiny = undefined;
    this.#rxUsed = 0;
    this.#rxPinned = false;
  }

  /**
   * Feeds `chunk` (or, without one, resumes a paused session) and handles
   * what comes out, resuming while the session pauses only to let its
   * events be handled.
   */
  #decode(session: ProtocolEngine, chunk: Uint8Array | undefined): void {
    this.#decoding = true;
    try {
      if (chunk !== undefined) session.receive(chunk, performance.now());
      else session.resume(performance.now());
      this.#handleEvents(session);
      while (this.#session === session && session.paused && this.#canDeliver()) {
        session.resume(performance.now());
        this.#handleEvents(session);
      }
    } finally {
      this.#decoding = false;
    }
    if (!this.#aheadCheck && this.#ahead === DECODE_AHEAD) this.#checkAhead();
    // Views of the read buffer are out (large frames): it must not be overwritten.
    // Input the session holds while paused pins it only until decoded: nothing
    // is read meanwhile, and once resumed the held bytes are copies or views.
    if (session.retainsInput && !session.paused) this.#rxPinned = true;
    this.#flush();
    this.#armTimer();
  }

  #handleEvents(session: ProtocolEngine): void {
    const events = session.takeEvents();
    for (let i = 0; i < events.length; i++) {
      if (this.#session !== session) return;
      const ev = events[i];
      switch (ev.type) {
        case "message":
          this.owner.pipeMessage(this, ev.frames);
          break;
        // The session decodes SUBSCRIBE and CANCEL for the ZMTP 3.0 fallback;
        // to a pattern they are commands like any other.
        case "subscribe":
          this.owner.pipeCommand(this, "SUBSCRIBE", ev.topic);
          break;
        case "cancel":
          this.owner.pipeCommand(this, "CANCEL", ev.topic);
          break;
        case "command":
          this.owner.pipeCommand(this, ev.name, ev.data);
          break;
        case "ready":
          this.peer = ev.peer;
          if (!this.owner.pipeReady(this)) {
            this.#finish({ reason: "Peer refused by the socket", refused: true });
            return;
          }
          break;
        case "authenticate": {
          // The ZAP handler answers later; other connections go on meanwhile.
          const zap = authenticate(this.owner.options, ev.request, this.#remote);
          this.cancelAuthentication = zap.cancel;
          zap.reply.then((reply) => {
            if (this.cancelAuthentication === zap.cancel) this.cancelAuthentication = undefined;
            if (this.#session !== session) return;
            session.authenticated?.(reply, performance.now());
            // Through #decode: it handles the events, flushes, re-arms the
            // timer and continues any input the session held meanwhile.
            this.#decode(session, undefined);
            this.checkInbound();
          }).catch((e) => this.drop(String(e?.message ?? e), e));
          break;
        }
        case "error": {
          // Write what the session queued (an ERROR command) before closing.
          const out = this.#writing ? [] : session.takeOutput();
          if (this.peer === undefined) this.owner.pipeHandshakeFailed(this, ev);
          this.#finish({ reason: ev.reason, error: new ZmqError(ev.code, ev.reason) }, out);
          return;
        }
      }
    }
  }

  #scheduleFlush(later = false): void {
    if (this.#flushQueued || this.#writing || this.#session === undefined) return;
    this.#flushQueued = true;
    // While received messages wait to be handled, the application is mid-batch
    // (a ROUTER answering a burst): its next replies come within this turn, so
    // one macrotask later they leave in one write instead of one write each.
    if (later || this.owner.backlog || this.flushLater) macrotask(this.#queuedFlush);
    else queueMicrotask(this.#queuedFlush);
  }

  /** The scheduled flush; one function for the pipe's life, not one per schedule. */
  #queuedFlush = (): void => {
    this.#flushQueued = false;
    this.#flush();
  };

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
        // Emptied by pops while short: `length = 0` frees the array's storage,
        // and regrowing it costs ~150 octets a flush (a round trip has two).
        if (i <= 64) { while (out.length > 0) out.pop(); }
        else out.length = 0;
        this.#outHead = 0;
      } else {
        this.#outHead = i;
        if (i > 4096) {
          this.#out = out.slice(i);
          this.#outHead = 0;
        }
      }
      freed = wasFull && this.hasRoom();
      // An engine whose encoder failed (a custom codec's encode threw) closed
      // itself with an error event: end the connection now, not at a read.
      if (session.phase === "closed") {
        this.#handleEvents(session);
        if (freed) this.owner.pipeWritable(this);
        return;
      }
    }
    if (session.outputSize > 0) {
      const buffers = session.takeOutput();
      this.#writing = true;
      conn.write(buffers).then(this.#onWritten, this.#onWriteFailed);
    } else if (this.queued === 0) {
      this.#drained?.();
    }
    if (freed) this.owner.pipeWritable(this);
  }

  #armTimer(): void {
    const session = this.#session;
    if (session === undefined) return;
    const at = session.nextTimeout();
    (this.#deadline ??= new Deadline(this.#onDeadline)).set(at);
  }

  /** The session's timeout came: one function for the pipe's life. */
  #onDeadline = (): void => {
    const session = this.#session;
    if (session === undefined) return;
    session.tick(performance.now());
    this.#handleEvents(session);
    this.#flush();
    this.#armTimer();
  };
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
