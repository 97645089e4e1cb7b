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

interface Call {
  key: string;
  peer: Uint8Array;
  id: Uint8Array;
  delimited: boolean;
  controller: AbortController;
  credit: number;
  ended: boolean;
  wake: (() => void) | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface PeerCalls {
  key: string;
  count: number;
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
  readonly #calls = new Map<string, Call>();
  readonly #peers = new Map<string, PeerCalls>();
  readonly #events = new EventFeed<RpcServerEvent>(256);
  readonly #perPeer: number;
  readonly #total: number;
  readonly #maxSize: number;
  readonly #window: number;
  readonly #stall: number;
  readonly #loop: Promise<void>;
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
      for (const call of this.#calls.values()) this.#end(call, undefined, "UNAVAILABLE");
      await this.#router.close();
      await this.#loop;
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

  #receive(message: Message): void {
    const peer = message[0];
    // A REQ peer puts an empty delimiter first; its replies need one too.
    const delimited = message.length > 1 && message[1].length === 0;
    const parsed = parseIncoming(message, delimited ? 2 : 1);
    if (typeof parsed === "string") {
      this.#events.emit({ type: "malformed", peer, reason: parsed });
      return;
    }
    const peerKey = latin1(peer);
    // Routing ids are at most 255 bytes: the length prefix keeps peer and call id apart.
    const key = String.fromCharCode(peer.length) + peerKey + latin1(parsed.id);
    if (parsed.kind === "call") {
      this.#start(key, peerKey, peer, delimited, parsed);
      return;
    }
    const call = this.#calls.get(key);
    if (call === undefined) return; // finished meanwhile: nothing to do
    if (parsed.kind === "cancel") {
      this.#end(call, undefined, "CANCELLED");
    } else {
      call.credit = Math.min(this.#window, call.credit + parsed.credit);
      call.wake?.();
    }
  }

  #start(
    key: string,
    peerKey: string,
    peer: Uint8Array,
    delimited: boolean,
    parsed: Extract<Incoming, { kind: "call" }>,
  ): void {
    if (this.#calls.has(key)) {
      this.#events.emit({ type: "malformed", peer, reason: "call id in use" });
      return;
    }
    // An own copy: the frame is a view of a read chunk the call would pin.
    const id = parsed.id.slice();
    const reply = (status: StatusCode, text: string): void => {
      this.#send(delimited, peer, [KIND_END, id, decimal(STATUS_CODES[status]), utf8(text), EMPTY]);
    };
    const name = latin1(parsed.method);
    const entry = this.#methods.get(name);
    if (entry === undefined) return reply("UNIMPLEMENTED", `Unknown method ${name}`);
    let counts = this.#peers.get(peerKey);
    if (this.#inFlight >= this.#total || (counts?.count ?? 0) >= this.#perPeer) {
      this.#events.emit({ type: "exhausted", peer, method: name });
      return reply("RESOURCE_EXHAUSTED", "Too many calls in flight");
    }
    let request: unknown;
    try {
      request = entry.method.request.decode(parsed.payload);
    } catch {
      return reply("INVALID_ARGUMENT", "Request does not decode");
    }
    const call: Call = {
      key,
      peer,
      id,
      delimited,
      controller: new AbortController(),
      credit: Math.min(this.#window, parsed.credit < 0 ? 16 : parsed.credit),
      ended: false,
      wake: undefined,
      timer: undefined,
    };
    if (counts === undefined) {
      counts = { key: peerKey, count: 0 };
      this.#peers.set(peerKey, counts);
    }
    counts.count++;
    this.#inFlight++;
    this.#calls.set(key, call);
    const deadline = parsed.timeout < 0 ? undefined : Date.now() + parsed.timeout;
    if (parsed.timeout >= 0) {
      call.timer = setTimeout(
        () => this.#end(call, undefined, "DEADLINE_EXCEEDED"),
        parsed.timeout,
      );
    }
    const context: CallContext = { signal: call.controller.signal, method: name, peer, deadline };
    const run = entry.method.kind === "unary"
      ? this.#unary(call, entry, request, context)
      : this.#stream(call, entry, request, context);
    // Both runners catch everything; this is the last line of defence.
    run.catch(() => {}).finally(() => this.#release(call, counts!));
  }

  async #unary(call: Call, entry: Entry, request: unknown, context: CallContext): Promise<void> {
    try {
      const response = await entry.handler(request, context);
      if (call.ended) return;
      const bytes = entry.method.response.encode(response);
      if (bytes.length > this.#maxSize) {
        this.#end(call, undefined, "RESOURCE_EXHAUSTED", "Response too large");
      } else {
        this.#end(call, bytes, "OK");
      }
    } catch (error) {
      this.#fail(call, entry, error);
    }
  }

  async #stream(call: Call, entry: Entry, request: unknown, context: CallContext): Promise<void> {
    let iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
    try {
      const items = entry.handler(request, context) as AsyncIterable<unknown> | Iterable<unknown>;
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
        await this.#send(call.delimited, call.peer, [KIND_DATA, call.id, bytes]);
      }
    } catch (error) {
      this.#fail(call, entry, error);
    } finally {
      try {
        await iterator?.return?.();
      } catch {
        // The generator's own cleanup failed: the call is over either way.
      }
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
      this.#send(call.delimited, call.peer, [
        KIND_END,
        call.id,
        decimal(STATUS_CODES[status]),
        utf8(message),
        payload ?? EMPTY,
      ]);
    }
    if (status !== "OK") call.controller.abort(new RpcError(status, defaultText(status)));
    call.wake?.();
  }

  #release(call: Call, counts: PeerCalls): void {
    clearTimeout(call.timer);
    call.ended = true;
    this.#calls.delete(call.key);
    this.#inFlight--;
    if (--counts.count === 0) this.#peers.delete(counts.key);
  }

  #send(delimited: boolean, peer: Uint8Array, frames: Uint8Array[]): Promise<void> {
    const message = delimited ? [peer, EMPTY, ...frames] : [peer, ...frames];
    // Unroutable (the peer left) or closed: the reply has nowhere to go.
    return this.#router.send(message).catch(() => {});
  }
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
