/**
 * Typed service definitions: a service is a name and a set of methods, each
 * unary or server-streaming, each with the codecs of its request and
 * response. The same definition types the server's handlers
 * ({@linkcode Handlers}) and the client's stub ({@linkcode ServiceStub}); the
 * wire name of a method is `service/method`.
 *
 * @module
 */

import { type Codec, msgpackCodec } from "./codec.ts";

/** Codecs of one method; each defaults to {@linkcode msgpackCodec}. */
export interface MethodCodecs<Req, Res> {
  /** The request codec. */
  request?: Codec<Req>;
  /** The response codec (each item's, for a stream). */
  response?: Codec<Res>;
}

/** A unary method: one request, one response. */
export interface UnaryMethod<Req, Res> {
  /** The method's shape. */
  readonly kind: "unary";
  /** The request codec. */
  readonly request: Codec<Req>;
  /** The response codec. */
  readonly response: Codec<Res>;
}

/** A server-streaming method: one request, a stream of responses. */
export interface ServerStreamMethod<Req, Res> {
  /** The method's shape. */
  readonly kind: "serverStream";
  /** The request codec. */
  readonly request: Codec<Req>;
  /** The codec of each response item. */
  readonly response: Codec<Res>;
}

/** Any method descriptor. */
// deno-lint-ignore no-explicit-any
export type AnyMethod = UnaryMethod<any, any> | ServerStreamMethod<any, any>;

/**
 * Describes a unary method.
 *
 * @typeParam Req The request type.
 * @typeParam Res The response type.
 * @param codecs The codecs; MessagePack by default.
 * @returns The method descriptor.
 *
 * @example
 * ```ts
 * import { unary } from "@monocoque/zmtp/rpc";
 *
 * const add = unary<{ a: number; b: number }, number>();
 * console.assert(add.kind === "unary");
 * ```
 */
export function unary<Req, Res>(codecs: MethodCodecs<Req, Res> = {}): UnaryMethod<Req, Res> {
  return {
    kind: "unary",
    request: codecs.request ?? msgpackCodec<Req>(),
    response: codecs.response ?? msgpackCodec<Res>(),
  };
}

/**
 * Describes a server-streaming method.
 *
 * @typeParam Req The request type.
 * @typeParam Res The type of each response item.
 * @param codecs The codecs; MessagePack by default.
 * @returns The method descriptor.
 *
 * @example
 * ```ts
 * import { serverStream } from "@monocoque/zmtp/rpc";
 *
 * const countTo = serverStream<number, number>();
 * console.assert(countTo.kind === "serverStream");
 * ```
 */
export function serverStream<Req, Res>(
  codecs: MethodCodecs<Req, Res> = {},
): ServerStreamMethod<Req, Res> {
  return {
    kind: "serverStream",
    request: codecs.request ?? msgpackCodec<Req>(),
    response: codecs.response ?? msgpackCodec<Res>(),
  };
}

/** A named set of methods. */
export interface ServiceDefinition<M extends Record<string, AnyMethod>> {
  /** The service name, the first half of each wire method name. */
  readonly name: string;
  /** The methods by name. */
  readonly methods: M;
}

/**
 * Defines a service.
 *
 * @typeParam M The methods.
 * @param name The service name: printable ASCII without `/`.
 * @param methods The method descriptors by name.
 * @returns The service definition.
 *
 * @example
 * ```ts
 * import { defineService, serverStream, unary } from "@monocoque/zmtp/rpc";
 *
 * const Greeter = defineService("greeter", {
 *   hello: unary<{ name: string }, string>(),
 *   countdown: serverStream<number, number>(),
 * });
 * console.assert(Greeter.name === "greeter");
 * ```
 */
export function defineService<M extends Record<string, AnyMethod>>(
  name: string,
  methods: M,
): ServiceDefinition<M> {
  checkName(name, "Service name");
  for (const method of Object.keys(methods)) checkName(method, "Method name");
  return { name, methods };
}

function checkName(name: string, what: string): void {
  if (!/^[\x21-\x2e\x30-\x7e]{1,100}$/.test(name)) {
    throw new TypeError(`${what} must be 1 to 100 printable ASCII characters without '/'`);
  }
}

/** What a handler learns about its call. */
export interface CallContext {
  /** Aborts when the caller cancels, the deadline passes, or the server closes. */
  readonly signal: AbortSignal;
  /** The wire method name, `service/method`. */
  readonly method: string;
  /** The caller's routing id (ROUTER's peer id). */
  readonly peer: Uint8Array;
  /** When the call's deadline passes (`Date.now()` scale), or undefined for none. */
  readonly deadline: number | undefined;
}

/** A handler for one method of a service. */
export type Handler<T> = T extends UnaryMethod<infer Req, infer Res>
  ? (request: Req, context: CallContext) => Res | Promise<Res>
  : T extends ServerStreamMethod<infer Req, infer Res>
    ? (request: Req, context: CallContext) => AsyncIterable<Res> | Iterable<Res>
  : never;

/** Handlers for every method of a service. */
export type Handlers<M extends Record<string, AnyMethod>> = { [K in keyof M]: Handler<M[K]> };

/** Per-call options of the client. */
export interface CallOptions {
  /** Cancels the call; the server's handler sees its signal abort. */
  signal?: AbortSignal;
  /**
   * The deadline, in ms from now (non-negative, else a `RangeError`); the server learns it
   * too. Default: the client's `timeout`.
   */
  timeout?: number;
}

/** The client-side function of one method. */
export type StubMethod<T> = T extends UnaryMethod<infer Req, infer Res>
  ? (request: Req, options?: CallOptions) => Promise<Res>
  : T extends ServerStreamMethod<infer Req, infer Res>
    ? (request: Req, options?: CallOptions) => AsyncIterableIterator<Res>
  : never;

/** A typed client for a service: one function per method. */
export type ServiceStub<M extends Record<string, AnyMethod>> = {
  [K in keyof M]: StubMethod<M[K]>;
};
