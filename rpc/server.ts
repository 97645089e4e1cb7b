/**
 * The RPC server: a ROUTER socket serving typed services under the envelope
 * of rpc/SPEC.md. Every limit a client could push against is bounded: calls
 * in flight per peer and in total (`RESOURCE_EXHAUSTED` beyond them), message
 * size (the socket's `maxMessageSize`), each stream's credit window (a
 * stream's generator is pulled only while its client has granted credit, so
 * a client that stops reading stops the server's production), and the event
 * feed. Malformed envelopes are dropped with a `malformed` event; nothing a
 * client sends can reject a promise nobody handles.
 *
 * @module
 */

import { RouterSocket } from "../mod.ts";
import type { Message, SocketOptions } from "../mod.ts";
import { decimal, EMPTY, type Incoming, KIND_DATA, KIND_END, parseIncoming } from "./_envelope.ts";
import { EventFeed } from "./_event_queue.ts";
import type { AnyMethod, CallContext, Handlers, ServiceDefinition } from "./service.ts";
import { RpcError, STATUS_CODES, type StatusCode } from "./status.ts";

/** Options of {@linkcode RpcServer}. */
export interface RpcServerOptions {
  /** Calls one peer may have in flight; more are answered `RESOURCE_EXHAUSTED`. Default 100, as gRPC's. */
  maxConcurrentCallsPerPeer?: number;
  /** Calls in flight over all peers; more are answered `RESOURCE_EXHAUSTED`. Default 10000. */
  maxConcurrentCalls?: number;
  /**
   * Largest message accepted, in bytes (the socket's `maxMessageSize`: a peer
   * sending more is disconnected); responses larger than this are answered
   * `RESOURCE_EXHAUSTED` instead. Default 4 MiB, as gRPC's.
   */
  maxMessageSize?: number;
  /** Most stream items a client may have granted and not yet received, per call. Default 32. */
  maxStreamWindow?: number;
  /** How long a stream may wait for credit before it is ended `CANCELLED`; default 60000 ms. */
  streamStallTimeout?: number;
  /** Options of the underlying ROUTER socket (security, heartbeats, ...). */
  socket?: SocketOptions;
}

/** What {@linkcode RpcServer.events} reports. */
export type RpcServerEvent =
  /** A message that is not a valid envelope was dropped. */
  | { type: "malformed"; peer: Uint8Array; reason: string }
  /** A call was refused with `RESOURCE_EXHAUSTED` (a concurrency limit). */
  | { type: "exhausted"; peer: Uint8Array; method: string }
  /** A handler threw something other than an {@linkcode RpcError}; the caller got `INTERNAL`. */
  | { type: "handlerFailed"; method: string; error: unknown };

interface Entry {
  name: string;
  method: AnyMethod;
  // deno-lint-ignore no-explicit-any
  handler: (request: any, context: CallContext) => any;
}

/**
 * One call in flight, and the context its handler sees. The AbortController
 * is made only when the handler asks for `signal`: most handlers never do,
 * and creating one per call was a tenth of a unary call's server time.
 */
class Call implements CallContext {
  readonly key: string;
  readonly peer: Uint8Array;
  readonly id: Uint8Array;
  readonly delimited: boolean;
  readonly method: string;
  readonly deadline: number | undefined;
  readonly peerCalls: PeerCalls;
  credit: number;
  ended = false;
  wake: (() => void) | undefined = undefined;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #controller: AbortController | undefined;
  #reason: RpcError | undefined;

  constructor(
    key: string,
    peer: Uint8Array,
    id: Uint8Array,
    delimited: boolean,
    method: string,
    deadline: number | undefined,
    peerCalls: PeerCalls,
    credit: number,
  ) {
    this.key = key;
    this.peer = peer;
    this.id = id;
    this.delimited = delimited;
    this.method = method;
    this.deadline = deadline;
    this.peerCalls = peerCalls;
    this.credit = credit;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: RpcError): void {
    this.#reason ??= reason;
    this.#controller?.abort(reason);
  }
}

