/**
 * The machinery every socket type shares: endpoints (bind, connect with
 * reconnect, unbind, disconnect), pipes, the fair-queued inbox, queues of
 * waiting `send()`/`receive()` calls with their timeouts, monitor events, and
 * close with linger. What differs between socket types — who gets the next
 * message, what happens to an incoming one — is a {@linkcode Pattern}.
 *
 * @module
 */

import { macrotask } from "./_macrotask.ts";
import { abortError, ZmqError } from "../errors.ts";
import type { EngineFactory } from "../protocol/engine.ts";
import type { SessionEvent } from "../protocol/session.ts";
import type { SocketType } from "../protocol/socket_type.ts";
import { resolveEndpoint, transportFor } from "../transport/registry.ts";
import type { EndpointBase, Listener, Transport } from "../transport/types.ts";
import { EventHub } from "./events.ts";
import type { HandshakeFailure, RoutingIdConflict, SocketEvent } from "./events.ts";
import type { Message } from "./_message.ts";
import { Pipe } from "./_pipe.ts";
import { PeerMetadata } from "./peer_metadata.ts";
import type { PipeEnd, PipeOwner } from "./_pipe.ts";
import { FairQueue } from "./_routing/fair_queue.ts";
import { WaiterQueue } from "./_routing/waiter_queue.ts";
import type { Queued } from "./_routing/waiter_queue.ts";
import { reconnectDelay } from "./_routing/backoff.ts";
import type { ConnectOptions, ResolvedOptions } from "./options.ts";
import { routingIdBytes } from "./options.ts";

/** The per-socket-type policy plugged into {@linkcode SocketCore}. */
export interface Pattern {
  /** Attach pipes made by `connect()` before their handshake, so messages queue (not for ROUTER). */
  readonly attachEarly: boolean;
  /** A peer is joining the routing policy; return false to refuse it. */
  attach(pipe: Pipe): boolean;
  /** A peer is leaving the routing policy. */
  detach(pipe: Pipe): void;
  /** The id the socket routes to `pipe` by, while attached (ROUTER, SERVER, PEER, STREAM). */
  routingIdOf?(pipe: Pipe): Uint8Array | number | undefined;
  /** A pipe's session became ready (after attach). */
  ready?(pipe: Pipe): void;
  /** An incoming message; push it to `pipe.inbox` or drop it. */
  message(pipe: Pipe, frames: Message): void;
  /**
   * A command in the data phase other than the session's own (PING, PONG,
   * ERROR): SUBSCRIBE, CANCEL, JOIN, LEAVE or any unknown name; ignored if
   * absent. The one path by which commands reach a pattern.
   */
  command?(pipe: Pipe, name: string, data: Uint8Array): void;
  /** Checks and transforms a message at the `send()` call; throws `ZmqError` (e.g. `EFSM`). */
  prepareSend(frames: Message): Message;
  /** Tries to hand a prepared message to pipes; returns false when it must wait for room. */
  trySend(frames: Message): boolean;
  /** Checks state at the `receive()` call; throws `ZmqError` (e.g. `EFSM`). */
  prepareReceive(): void;
  /** Takes the next message for the application, or `undefined`. */
  tryReceive(): Message | undefined;
  /**
   * The pipe the message `tryReceive` returned last came from, for a pattern
   * that keeps messages outside the inbox (REQ's reply, DISH's datagrams);
   * `undefined` for a message of no pipe. Without it, the inbox's `lastKey`.
   */
  lastSource?(): Pipe | undefined;
  /** A receive was abandoned (timeout, abort) before it got a message. */
  receiveAbandoned?(): void;
  /**
   * After a send that did not wait: whether it dropped messages for a full
   * peer, so the caller should let I/O run before sending more.
   */
  shouldYield?(): boolean;
  /**
   * How long a loop of sends that never wait may run before it lets I/O run,
   * in ms, where the pattern knows better than YIELD_AFTER_MS (fan-out: each
   * turn's writes should carry a batch per peer, not one message).
   */
  readonly yieldAfterMs?: number;
  /** A prepared send was abandoned (timeout, abort, close) before it was queued. */
  sendAbandoned?(frames: Message): void;
  /**
   * After a `trySend` that returned true: the messages it held back for peers
   * that were full while their writes were moving ({@linkcode Pipe.congested})
   * instead of dropping them. The core lets I/O run a few turns, then queues
   * each where there is room and drops the rest; sends made meanwhile wait
   * their turn, so no peer sees its messages reordered.
   */
  takeDeferred?(): DeferredSend[] | undefined;
}

