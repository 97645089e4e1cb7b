/**
 * Test helpers for the transport tests: bounded waits (every await in these
 * tests races a timeout whose timer is always cleared) and byte helpers.
 *
 * @module
 */

import type { Connection, Endpoint, Listener, Transport } from "../../src/transport/types.ts";

/** Default bound for a wait in a test, in milliseconds. */
export const TIMEOUT = 5000;

/** Resolves like `promise`, or rejects if it takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms = TIMEOUT, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `promise` is still pending after the queued tasks run (a macrotask turn). */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol("pending");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const turn = new Promise<symbol>((resolve) => {
    timer = setTimeout(() => resolve(marker), 0);
  });
  try {
    return (await Promise.race([promise.then(() => null, () => null), turn])) === marker;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads exactly `n` bytes (fails on end of stream or timeout). */
export async function readExactly(conn: Connection, n: number, ms = TIMEOUT): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  const deadline = Date.now() + ms;
  while (got < n) {
    const r = await within(
      conn.read(out.subarray(got)),
      Math.max(1, deadline - Date.now()),
      "read",
    );
    if (r === null) throw new Error(`End of stream after ${got} of ${n} bytes`);
    got += r;
  }
  return out;
}

/** Reads until end of stream; returns the bytes read. */
export async function readToEnd(conn: Connection, ms = TIMEOUT): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await within(conn.read(buffer), Math.max(1, deadline - Date.now()), "read");
    if (r === null) break;
    chunks.push(buffer.slice(0, r));
  }
  return concat(chunks);
}

/** Concatenates byte arrays. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Deterministic pseudo-random bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** `value` with a `Symbol.dispose` that closes it, for `using`. */
export function disposable<T extends { close(): void }>(value: T): T & Disposable {
  if (Symbol.dispose in value) return value as T & Disposable;
  return Object.assign(value, { [Symbol.dispose]: () => value.close() });
}

/** Connects to `listener` at `endpoint` and accepts; returns [client, server]. */
export async function connectPair(
  transport: Transport,
  listener: Listener,
  endpoint: Endpoint,
): Promise<[Connection & Disposable, Connection & Disposable]> {
  const [client, server] = await within(
    Promise.all([transport.connect(endpoint), listener.accept()]),
    TIMEOUT,
    "connect and accept",
  );
  if (server === null) {
    client.close();
    throw new Error("Listener closed while accepting");
  }
  return [disposable(client), disposable(server)];
}