/** One peer's calls in flight, by call id (latin-1); dropped when empty. */
interface PeerCalls {
  key: string;
  calls: Map<string, Call>;
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

const encoder = new TextEncoder();

/**
 * Serves typed services over a ROUTER socket.
 *
 * @example A unary and a streaming method
 * ```ts
 * import { defineService, RpcClient, RpcServer, serverStream, unary } from "@monocoque/zmtp/rpc";
 *
 * const Greeter = defineService("greeter", {
 *   hello: unary<{ name: string }, string>(),
 *   countdown: serverStream<number, number>(),
 * });
 *
 * await using server = new RpcServer();
 * server.add(Greeter, {
 *   hello: ({ name }) => `Hello, ${name}`,
 *   async *countdown(from) {
 *     for (let i = from; i > 0; i--) yield i;
 *   },
 * });
 * await server.bind("tcp://127.0.0.1:0");
 *
 * await using client = new RpcClient(server.lastEndpoint!);
 * const greeter = client.stub(Greeter);
 * console.assert(await greeter.hello({ name: "Ada" }) === "Hello, Ada");
 * const seen: number[] = [];
 * for await (const n of greeter.countdown(3)) seen.push(n);
 * console.assert(seen.join() === "3,2,1");
 * ```
 */
export class RpcServer implements AsyncDisposable {
  readonly #router: RouterSocket;
  readonly #methods = new Map<string, Entry>();
  readonly #peers = new Map<string, PeerCalls>();
  // One-entry caches: a connection's messages come in runs, and a server has
  // few methods; these save building and hashing a string per message.
  #lastPeer: Uint8Array | undefined;
  #lastPeerCalls: PeerCalls | undefined;
  #lastMethod: Uint8Array = EMPTY;
  #lastEntry: Entry | undefined;
  readonly #events = new EventFeed<RpcServerEvent>(256);
  readonly #perPeer: number;
  readonly #total: number;
  readonly #maxSize: number;
  readonly #window: number;
  readonly #stall: number;
  readonly #loop: Promise<void>;
  readonly #watch: Promise<void>;
  #inFlight = 0;
  #closing: Promise<void> | undefined;

  /**
   * Creates a server; add services, then bind.
   *
   * @param options Limits and socket options.
   */
  constructor(options: RpcServerOptions = {}) {
    this.#perPeer = positive(options.maxConcurrentCallsPerPeer ?? 100, "maxConcurrentCallsPerPeer");
    this.#total = positive(options.maxConcurrentCalls ?? 10_000, "maxConcurrentCalls");
    this.#maxSize = positive(options.maxMessageSize ?? 4 * 1024 * 1024, "maxMessageSize");
    this.#window = positive(options.maxStreamWindow ?? 32, "maxStreamWindow");
    this.#stall = positive(options.streamStallTimeout ?? 60_000, "streamStallTimeout");
    // Room for every call of a peer to have its whole window queued, so an
    // honest client is never dropped by the ROUTER's full-pipe rule.
    const hwm = Math.max(1000, this.#perPeer * (this.#window + 1));
    this.#router = new RouterSocket({
      sendHighWaterMark: hwm,
      linger: 0,
      ...options.socket,
      maxMessageSize: this.#maxSize,
    });
    this.#loop = this.#serve();
    this.#watch = this.#watchPeers();
  }

  /**
   * Adds a service's handlers; its methods are served from now on.
   *
   * @param service The service definition.
   * @param handlers One handler per method.
   */
  add<M extends Record<string, AnyMethod>>(
    service: ServiceDefinition<M>,
    handlers: Handlers<M>,
  ): void {
    for (const [name, method] of Object.entries(service.methods)) {
      const handler = handlers[name as keyof M];
      if (typeof handler !== "function") {
        throw new TypeError(`No handler for method ${service.name}/${name}`);
      }
      const wire = `${service.name}/${name}`;
      this.#methods.set(wire, { name: wire, method, handler });
    }
  }

