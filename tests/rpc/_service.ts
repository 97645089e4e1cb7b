/**
 * The service the RPC tests call, and a server/client pair on a fresh
 * endpoint of each transport. Handlers report what they saw (aborted
 * signals, generator cleanup) through promises the tests await with bounds.
 *
 * @module
 */

import {
  defineService,
  msgpackCodec,
  rawCodec,
  RpcClient,
  type RpcClientOptions,
  RpcError,
  RpcServer,
  type RpcServerOptions,
  serverStream,
  unary,
} from "../../rpc/mod.ts";
import assert from "node:assert/strict";
import { endpoint, type TransportName, WAIT, withTimeout } from "../socket/_helpers.ts";

/** A settable promise. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
} {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/** The test service. */
export const Test = defineService("test", {
  echo: unary<string, string>(),
  add: unary<{ a: number; b: number }, number>({
    request: msgpackCodec({
      guard: (v): v is { a: number; b: number } =>
        typeof v === "object" && v !== null && typeof (v as { a: unknown }).a === "number" &&
        typeof (v as { b: unknown }).b === "number",
    }),
  }),
  /** Replies after `ms`, or rejects with the signal's reason when it aborts. */
  sleep: unary<number, string>(),
  /** Replies after `ms` whatever its signal says. */
  stubborn: unary<number, string>(),
  fail: unary<string, string>(),
  crash: unary<string, string>(),
  count: serverStream<{ to: number; size?: number }, { n: number; pad?: Uint8Array }>(),
  forever: serverStream<number, Uint8Array>(),
  /** Yields 1 and 2, then fails with NOT_FOUND; a plain (sync) generator. */
  brittle: serverStream<null, number>(),
  upper: unary<Uint8Array, Uint8Array>({ request: rawCodec, response: rawCodec }),
});

/** What the handlers saw. */
export interface Observed {
  /** Resolves when a sleep() handler starts. */
  started: ReturnType<typeof deferred<void>>;
  aborted: ReturnType<typeof deferred<unknown>>;
  generatorClosed: ReturnType<typeof deferred<number>>;
  produced: number;
}

/** Adds the test service's handlers to `server`. */
export function serveTest(server: RpcServer): Observed {
  const seen: Observed = {
    started: deferred<void>(),
    aborted: deferred<unknown>(),
    generatorClosed: deferred<number>(),
    produced: 0,
  };
  server.add(Test, {
    echo: (s) => s,
    add: ({ a, b }) => a + b,
    sleep: (ms, { signal }) =>
      new Promise<string>((resolve, reject) => {
        seen.started.resolve();
        const timer = setTimeout(() => resolve(`slept ${ms}`), ms);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          seen.aborted.resolve(signal.reason);
          reject(signal.reason);
        }, { once: true });
      }),
    stubborn: (ms) => new Promise((resolve) => setTimeout(() => resolve("finally"), ms)),
    fail: (s) => {
      throw new RpcError("NOT_FOUND", `No ${s}`);
    },
    crash: () => {
      throw new Error("secret internal detail");
    },
    async *count({ to, size }) {
      for (let n = 1; n <= to; n++) {
        yield size === undefined ? { n } : { n, pad: new Uint8Array(size) };
      }
    },
    async *forever(size) {
      try {
        while (true) {
          seen.produced++;
          yield new Uint8Array(size);
        }
      } finally {
        seen.generatorClosed.resolve(seen.produced);
      }
    },
    *brittle() {
      yield 1;
      yield 2;
      throw new RpcError("NOT_FOUND", "Ran out");
    },
    upper: (bytes) => new TextEncoder().encode(new TextDecoder().decode(bytes).toUpperCase()),
  });
  return seen;
}

/** A bound server with the test service and a client connected to it. */
export async function pair(
  transport: TransportName,
  options: { server?: RpcServerOptions; client?: RpcClientOptions } = {},
): Promise<{ server: RpcServer; client: RpcClient; seen: Observed } & AsyncDisposable> {
  const server = new RpcServer(options.server);
  const seen = serveTest(server);
  await server.bind(endpoint(transport));
  const client = new RpcClient(server.lastEndpoint!, options.client);
  return {
    server,
    client,
    seen,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
    },
  };
}

/** Awaits `promise` (bounded) and asserts it rejects with an RpcError of `code`. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<RpcError> {
  try {
    await withTimeout(promise, WAIT, `call failing with ${code}`);
  } catch (error) {
    assert.ok(error instanceof RpcError, `expected RpcError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, the call succeeded`);
}