/** A message a pattern held back for a congested peer (see {@linkcode Pattern.takeDeferred}). */
export interface DeferredSend {
  pipe: Pipe;
  frames: Message;
}

/**
 * The resolving functions of the promise made last by `new Promise(capture)`:
 * one executor for every wait instead of a closure each (the executor runs
 * synchronously, so they are read right after). Promise.withResolvers would
 * do, but not on Node 20, which the npm build supports.
 */
const captured = {
  resolve: noCleanup as (value: never) => void,
  reject: noCleanup as (error: unknown) => void,
};

function capture(resolve: (value: never) => void, reject: (error: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

/**
 * What a send that queued its message at once returns: one fulfilled promise
 * shared by all of them (a promise per send is an allocation per message, and
 * a fulfilled promise takes any number of reactions and keeps none).
 */
const SENT: Promise<void> = Promise.resolve();

/** A receive waits for nothing to send. */
const NO_FRAMES: Message = Object.freeze([]) as unknown as Message;

/**
 * A waiting `send()` or `receive()`. A class with every field set in its
 * constructor: the fields sit inside the object (an object literal built by
 * spreading, as before, took a separate property store and map transitions:
 * ~300 octets per wait, on every request/reply round trip). Sends and
 * receives share it so the queues' code stays monomorphic.
 */
class Waiter<T> implements Queued {
  queued = false;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  cleanup: () => void = noCleanup;
  /** What a waiting send sends; NO_FRAMES for a receive. */
  readonly frames: Message;

  constructor(resolve: (value: T) => void, reject: (error: unknown) => void, frames: Message) {
    this.resolve = resolve;
    this.reject = reject;
    this.frames = frames;
  }
}

type SendWaiter = Waiter<void>;

interface GatedSend {
  frames: Message;
  signal: AbortSignal | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Sends that resolve at once (PUB, XPUB, ROUTER, or any peer with room) check
 * the clock every this many: a loop of them that has run YIELD_AFTER_MS since
 * it last let I/O run yields a macrotask, so it cannot starve accepts,
 * handshakes, reads, writes and timers (they run at least every ~1 ms). A
 * macrotask costs ~1.5 µs here: yielding once a millisecond is ~0.2 % of a
 * send loop, where yielding every 256 sends cost a third of a loop that
 * publishes to nobody (~0.05 µs a send). A pattern that sends to many peers
 * stretches the budget (Pattern.yieldAfterMs, _routing/turn_budget.ts) so that
 * each turn writes a batch per peer.
 */
const YIELD_CHECK_EVERY = 64;
const YIELD_AFTER_MS = 1;
/** Macrotask turns a send waits at most for a congested peer's write to complete. */
const CONGESTION_TURNS = 4;

interface BoundEndpoint {
  requested: string;
  endpoint: string;
  listener: Listener;
  pipes: Set<Pipe>;
  loop: Promise<void>;
}

interface ConnectedEndpoint {
  endpoint: string;
  pipe: Pipe;
  abort: AbortController;
  loop: Promise<void>;
}

function noCleanup(): void {}

/** Cores of public sockets, for the socket-type classes; internal. */
const cores = new WeakMap<object, SocketCore>();

/** The core behind a public socket; internal. */
export function coreOf(socket: object): SocketCore {
  const core = cores.get(socket);
  if (core === undefined) throw new TypeError("Not a Monocoque socket");
  return core;
}

/** Registers the core of a public socket; internal. */
export function registerCore(socket: object, core: SocketCore): void {
  cores.set(socket, core);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function failureKind(ev: Extract<SessionEvent, { type: "error" }>): HandshakeFailure {
  if (ev.kind === "protocol") return "protocol";
  if (ev.kind === "authentication") return "authentication";
  return "other";
}

/** Error names and codes of transports (Deno's and node:net's) that mean the peer timed out. */
const TIMED_OUT = new Set(["TimedOut", "ETIMEDOUT"]);

/**
 * The `error` of a `disconnected` event: a `ZmqError` with a libzmq code and
 * the underlying error as `cause`. `local` says our side ended it (socket
 * closed, endpoint unbound or disconnected): ETERM. libzmq reports only the
 * descriptor with ZMQ_EVENT_DISCONNECTED; the codes are the ones its engine
 * would fail with (src/stream_engine_base.cpp error(): connection_error,
 * protocol_error, timeout_error).
 */
function endError(end: PipeEnd, local: boolean): ZmqError {
  const e = end.error;
  if (e instanceof ZmqError) return e; // the session's own: EPROTO, EMSGSIZE, ETIMEDOUT, EACCES
  if (local) return new ZmqError("ETERM", end.reason, { cause: e });
  if (e !== undefined) {
    const code = (e as { code?: unknown }).code;
    const timedOut = TIMED_OUT.has(e.name) || (typeof code === "string" && TIMED_OUT.has(code));
    return new ZmqError(timedOut ? "ETIMEDOUT" : "ECONNRESET", end.reason, { cause: e });
  }
  if (end.refused) return new ZmqError("ECONNREFUSED", end.reason);
  return new ZmqError("ECONNRESET", end.reason); // closed by the peer
}

/** Queues held-back messages to the peers that have room now; the others' are dropped. */
function queueWhereRoom(deferred: DeferredSend[]): void {
  for (const d of deferred) if (d.pipe.hasRoom()) d.pipe.enqueue(d.frames);
}

function messageBytes(frames: Message): number {
  let n = 0;
  for (let i = 0; i < frames.length; i++) n += frames[i].length;
  return n;
}

/** Shared socket machinery; internal. */
export class SocketCore implements PipeOwner {
  readonly type: SocketType;
  readonly options: ResolvedOptions;
  readonly inbox: FairQueue<Pipe, Message>;
  readonly events: EventHub = new EventHub();
  pattern!: Pattern;
  /** Each connection's protocol engine, set by the socket type; undefined: ZMTP. */
  engine: EngineFactory | undefined;
  lastEndpoint: string | undefined;
  closed = false;

  #bound = new Map<string, BoundEndpoint>();
  #connected = new Map<string, ConnectedEndpoint>();
  #pipes = new Set<Pipe>();
  #senders = new WaiterQueue<SendWaiter>();
  #receivers = new WaiterQueue<Waiter<Message>>();
  /** Sends made while a send waits for congested peers; undefined when none waits. */
  #gated: GatedSend[] | undefined;
  /** Sends that resolved at once since the clock was last checked. */
  #unyielded = 0;
  /** When a send last let I/O run (yielded or waited). */
  #yieldedAt = 0;
  #loops = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;
  /**
   * Messages a reader took and gave back undelivered (a cancelled stream, a
   * finished merge), served before the inbox. For REQ/REP the state already
   * says "received", so they are served without prepareReceive.
   */
  #returned: Message[] = [];
  /** Conflict events of the handshake being handled, emitted after its handshakeSucceeded. */
  #conflicts: SocketEvent[] = [];
  /** Pipes whose connection has neither completed nor failed its handshake yet. */
  #handshaking = new Set<Pipe>();

  constructor(type: SocketType, options: ResolvedOptions) {
    this.type = type;
    this.options = options;
    // Messages are weighed only when a byte bound needs it.
    this.inbox = new FairQueue(options.receiveHighWaterMarkBytes > 0 ? messageBytes : undefined);
  }

  /** Whether a `receive()` is waiting for a message. */
  get receiving(): boolean {
    return this.#receivers.length > 0;
  }

  /** Whether received messages wait to be taken. */
  get backlog(): boolean {
    return !this.inbox.empty;
  }

  /** Every live pipe. */
  get pipes(): ReadonlySet<Pipe> {
    return this.#pipes;
  }

  #checkOpen(): void {
    if (this.closed) throw new ZmqError("ETERM", "The socket is closed");
  }

  /** The transport for an endpoint; `EPROTONOSUPPORT` if this runtime has none. */
  #transport(endpoint: EndpointBase): Transport<EndpointBase> {
    const custom = this.options.transport;
    if (custom !== undefined && (endpoint.transport === "tcp" || endpoint.transport === "ipc")) {
      return custom as Transport<EndpointBase>;
    }
    return transportFor(endpoint);
  }

  #track(loop: Promise<void>): Promise<void> {
    this.#loops.add(loop);
    loop.finally(() => this.#loops.delete(loop));
    return loop;
  }

  // ---- endpoints -------------------------------------------------------

  async bind(address: string): Promise<void> {
    if (typeof address !== "string") throw new TypeError("The endpoint must be a string");
    this.#checkOpen();
    const endpoint = resolveEndpoint(address, "bind");
    const transport = this.#transport(endpoint);
    let listener: Listener;
    try {
      listener = await transport.listen(endpoint, {
        mechanism: this.options.security.mechanism,
        ...this.options.ws,
      });
    } catch (e) {
      this.events.emit({ type: "bindFailed", endpoint: address, error: e as Error });
      throw e;
    }
    if (this.closed) {
      listener.close();
      throw new ZmqError("ETERM", "The socket was closed during bind");
    }
    const bound: BoundEndpoint = {
      requested: address,
      endpoint: listener.endpoint,
      listener,
      pipes: new Set(),
      loop: Promise.resolve(),
    };
    this.#bound.set(listener.endpoint, bound);
    this.lastEndpoint = listener.endpoint;
    this.events.emit({ type: "listening", endpoint: listener.endpoint });
    bound.loop = this.#track(this.#acceptLoop(bound));
  }

  async #acceptLoop(bound: BoundEndpoint): Promise<void> {
    while (!this.closed) {
      let conn;
      try {
        conn = await bound.listener.accept();
      } catch (e) {
        if (this.closed || !this.#bound.has(bound.endpoint)) return;
        this.events.emit({ type: "acceptFailed", endpoint: bound.endpoint, error: e as Error });
        await sleep(100, new AbortController().signal);
        continue;
      }
      if (conn === null) return;
      if (this.closed) {
        conn.close();
        return;
      }
      this.events.emit({ type: "accepted", endpoint: bound.endpoint, remote: conn.remoteEndpoint });
      const pipe = new Pipe(this, bound.endpoint);
      this.#pipes.add(pipe);
      bound.pipes.add(pipe);
      this.#handshaking.add(pipe);
      const run = pipe.run(conn, performance.now()).then((end) => {
        this.#connectionEnded(pipe, end);
        bound.pipes.delete(pipe);
        this.#pipes.delete(pipe);
        const routingId = this.pattern.routingIdOf?.(pipe);
        this.#detach(pipe);
        pipe.close(end.reason);
        const local = this.closed || !this.#bound.has(bound.endpoint);
        this.events.emit({
          type: "disconnected",
          endpoint: bound.endpoint,
          remote: pipe.remote,
          reason: end.reason,
          error: endError(end, local),
          ...(routingId === undefined ? {} : { routingId }),
        });
      });
      this.#track(run);
    }
  }

  async unbind(address: string): Promise<void> {
    if (typeof address !== "string") throw new TypeError("The endpoint must be a string");
    this.#checkOpen();
    let bound = this.#bound.get(address);
    if (bound === undefined) {
      for (const b of this.#bound.values()) if (b.requested === address) bound = b;
    }
    if (bound === undefined) throw new ZmqError("ENOENT", `Endpoint ${address} is not bound`);
    this.#bound.delete(bound.endpoint);
    bound.listener.close();
    for (const pipe of bound.pipes) pipe.drop("Endpoint unbound", undefined, true);
    await bound.loop;
    this.events.emit({ type: "closed", endpoint: bound.endpoint });
  }

  connect(address: string, options?: ConnectOptions): void {
    if (typeof address !== "string") throw new TypeError("The endpoint must be a string");
    this.#checkOpen();
    const endpoint = resolveEndpoint(address, "connect");
    const transport = this.#transport(endpoint);
    transport.checkConnect?.(endpoint, { mechanism: this.options.security.mechanism });
    const routingId = routingIdBytes(options?.routingId, "Connect option routingId");
    if (this.#connected.has(address)) {
      // libzmq allows it for some types, but a duplicate dial is almost always a bug.
      throw new ZmqError("EINVAL", `Already connected to ${address}`);
    }
    const pipe = new Pipe(this, address, routingId);
    this.#pipes.add(pipe);
    const rec: ConnectedEndpoint = {
      endpoint: address,
      pipe,
      abort: new AbortController(),
      loop: Promise.resolve(),
    };
    this.#connected.set(address, rec);
    this.lastEndpoint = address;
    if (this.pattern.attachEarly && !this.options.immediate) this.#attach(pipe);
    rec.loop = this.#track(this.#connectLoop(rec, transport, endpoint));
  }

  async #connectLoop(
    rec: ConnectedEndpoint,
    transport: Transport<EndpointBase>,
    endpoint: EndpointBase,
  ) {
    const { pipe, abort } = rec;
    const o = this.options;
    let attempt = 0;
    while (!abort.signal.aborted) {
      let conn;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let signal = abort.signal;
      if (o.connectTimeout > 0) {
        const timeout = new AbortController();
        timer = setTimeout(
          () => timeout.abort(new ZmqError("ETIMEDOUT", "Connect timed out")),
          o.connectTimeout,
        );
        signal = AbortSignal.any([abort.signal, timeout.signal]);
      }
      try {
        conn = await transport.connect(endpoint, { signal, mechanism: o.security.mechanism });
      } catch (e) {
        clearTimeout(timer);
        if (abort.signal.aborted) return;
        this.events.emit({ type: "connectDelayed", endpoint: rec.endpoint, error: e as Error });
        if (!(await this.#retry(rec, attempt++))) return;
        continue;
      }
      clearTimeout(timer);
      if (abort.signal.aborted) {
        conn.close();
        return;
      }
      attempt = 0;
      this.events.emit({ type: "connected", endpoint: rec.endpoint });
      this.#handshaking.add(pipe);
      const end = await pipe.run(conn, performance.now());
      this.#connectionEnded(pipe, end);
      const routingId = this.pattern.routingIdOf?.(pipe);
      // Pipes attached before the handshake keep their place (and queued
      // messages) across reconnects; the others join again on the next handshake.
      if (!this.pattern.attachEarly || o.immediate) this.#detach(pipe);
      this.events.emit({
        type: "disconnected",
        endpoint: rec.endpoint,
        remote: pipe.remote,
        reason: end.reason,
        error: endError(end, this.closed || abort.signal.aborted),
        ...(routingId === undefined ? {} : { routingId }),
      });
      if (abort.signal.aborted) return;
      if (!(await this.#retry(rec, attempt++))) return;
    }
  }

  async #retry(rec: ConnectedEndpoint, attempt: number): Promise<boolean> {
    const o = this.options;
    const delay = reconnectDelay(
      attempt,
      o.reconnectInterval,
      o.reconnectMaxInterval,
      Math.random(),
    );
    if (delay < 0) return false;
    this.events.emit({ type: "connectRetried", endpoint: rec.endpoint, interval: delay });
    await sleep(delay, rec.abort.signal);
    return !rec.abort.signal.aborted;
  }

  disconnect(address: string): void {
    if (typeof address !== "string") throw new TypeError("The endpoint must be a string");
    this.#checkOpen();
    const rec = this.#connected.get(address);
    if (rec === undefined) throw new ZmqError("ENOENT", `Endpoint ${address} is not connected`);
    this.#connected.delete(address);
    rec.abort.abort();
    rec.pipe.close("Endpoint disconnected");
    this.#pipes.delete(rec.pipe);
    this.#detach(rec.pipe);
  }

  // ---- pipes (PipeOwner) -----------------------------------------------

  #attach(pipe: Pipe): boolean {
    if (pipe.attached) return true;
    pipe.inbox = this.inbox.add(pipe);
    if (!this.pattern.attach(pipe)) {
      this.inbox.remove(pipe.inbox, false);
      pipe.inbox = undefined;
      return false;
    }
    pipe.attached = true;
    this.#pumpSenders();
    return true;
  }

  #detach(pipe: Pipe): void {
    if (!pipe.attached) return;
    pipe.attached = false;
    this.pattern.detach(pipe);
    if (pipe.inbox !== undefined) this.inbox.remove(pipe.inbox, true);
  }

  pipeReady(pipe: Pipe): boolean {
    if (this.closed) return false;
    // The handshake is over either way: a refused peer did not lose its connection mid-handshake.
    this.#handshaking.delete(pipe);
    const joined = pipe.attached || this.#attach(pipe);
    // A refused pipe the pattern parked keeps its connection (see Pipe.park).
    if (!joined && pipe.parked === undefined) {
      this.#conflicts.length = 0;
      return false;
    }
    const peer = pipe.peer!;
    if (this.options.peerMetadata) {
      pipe.metadata = new PeerMetadata({
        socketType: peer.socketType,
        address: pipe.remote,
        properties: peer.properties,
      });
    }
    const userId = peer.properties.get("User-Id");
    this.events.emit({
      type: "handshakeSucceeded",
      endpoint: pipe.endpoint,
      peer: {
        socketType: peer.socketType,
        routingId: peer.routingId,
        userId: userId === undefined ? undefined : new TextDecoder().decode(userId),
        properties: peer.properties,
      },
    });
    for (const event of this.#conflicts.splice(0)) this.events.emit(event);
    if (!joined) return true;
    this.pattern.ready?.(pipe);
    this.#pumpSenders();
    return true;
  }

  /**
   * Takes `pipe` out of the routing policy but keeps its connection open and
   * unused (a ROUTER's duplicate routing id, as libzmq does), and reports it.
   * Called by a pattern from `attach()`.
   */
  park(pipe: Pipe, action: RoutingIdConflict, routingId: Uint8Array): void {
    this.#detach(pipe);
    pipe.park(action);
    this.#conflicts.push({
      type: "routingIdConflict",
      endpoint: pipe.endpoint,
      remote: pipe.remote,
      routingId,
      action,
    });
  }

  pipeMessage(pipe: Pipe, frames: Message): void {
    if (!pipe.attached) return;
    this.pattern.message(pipe, frames);
    if (this.#receivers.length > 0) this.#pumpReceivers();
  }

  pipeCommand(pipe: Pipe, name: string, data: Uint8Array): void {
    if (!pipe.attached) return;
    this.pattern.command?.(pipe, name, data);
    // A command may queue a message (XPUB's subscription messages).
    if (this.#receivers.length > 0) this.#pumpReceivers();
  }

  pipeWritable(_pipe: Pipe): void {
    if (this.#senders.length > 0) this.#pumpSenders();
  }

  pipeHandshakeFailed(pipe: Pipe, ev: Extract<SessionEvent, { type: "error" }>): void {
    this.#handshaking.delete(pipe);
    this.events.emit({
      type: "handshakeFailed",
      endpoint: pipe.endpoint,
      remote: pipe.remote,
      kind: failureKind(ev),
      reason: ev.reason,
      error: new ZmqError(ev.code, ev.reason),
    });
  }

  /**
   * A connection lost before its handshake ended is a failed handshake too:
   * libzmq's monitor reports HANDSHAKE_FAILED_* there (a CURVE server closes
   * without an ERROR command on a wrong server key or a 300 ZAP reply, so the
   * client only sees the connection go). Closes we made ourselves are not.
   */
  #connectionEnded(pipe: Pipe, end: PipeEnd): void {
    pipe.cancelAuthentication?.();
    pipe.cancelAuthentication = undefined;
    if (!this.#handshaking.delete(pipe) || this.closed || end.local) return;
    const mechanism = this.options.security.mechanism;
    const secured = mechanism !== "NULL";
    const reason = `Connection lost during the ${mechanism} handshake: ${end.reason}` +
      (secured ? " (the peer may have refused our credentials or key)" : "");
    this.events.emit({
      type: "handshakeFailed",
      endpoint: pipe.endpoint,
      remote: pipe.remote,
      kind: secured ? "authentication" : "other",
      reason,
      error: new ZmqError("ECONNRESET", reason, end.error ? { cause: end.error } : undefined),
    });
  }

  /**
   * After taking `msg` from the inbox: gives it its peer's metadata (with
   * `peerMetadata`) and lets its pipe read again if it was paused. Done at
   * the take, not on arrival, so every pattern's messages get it (REP's and
   * DISH's are new arrays), and the classic zero-copy path pays one branch.
   */
  taken(msg: Message): void {
    const pattern = this.pattern;
    const pipe = pattern.lastSource !== undefined ? pattern.lastSource() : this.inbox.lastKey;
    if (pipe === undefined) return;
    if (this.options.peerMetadata) (msg as { peer?: PeerMetadata }).peer = pipe.metadata;
    pipe.checkInbound();
  }

  /** Makes `close()` wait for a pattern's background job (which must end soon after `closed`). */
  background(job: Promise<void>): void {
    this.#track(job);
  }

  /** Wakes waiting receivers when a pattern queued a message outside pipeMessage. */
  wakeReceivers(): void {
    if (this.#receivers.length > 0) this.#pumpReceivers();
  }

  /** Wakes waiting senders when room may have appeared (a raised send high-water mark). */
  wakeSenders(): void {
    if (this.#senders.length > 0) this.#pumpSenders();
  }

  /**
   * Puts messages a reader took but could not deliver back at the head of
   * the queue, in order: the next receive gets them first. A receive already
   * waiting gets them at once (only stateless types can have one then: a
   * REQ/REP that took a message is in its "received" state).
   */
  giveBack(messages: readonly Message[]): void {
    if (this.closed || messages.length === 0) return;
    this.#returned.unshift(...messages);
    const q = this.#receivers;
    while (q.length > 0 && this.#returned.length > 0) q.shift()!.resolve(this.#returned.shift()!);
  }

  /**
   * Drops given-back messages: a REQ/REP whose state already counts them as
   * received moves on when the application sends, so they are answered
   * (REP) or superseded (REQ) and must not come out of a later receive().
   */
  dropReturned(): void {
    this.#returned.length = 0;
  }

  // ---- send / receive --------------------------------------------------

  send(frames: Message, signal: AbortSignal | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new ZmqError("ETERM", "The socket is closed"));
    let prepared: Message;
    try {
      prepared = this.pattern.prepareSend(frames);
    } catch (e) {
      return Promise.reject(e);
    }
    const gated = this.#gated;
    if (gated !== undefined) {
      return new Promise((resolve, reject) =>
        gated.push({ frames: prepared, signal, resolve, reject })
      );
    }
    return this.#sendPrepared(prepared, signal);
  }

  #sendPrepared(prepared: Message, signal: AbortSignal | undefined): Promise<void> {
    if (this.closed) {
      this.pattern.sendAbandoned?.(prepared);
      return Promise.reject(new ZmqError("ETERM", "The socket is closed"));
    }
    if (this.#senders.length === 0 && this.pattern.trySend(prepared)) {
      const deferred = this.pattern.takeDeferred?.();
      if (deferred !== undefined) return this.#waitForCongested(deferred);
      // A loop of sends that never wait would starve our own I/O (libzmq's
      // I/O thread runs beside the application; here it is the same loop):
      // yield when the pattern asks, and at least every YIELD_AFTER_MS.
      if (this.pattern.shouldYield?.()) return this.#yield();
      if (++this.#unyielded >= YIELD_CHECK_EVERY) {
        this.#unyielded = 0;
        const now = performance.now();
        const after = this.pattern.yieldAfterMs ?? YIELD_AFTER_MS;
        if (now - this.#yieldedAt >= after) return this.#yield(now);
      }
      return SENT;
    }
    this.#yieldedAt = performance.now();
    const timeout = this.options.sendTimeout;
    if (timeout === 0) {
      this.pattern.sendAbandoned?.(prepared);
      return Promise.reject(new ZmqError("EAGAIN", "No peer can take the message now"));
    }
    return this.#wait(this.#senders, timeout, signal, "Send", prepared);
  }

  #yield(now: number = performance.now()): Promise<void> {
    this.#unyielded = 0;
    this.#yieldedAt = now;
    return new Promise((r) => macrotask(r as () => void));
  }

  /**
   * Lets I/O run until every congested peer has room again (at most
   * CONGESTION_TURNS macrotasks), queues the held-back messages where there is
   * room and drops the rest, then releases the sends made meanwhile, in order.
   * Never rejects: the held-back messages were accepted already.
   */
  async #waitForCongested(deferred: DeferredSend[]): Promise<void> {
    const gated: GatedSend[] = [];
    this.#gated = gated;
    this.#unyielded = 0;
    this.#yieldedAt = performance.now();
    for (let turn = 0; turn < CONGESTION_TURNS; turn++) {
      await new Promise((r) => macrotask(r as () => void));
      if (deferred.every((d) => d.pipe.hasRoom())) break;
    }
    queueWhereRoom(deferred);
    this.#gated = undefined;
    for (let i = 0; i < gated.length; i++) {
      const later = this.#gated as GatedSend[] | undefined;
      if (later !== undefined) {
        // A released send found congestion again: the rest wait behind it.
        for (let j = i; j < gated.length; j++) later.push(gated[j]);
        return;
      }
      const g = gated[i];
      this.#sendPrepared(g.frames, g.signal).then(g.resolve, g.reject);
    }
  }

  receive(
    signal: AbortSignal | undefined,
    timeout: number = this.options.receiveTimeout,
  ): Promise<Message> {
    if (this.closed) return Promise.reject(new ZmqError("ETERM", "The socket is closed"));
    if (this.#returned.length > 0) return Promise.resolve(this.#returned.shift()!);
    try {
      this.pattern.prepareReceive();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#receivers.length === 0) {
      const msg = this.pattern.tryReceive();
      if (msg !== undefined) {
        this.taken(msg);
        return Promise.resolve(msg);
      }
    }
    if (timeout === 0) {
      this.pattern.receiveAbandoned?.();
      return Promise.reject(new ZmqError("EAGAIN", "No message is available"));
    }
    return this.#wait(this.#receivers, timeout, signal, "Receive", NO_FRAMES);
  }

  /**
   * `receive()` without the wait, for the iterator and the readable stream:
   * the message at the head of the queue taken synchronously, or `undefined`
   * when there is none (or a `receive()` waits ahead, which must get it
   * first). Same checks as `receive()`; throws what it would reject with.
   */
  tryReceiveNow(): Message | undefined {
    if (this.closed) throw new ZmqError("ETERM", "The socket is closed");
    if (this.#returned.length > 0) return this.#returned.shift();
    this.pattern.prepareReceive();
    const msg = this.#receivers.length === 0 ? this.pattern.tryReceive() : undefined;
    if (msg === undefined) {
      // Undo prepareReceive's state (REQ/REP) so the caller's receive() can redo it.
      this.pattern.receiveAbandoned?.();
      return undefined;
    }
    this.taken(msg);
    return msg;
  }

  #wait<T>(
    queue: WaiterQueue<Waiter<T>>,
    timeout: number,
    signal: AbortSignal | undefined,
    what: string,
    frames: Message,
  ): Promise<T> {
    if (signal === undefined && timeout <= 0) {
      // The common case: no closure, no timer, no listener.
      const promise = new Promise<T>(capture);
      queue.push(new Waiter<T>(captured.resolve as (value: T) => void, captured.reject, frames));
      // Not kept here: they reach the promise, which will hold the message it gets.
      captured.resolve = captured.reject = noCleanup;
      return promise;
    }
    return new Promise<T>((resolve, reject) => {
      const waiter = new Waiter<T>(resolve, reject, frames);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => fail(abortError(signal!.reason, what));
      const cleanup = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      waiter.resolve = (v: T) => {
        cleanup();
        resolve(v);
      };
      waiter.reject = (e: unknown) => {
        cleanup();
        reject(e);
      };
      waiter.cleanup = cleanup;
      const abandoned = () => {
        if (queue === (this.#receivers as unknown)) this.pattern.receiveAbandoned?.();
        else this.pattern.sendAbandoned?.(frames);
      };
      const fail = (e: unknown) => {
        if (!queue.remove(waiter)) return;
        abandoned();
        waiter.reject(e);
        // A removed head may have blocked the ones behind it.
        if (queue === (this.#senders as unknown)) this.#pumpSenders();
      };
      if (signal !== undefined) {
        if (signal.aborted) {
          // Undo what prepareSend/prepareReceive set up (REQ/REP state), as a timeout does.
          abandoned();
          return reject(abortError(signal.reason, what));
        }
        signal.addEventListener("abort", onAbort, { once: true });
      }
      if (timeout > 0) {
        timer = setTimeout(
          () => fail(new ZmqError("EAGAIN", `${what} timed out after ${timeout} ms`)),
          timeout,
        );
      }
      queue.push(waiter);
    });
  }

  #pumpSenders(): void {
    const q = this.#senders;
    while (q.length > 0) {
      const w = q.peek()!;
      if (!this.pattern.trySend(w.frames)) return;
      // A waiting sender's turn comes from a pipe's own progress: no waiting
      // again for congested peers, queue where there is room and drop the rest.
      const deferred = this.pattern.takeDeferred?.();
      if (deferred !== undefined) {
        queueWhereRoom(deferred);
      }
      q.shift();
      w.resolve();
    }
  }

  #pumpReceivers(): void {
    const q = this.#receivers;
    while (q.length > 0) {
      const msg = this.pattern.tryReceive();
      if (msg === undefined) return;
      this.taken(msg);
      q.shift()!.resolve(msg);
    }
  }

  // ---- close -----------------------------------------------------------

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.closed = true;
    this.#closing = this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    for (const b of this.#bound.values()) b.listener.close();
    for (const c of this.#connected.values()) c.abort.abort();
    const term = () => new ZmqError("ETERM", "The socket was closed");
    for (const w of this.#senders.drain()) w.reject(term());
    for (const w of this.#receivers.drain()) w.reject(term());
    this.#returned.length = 0;
    const linger = this.options.linger;
    if (linger !== 0) {
      // Only peers with a connection can still receive; a handshake in progress counts.
      const pending = [...this.#pipes].filter((p) => p.pending);
      await Promise.all(pending.map((p) => p.drain(linger)));
    }
    for (const pipe of this.#pipes) pipe.close("Socket closed");
    while (this.#loops.size > 0) await Promise.all([...this.#loops]);
    for (const b of this.#bound.values()) {
      this.events.emit({ type: "closed", endpoint: b.endpoint });
    }
    this.#bound.clear();
    this.#connected.clear();
    this.#pipes.clear();
    this.events.end();
  }
}