  /**
   * Binds the server's socket to an endpoint.
   *
   * @param endpoint E.g. `"tcp://127.0.0.1:0"`, `"ipc:///tmp/x"`, `"inproc://name"`.
   * @returns Resolves once bound.
   */
  bind(endpoint: string): Promise<void> {
    return this.#router.bind(endpoint);
  }

  /** The last endpoint bound, with the port resolved. */
  get lastEndpoint(): string | undefined {
    return this.#router.lastEndpoint;
  }

  /** Calls in flight, over all peers. */
  get callsInFlight(): number {
    return this.#inFlight;
  }

  /**
   * The server's events (malformed envelopes, refused calls, failed
   * handlers) from now on; a slow reader loses the oldest.
   *
   * @param signal Ends the iteration.
   * @returns An async iterator of events; it ends when the server closes.
   */
  events(signal?: AbortSignal): AsyncIterableIterator<RpcServerEvent> {
    return this.#events.subscribe(signal);
  }

  /**
   * Stops serving: every handler's signal aborts, the socket closes.
   * Idempotent.
   *
   * @returns Resolves once the socket is closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const peer of [...this.#peers.values()]) {
        for (const call of [...peer.calls.values()]) this.#end(call, undefined, "UNAVAILABLE");
      }
      await this.#router.close();
      await this.#loop;
      await this.#watch;
      this.#events.close();
    })();
    return this.#closing;
  }

  /** Closes the server (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #serve(): Promise<void> {
    try {
      for await (const message of this.#router) this.#receive(message);
    } catch {
      // The socket failed or closed: nothing left to serve.
    }
  }

  // A peer gone cannot read answers: its calls are cancelled at once (their
  // handlers' signals abort) instead of holding their slots until each
  // handler ends, so peers that start calls and vanish cannot exhaust the
  // server's limits.
  async #watchPeers(): Promise<void> {
    try {
      for await (const event of this.#router.events()) {
        if (event.type !== "disconnected" || !(event.routingId instanceof Uint8Array)) continue;
        const peerCalls = this.#peers.get(latin1(event.routingId));
        if (peerCalls === undefined) continue;
        for (const call of [...peerCalls.calls.values()]) this.#end(call, undefined, "CANCELLED");
      }
    } catch {
      // The socket closed: nothing left to watch.
    }
  }

  #receive(message: Message): void {
    const peer = message[0];
    // A REQ peer puts an empty delimiter first; its replies need one too.
    const delimited = message.length > 1 && message[1].length === 0;
    const parsed = parseIncoming(message, delimited ? 2 : 1);
    if (typeof parsed === "string") {
      this.#events.emit({ type: "malformed", peer, reason: parsed });
      return;
    }
    const peerCalls = this.#peerCalls(peer);
    if (parsed.kind === "call") {
      this.#start(peerCalls, peer, delimited, parsed);
      return;
    }
    const call = peerCalls?.calls.get(latin1(parsed.id));
    if (call === undefined) return; // finished meanwhile: nothing to do
    if (parsed.kind === "cancel") {
      this.#end(call, undefined, "CANCELLED");
    } else {
      call.credit = Math.min(this.#window, call.credit + parsed.credit);
      call.wake?.();
    }
  }

  #peerCalls(peer: Uint8Array): PeerCalls | undefined {
    if (peer === this.#lastPeer) return this.#lastPeerCalls;
    const found = this.#peers.get(latin1(peer));
    if (found !== undefined) {
      this.#lastPeer = peer;
      this.#lastPeerCalls = found;
    }
    return found;
  }

  #entry(method: Uint8Array): Entry | undefined {
    if (sameBytes(method, this.#lastMethod)) return this.#lastEntry;
    const entry = this.#methods.get(latin1(method));
    if (entry !== undefined) {
      this.#lastMethod = method.slice();
      this.#lastEntry = entry;
    }
    return entry;
  }

  #start(
    peerCalls: PeerCalls | undefined,
    peer: Uint8Array,
    delimited: boolean,
    parsed: Extract<Incoming, { kind: "call" }>,
  ): void {
    const key = latin1(parsed.id);
    if (peerCalls?.calls.has(key)) {
      this.#events.emit({ type: "malformed", peer, reason: "call id in use" });
      return;
    }
    // An own copy: the frame is a view of a read chunk the call would pin.
    const id = parsed.id.slice();
    const entry = this.#entry(parsed.method);
    if (entry === undefined) {
      const name = latin1(parsed.method);
      return this.#refuse(delimited, peer, id, "UNIMPLEMENTED", `Unknown method ${name}`);
    }
    if (this.#inFlight >= this.#total || (peerCalls?.calls.size ?? 0) >= this.#perPeer) {
      this.#events.emit({ type: "exhausted", peer, method: entry.name });
      return this.#refuse(delimited, peer, id, "RESOURCE_EXHAUSTED", "Too many calls in flight");
    }
    let request: unknown;
    try {
      request = entry.method.request.decode(parsed.payload);
    } catch {
      return this.#refuse(delimited, peer, id, "INVALID_ARGUMENT", "Request does not decode");
    }
    if (peerCalls === undefined) {
      peerCalls = { key: latin1(peer), calls: new Map() };
      this.#peers.set(peerCalls.key, peerCalls);
      this.#lastPeer = peer;
      this.#lastPeerCalls = peerCalls;
    }
    const call = new Call(
      key,
      peer,
      id,
      delimited,
      entry.name,
      parsed.timeout < 0 ? undefined : Date.now() + parsed.timeout,
      peerCalls,
      Math.min(this.#window, parsed.credit < 0 ? 16 : parsed.credit),
    );
    this.#inFlight++;
    peerCalls.calls.set(key, call);
    // Longer than a timer can count (about 24.8 days) is as good as none.
    if (parsed.timeout >= 0 && parsed.timeout <= MAX_TIMER) {
      call.timer = setTimeout(
        () => this.#end(call, undefined, "DEADLINE_EXCEEDED"),
        parsed.timeout,
      );
    }
    if (entry.method.kind === "unary") this.#unary(call, entry, request);
    else this.#stream(call, entry, request);
  }

  #refuse(
    delimited: boolean,
    peer: Uint8Array,
    id: Uint8Array,
    status: StatusCode,
    text: string,
  ): void {
    this.#sendEnd(delimited, peer, id, status, text, EMPTY);
  }

  // Both runners catch everything and release the call's slot when the
  // handler settles, never before.
  async #unary(call: Call, entry: Entry, request: unknown): Promise<void> {
    try {
      let response = entry.handler(request, call);
      if (typeof response?.then === "function") response = await response;
      if (call.ended) return;
      const bytes = entry.method.response.encode(response);
      if (bytes.length > this.#maxSize) {
        this.#end(call, undefined, "RESOURCE_EXHAUSTED", "Response too large");
      } else {
        this.#end(call, bytes, "OK");
      }
    } catch (error) {
      this.#fail(call, entry, error);
    } finally {
      this.#release(call);
    }
  }

  async #stream(call: Call, entry: Entry, request: unknown): Promise<void> {
    let iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
    try {
      const items = entry.handler(request, call) as AsyncIterable<unknown> | Iterable<unknown>;
      iterator = Symbol.asyncIterator in items
        ? items[Symbol.asyncIterator]()
        : (items as Iterable<unknown>)[Symbol.iterator]();
      while (!call.ended) {
        if (call.credit <= 0) {
          await this.#creditOrStall(call);
          continue;
        }
        const next = await iterator.next();
        if (call.ended) break;
        if (next.done) {
          this.#end(call, undefined, "OK");
          break;
        }
        const bytes = entry.method.response.encode(next.value);
        if (bytes.length > this.#maxSize) {
          this.#end(call, undefined, "RESOURCE_EXHAUSTED", "Response too large");
          break;
        }
        call.credit--;
        // Awaited: the socket's own congestion gate paces a fast generator.
        const frames = call.delimited
          ? [call.peer, EMPTY, KIND_DATA, call.id, bytes]
          : [call.peer, KIND_DATA, call.id, bytes];
        await this.#router.send(frames).catch(ignore);
      }
    } catch (error) {
      this.#fail(call, entry, error);
    } finally {
      try {
        await iterator?.return?.();
      } catch {
        // The generator's own cleanup failed: the call is over either way.
      }
      this.#release(call);
    }
  }

  async #creditOrStall(call: Call): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      call.wake = resolve;
      timer = setTimeout(() => {
        this.#end(call, undefined, "CANCELLED", "Stream stalled without credit");
      }, this.#stall);
    });
    clearTimeout(timer);
    call.wake = undefined;
  }

  #fail(call: Call, entry: Entry, error: unknown): void {
    if (call.ended) return;
    if (error instanceof RpcError) {
      this.#end(call, undefined, error.code, error.message);
    } else {
      this.#events.emit({ type: "handlerFailed", method: entry.name, error });
      this.#end(call, undefined, "INTERNAL", "Internal error");
    }
  }

  /**
   * Ends a call once: answers it (unless the caller cancelled), aborts the
   * handler's signal unless it finished OK, wakes a stream waiting for credit.
   * The slot is released only when the handler settles, so a handler that
   * ignores its signal still counts against the limits.
   */
  #end(call: Call, payload: Uint8Array | undefined, status: StatusCode, text = ""): void {
    if (call.ended) return;
    call.ended = true;
    clearTimeout(call.timer);
    if (status !== "CANCELLED" || text !== "") {
      const message = text === "" && status !== "OK" ? defaultText(status) : text;
      this.#sendEnd(call.delimited, call.peer, call.id, status, message, payload ?? EMPTY);
    }
    if (status !== "OK") call.abort(new RpcError(status, defaultText(status)));
    call.wake?.();
  }

  #release(call: Call): void {
    const peerCalls = call.peerCalls;
    clearTimeout(call.timer);
    call.ended = true;
    peerCalls.calls.delete(call.key);
    this.#inFlight--;
    if (peerCalls.calls.size === 0) {
      this.#peers.delete(peerCalls.key);
      if (this.#lastPeerCalls === peerCalls) this.#lastPeer = this.#lastPeerCalls = undefined;
    }
  }

  #sendEnd(
    delimited: boolean,
    peer: Uint8Array,
    id: Uint8Array,
    status: StatusCode,
    text: string,
    payload: Uint8Array,
  ): void {
    const code = decimal(STATUS_CODES[status]);
    const message = utf8(text);
    const frames = delimited
      ? [peer, EMPTY, KIND_END, id, code, message, payload]
      : [peer, KIND_END, id, code, message, payload];
    this.#router.send(frames).catch(ignore);
  }
}

/** The longest delay setTimeout takes; longer ones fire at once. */
const MAX_TIMER = 0x7fff_ffff;

// Unroutable (the peer left) or closed: a reply has nowhere to go.
function ignore(): void {}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function utf8(text: string): Uint8Array {
  return text === "" ? EMPTY : encoder.encode(text);
}

function defaultText(status: StatusCode): string {
  switch (status) {
    case "CANCELLED":
      return "Call cancelled";
    case "DEADLINE_EXCEEDED":
      return "Deadline exceeded";
    case "UNAVAILABLE":
      return "Server closing";
    default:
      return "";
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer`);
  }
  return value;
}
