/**
 * The RPC client: one DEALER connection to one server endpoint, with every
 * call multiplexed on it under its own call id (rpc/SPEC.md). Deadlines run
 * here and travel to the server; an aborted signal fails the call here and
 * sends a cancel, so the server's handler sees its signal abort. A stream's
 * items are granted to the server in credit windows as the caller reads
 * them, so a caller that stops reading stops the server producing.
 *
 * @module
 */

import { DealerSocket } from "../mod.ts";
import type { Message, SocketOptions } from "../mod.ts";
import { decimal, EMPTY, KIND_CALL, KIND_CANCEL, KIND_CREDIT, parseOutgoing } from "./_envelope.ts";
import type {
  AnyMethod,
  CallOptions,
  ServerStreamMethod,
  ServiceDefinition,
  ServiceStub,
  UnaryMethod,
} from "./service.ts";
import { RpcError, statusName } from "./status.ts";

/** Options of {@linkcode RpcClient}. */
export interface RpcClientOptions {
  /** Default deadline of every call, in ms; default none. */
  timeout?: number;
  /** Stream items granted to the server ahead of reading, per call; default 16. */
  streamWindow?: number;
  /** Largest message accepted from the server, in bytes; default 4 MiB. */
  maxMessageSize?: number;
  /** Options of the underlying DEALER socket (security, heartbeats, ...). */
  socket?: SocketOptions;
}

interface UnaryCall {
  kind: "unary";
  // deno-lint-ignore no-explicit-any
  method: UnaryMethod<any, any>;
  resolve: (value: unknown) => void;
  reject: (error: RpcError) => void;
  done: () => void;
}

interface StreamCall {
  kind: "stream";
  items: Uint8Array[];
  finished: boolean;
  error: RpcError | undefined;
  wake: (() => void) | undefined;
  done: () => void;
}

const decoder = new TextDecoder();

/**
 * A per-call timeout is checked like the client's: a negative one had no
 * decimal form (the call failed as unsendable) and NaN silently meant none.
 */
function checkTimeout(options: CallOptions | undefined): void {
  const timeout = options?.timeout;
  if (timeout !== undefined && !(timeout >= 0)) {
    throw new RangeError("timeout must be a non-negative number");
  }
}

const noop = (): void => {};
const encoder = new TextEncoder();

/**
 * Calls typed services on one {@linkcode RpcServer}.
 *
 * @example Deadlines, cancellation and status codes
 * ```ts
 * import { defineService, RpcClient, RpcError, RpcServer, unary } from "@monocoque/zmtp/rpc";
 *
 * const Slow = defineService("slow", { wait: unary<number, string>() });
 * await using server = new RpcServer();
 * server.add(Slow, {
 *   wait: (ms, { signal }) =>
 *     new Promise((resolve, reject) => {
 *       const timer = setTimeout(() => resolve("done"), ms);
 *       signal.addEventListener("abort", () => {
 *         clearTimeout(timer);
 *         reject(signal.reason);
 *       });
 *     }),
 * });
 * await server.bind("inproc://rpc-client-doc");
 *
 * await using client = new RpcClient("inproc://rpc-client-doc");
 * const slow = client.stub(Slow);
 * try {
 *   await slow.wait(10_000, { timeout: 50 });
 * } catch (error) {
 *   console.assert(error instanceof RpcError && error.code === "DEADLINE_EXCEEDED");
 * }
 * ```
 */
export class RpcClient implements AsyncDisposable {
  readonly #dealer: DealerSocket;
  readonly #calls = new Map<number, UnaryCall | StreamCall>();
  readonly #timeout: number | undefined;
  readonly #window: number;
  readonly #loops: Promise<void>;
  #nextId = 0;
  #closing: Promise<void> | undefined;

  /**
   * Creates a client and connects it (in the background, with reconnects).
   *
   * @param endpoint The server's endpoint.
   * @param options Deadlines, the stream window and socket options.
   */
  constructor(endpoint: string, options: RpcClientOptions = {}) {
    if (options.timeout !== undefined && !(options.timeout >= 0)) {
      throw new RangeError("timeout must be a non-negative number");
    }
    this.#timeout = options.timeout;
    this.#window = options.streamWindow ?? 16;
    if (!Number.isSafeInteger(this.#window) || this.#window < 1 || this.#window > 1_000_000) {
      throw new RangeError("streamWindow must be an integer from 1 to 1000000");
    }
    this.#dealer = new DealerSocket({
      linger: 1000,
      ...options.socket,
      maxMessageSize: options.maxMessageSize ?? 4 * 1024 * 1024,
    });
    this.#dealer.connect(endpoint);
    this.#loops = Promise.all([this.#receiveLoop(), this.#watchLoop()]).then(() => {});
  }

  /**
   * A typed stub: one function per method of the service.
   *
   * @param service The service definition.
   * @returns The stub.
   */
  stub<M extends Record<string, AnyMethod>>(service: ServiceDefinition<M>): ServiceStub<M> {
    const stub: Record<string, unknown> = {};
    for (const [name, method] of Object.entries(service.methods)) {
      const wire = encoder.encode(`${service.name}/${name}`);
      stub[name] = method.kind === "unary"
        ? (request: unknown, options?: CallOptions) => this.#unary(wire, method, request, options)
        : (request: unknown, options?: CallOptions) => this.#stream(wire, method, request, options);
    }
    return stub as ServiceStub<M>;
  }

  /**
   * Calls a unary method by its wire name, for callers without the service
   * definition.
   *
   * @param name The wire method name, `service/method`.
   * @param method The method descriptor (its codecs).
   * @param request The request.
   * @param options A signal and a deadline.
   * @returns The response; rejects with an {@linkcode RpcError}.
   */
  call<Req, Res>(
    name: string,
    method: UnaryMethod<Req, Res>,
    request: Req,
    options?: CallOptions,
  ): Promise<Res> {
    return this.#unary(encoder.encode(name), method, request, options) as Promise<Res>;
  }

  /**
   * Calls a server-streaming method by its wire name.
   *
   * @param name The wire method name, `service/method`.
   * @param method The method descriptor (its codecs).
   * @param request The request.
   * @param options A signal and a deadline.
   * @returns The responses; the iterator throws an {@linkcode RpcError} if the call fails.
   */
  stream<Req, Res>(
    name: string,
    method: ServerStreamMethod<Req, Res>,
    request: Req,
    options?: CallOptions,
  ): AsyncIterableIterator<Res> {
    return this.#stream(encoder.encode(name), method, request, options) as AsyncIterableIterator<
      Res
    >;
  }

  /** Calls in flight on this client. */
  get callsInFlight(): number {
    return this.#calls.size;
  }

  /**
   * Fails every call in flight with `UNAVAILABLE`, tells the server to
   * cancel them, and closes the connection. Idempotent.
   *
   * @returns Resolves once the socket is closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const [id, call] of this.#calls) {
        this.#cancel(id);
        this.#fail(id, call, new RpcError("UNAVAILABLE", "Client closed"));
      }
      await this.#dealer.close();
      await this.#loops;
    })();
    return this.#closing;
  }

  /** Closes the client (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Sends a call; returns what undoes its deadline timer and abort listener. */
  #begin(
    id: number,
    call: UnaryCall | StreamCall,
    wire: Uint8Array,
    payload: Uint8Array,
    credit: Uint8Array,
    options: CallOptions | undefined,
  ): () => void {
    const timeout = options?.timeout ?? this.#timeout;
    const signal = options?.signal;
    // Longer than a timer can count (about 24.8 days) is as good as none, and
    // Infinity has no decimal form: neither is sent.
    const timed = timeout !== undefined && timeout <= 0x7fff_ffff;
    const timeoutFrame = timed ? decimal(Math.ceil(timeout)) : EMPTY;
    this.#dealer.send([KIND_CALL, decimal(id), wire, timeoutFrame, credit, payload]).catch(
      (cause) =>
        this.#fail(id, call, new RpcError("UNAVAILABLE", "Call could not be sent", { cause })),
    );
    if (!timed && signal === undefined) return noop; // the common case allocates nothing more
    const timer = timed
      ? setTimeout(() => {
        this.#cancel(id);
        this.#fail(id, call, new RpcError("DEADLINE_EXCEEDED", "Deadline exceeded"));
      }, timeout)
      : undefined;
    const onAbort = () => {
      this.#cancel(id);
      this.#fail(id, call, new RpcError("CANCELLED", "Call cancelled", { cause: signal?.reason }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    return () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
  }

  #unary(
    wire: Uint8Array,
    // deno-lint-ignore no-explicit-any
    method: UnaryMethod<any, any>,
    request: unknown,
    options: CallOptions | undefined,
  ): Promise<unknown> {
    if (this.#closing !== undefined) {
      return Promise.reject(new RpcError("UNAVAILABLE", "Client closed"));
    }
    if (options?.signal?.aborted) {
      return Promise.reject(
        new RpcError("CANCELLED", "Call cancelled", { cause: options.signal.reason }),
      );
    }
    checkTimeout(options);
    const payload = method.request.encode(request);
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const call: UnaryCall = { kind: "unary", method, resolve, reject, done: noop };
      this.#calls.set(id, call);
      call.done = this.#begin(id, call, wire, payload, EMPTY, options);
    });
  }

  #stream(
    wire: Uint8Array,
    // deno-lint-ignore no-explicit-any
    method: ServerStreamMethod<any, any>,
    request: unknown,
    options: CallOptions | undefined,
  ): AsyncIterableIterator<unknown> {
    const call: StreamCall = {
      kind: "stream",
      items: [],
      finished: false,
      error: undefined,
      wake: undefined,
      done: noop,
    };
    checkTimeout(options);
    const id = ++this.#nextId;
    if (this.#closing !== undefined) {
      call.finished = true;
      call.error = new RpcError("UNAVAILABLE", "Client closed");
    } else if (options?.signal?.aborted) {
      call.finished = true;
      call.error = new RpcError("CANCELLED", "Call cancelled", { cause: options.signal.reason });
    } else {
      const payload = method.request.encode(request);
      this.#calls.set(id, call);
      call.done = this.#begin(id, call, wire, payload, decimal(this.#window), options);
    }
    const half = Math.max(1, this.#window >> 1);
    let consumed = 0;
    const send = (frames: Uint8Array[]) => this.#send(frames);
    const cancel = () => this.#cancel(id);
    const fail = (error: RpcError) => this.#fail(id, call, error);
    return {
      async next(): Promise<IteratorResult<unknown>> {
        while (true) {
          const bytes = call.items.shift();
          if (bytes !== undefined) {
            if (!call.finished && ++consumed >= half) {
              send([KIND_CREDIT, decimal(id), decimal(consumed)]);
              consumed = 0;
            }
            try {
              return { done: false, value: method.response.decode(bytes) };
            } catch (cause) {
              cancel();
              const error = new RpcError("INTERNAL", "Response does not decode", { cause });
              fail(error);
              call.items.length = 0;
              call.error = undefined;
              throw error;
            }
          }
          if (call.error !== undefined) {
            const error = call.error;
            call.error = undefined;
            throw error;
          }
          if (call.finished) return { done: true, value: undefined };
          await new Promise<void>((resolve) => call.wake = resolve);
          call.wake = undefined;
        }
      },
      return(): Promise<IteratorResult<unknown>> {
        if (!call.finished) {
          cancel();
          fail(new RpcError("CANCELLED", "Call cancelled"));
        }
        call.items.length = 0;
        call.error = undefined;
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  #fail(id: number, call: UnaryCall | StreamCall, error: RpcError): void {
    if (this.#calls.get(id) !== call) return;
    this.#calls.delete(id);
    call.done();
    if (call.kind === "unary") {
      call.reject(error);
    } else {
      call.finished = true;
      call.error = error;
      call.wake?.();
    }
  }

  #cancel(id: number): void {
    if (this.#calls.has(id)) this.#send([KIND_CANCEL, decimal(id)]);
  }

  #send(frames: Uint8Array[]): void {
    // A cancel or credit that cannot be sent (closing) has nothing left to stop.
    this.#dealer.send(frames).catch(() => {});
  }

  #receive(message: Message): void {
    const reply = parseOutgoing(message);
    if (reply === undefined) return; // not an envelope: dropped
    const call = this.#calls.get(reply.id);
    if (call === undefined) return; // cancelled or timed out meanwhile
    if (reply.kind === "data") {
      if (call.kind !== "stream") return;
      if (call.items.length >= this.#window) {
        this.#cancel(reply.id);
        this.#fail(reply.id, call, new RpcError("INTERNAL", "Server sent beyond its credit"));
        return;
      }
      call.items.push(reply.payload);
      call.wake?.();
      return;
    }
    if (reply.status !== 0) {
      const text = decoder.decode(reply.message);
      this.#fail(reply.id, call, new RpcError(statusName(reply.status), text));
      return;
    }
    this.#calls.delete(reply.id);
    call.done();
    if (call.kind === "stream") {
      call.finished = true;
      call.wake?.();
      return;
    }
    try {
      call.resolve(call.method.response.decode(reply.payload));
    } catch (cause) {
      call.reject(new RpcError("INTERNAL", "Response does not decode", { cause }));
    }
  }

  async #receiveLoop(): Promise<void> {
    try {
      for await (const message of this.#dealer) this.#receive(message);
    } catch {
      // The socket failed or closed: close() fails what is left.
    }
  }

  async #watchLoop(): Promise<void> {
    try {
      for await (const event of this.#dealer.events()) {
        if (event.type !== "disconnected") continue;
        // The server cannot answer calls sent over a connection that is gone.
        for (const [id, call] of this.#calls) {
          this.#fail(id, call, new RpcError("UNAVAILABLE", "Connection lost"));
        }
      }
    } catch {
      // Events end with the socket.
    }
  }
}
