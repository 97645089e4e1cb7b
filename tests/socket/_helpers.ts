/**
 * Helpers for the socket behaviour tests: one test per transport, fresh
 * endpoints, bounded waits for monitor events and messages, and assertions on
 * `ZmqError` codes. Every wait here is bounded, and none of them is a sleep
 * standing in for an event.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PullSocket, PushSocket, ZmqError } from "../../mod.ts";
import type { Message, Socket, SocketEvent, ZmqErrorCode } from "../../mod.ts";
import { withTimeout } from "../_util/timeout.ts";

export { withTimeout };

/**
 * Every transport the socket tests know; quic:// needs `--unstable-net` and a
 * certificate; shm:// is the Worker rings, or with `--preload ffi/mod.ts` the
 * native rings too.
 */
const KNOWN = ["tcp", "ipc", "inproc", "quic", "shm"] as const;

/** One of {@linkcode TRANSPORTS}. */
export type TransportName = typeof KNOWN[number];

/**
 * The transports every socket test runs over: tcp, ipc and inproc, or the
 * ones `MONOCOQUE_TEST_TRANSPORTS` lists (tests/transport/quic_test.ts and
 * shm_test.ts run the suite over quic and shm in a child process that way).
 */
export const TRANSPORTS: readonly TransportName[] = (() => {
  let listed: string | undefined;
  try {
    listed = Deno.env.get("MONOCOQUE_TEST_TRANSPORTS");
  } catch {
    // No env permission: the default set.
  }
  if (!listed) return ["tcp", "ipc", "inproc"];
  return listed.split(",").filter((t): t is TransportName =>
    (KNOWN as readonly string[]).includes(t)
  );
})();

/** Default bound for one wait, in ms. */
export const WAIT = 5000;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function unique(): string {
  return crypto.randomUUID().slice(0, 12);
}

/**
 * A fresh endpoint to bind on the transport: port 0 for tcp, a new socket
 * file for ipc, a new name for inproc and shm.
 */
export function endpoint(t: TransportName): string {
  switch (t) {
    case "tcp":
      return "tcp://127.0.0.1:0";
    case "ipc":
      return `ipc:///tmp/monocoque-test-${unique()}.sock`;
    case "inproc":
      return `inproc://monocoque-test-${unique()}`;
    case "quic":
      return "quic://127.0.0.1:0";
    case "shm":
      return `shm://monocoque-test-${unique()}`;
  }
}

/**
 * A concrete endpoint nobody listens on yet (a free tcp port, an unused ipc
 * path, an unused inproc name), for connect-before-bind tests.
 */
export function freeEndpoint(t: TransportName): string {
  if (t === "quic") {
    const udp = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
    const port = (udp.addr as Deno.NetAddr).port;
    udp.close();
    return `quic://127.0.0.1:${port}`;
  }
  if (t !== "tcp") return endpoint(t);
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `tcp://127.0.0.1:${port}`;
}

/** Binds `socket` to a fresh endpoint of the transport and returns the resolved endpoint. */
export async function bindAny(socket: Socket, t: TransportName): Promise<string> {
  await withTimeout(socket.bind(endpoint(t)), WAIT, "bind");
  const ep = socket.lastEndpoint;
  assert.ok(ep !== undefined, "lastEndpoint is set after bind");
  return ep;
}

/** Polls `ready()` every few milliseconds until it holds; fails after `ms`. */
export async function until(ready: () => boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ready()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A PULL bound over transport `t` and a PUSH connected to it; `await using` closes both. */
export async function pushPull(t: TransportName): Promise<
  { pull: PullSocket; push: PushSocket } & AsyncDisposable
> {
  const pull = new PullSocket();
  const push = new PushSocket();
  push.connect(await bindAny(pull, t));
  return {
    pull,
    push,
    async [Symbol.asyncDispose]() {
      await Promise.all([push.close(), pull.close()]);
    },
  };
}

/**
 * Registers one `Deno.test` per transport, named `"<name> (<transport>)"`.
 *
 * @param name The test name, a sentence.
 * @param fn The test body.
 * @param transports The transports to run over; default all.
 */
export function eachTransport(
  name: string,
  fn: (t: TransportName) => Promise<void>,
  transports: readonly TransportName[] = TRANSPORTS,
): void {
  for (const t of transports) Deno.test(`${name} (${t})`, () => fn(t));
}

/**
 * Starts watching `socket`'s events now and resolves once `count` events of
 * `type` (matching `filter`) were seen. Call it before the action that causes
 * the events. Rejects on timeout or when the socket closes first.
 */
export function nextEvents<T extends SocketEvent["type"]>(
  socket: Socket,
  type: T,
  count = 1,
  filter: (ev: Extract<SocketEvent, { type: T }>) => boolean = () => true,
  ms = WAIT,
): Promise<Extract<SocketEvent, { type: T }>[]> {
  const it = socket.events();
  const seen: Extract<SocketEvent, { type: T }>[] = [];
  const run = (async () => {
    for await (const ev of it) {
      if (ev.type !== type) continue;
      const e = ev as Extract<SocketEvent, { type: T }>;
      if (!filter(e)) continue;
      seen.push(e);
      if (seen.length >= count) return seen;
    }
    throw new Error(`Socket closed after ${seen.length} of ${count} ${type} events`);
  })();
  run.catch(() => {}); // awaited below; after a timeout it rejects once the iterator ends
  return withTimeout(run, ms, `${count} ${type} event(s)`).finally(() => it.return?.());
}

/** Starts watching now; resolves after `count` completed handshakes. */
export function handshakes(socket: Socket, count = 1): Promise<unknown> {
  return nextEvents(socket, "handshakeSucceeded", count);
}

/** Receives with a bound. */
export function recv(socket: Socket, ms = WAIT): Promise<Message> {
  return withTimeout(socket.receive(), ms, `${socket.type} receive`);
}

/** Sends with a bound. */
export function send(socket: Socket, message: Parameters<Socket["send"]>[0], ms = WAIT) {
  return withTimeout(socket.send(message), ms, `${socket.type} send`);
}

/** Receives one message and decodes each frame as UTF-8. */
export async function recvText(socket: Socket, ms = WAIT): Promise<string[]> {
  return texts(await recv(socket, ms));
}

/** Frames as UTF-8 strings. */
export function texts(message: Message): string[] {
  return message.map((f) => decoder.decode(f));
}

/** A frame as UTF-8 text. */
export function text(frame: Uint8Array): string {
  return decoder.decode(frame);
}

/** UTF-8 bytes. */
export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Asserts that `promise` rejects (within the bound) with a `ZmqError` of `code`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: ZmqErrorCode,
  ms = WAIT,
): Promise<void> {
  await assert.rejects(withTimeout(promise, ms, `rejection with ${code}`), (e: unknown) => {
    assert.ok(e instanceof ZmqError, `expected a ZmqError ${code}, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

/** Asserts that `fn` throws a `ZmqError` of `code` synchronously. */
export function throwsWith(fn: () => unknown, code: ZmqErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ZmqError, `expected a ZmqError ${code}, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

/** Whether `promise` is still pending after a macrotask turn. */
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

/**
 * Publishes `probe` (a single frame) until `subscriber` receives it, as
 * subscriptions reach a publisher asynchronously and a PUB has no event for
 * that. Messages received meanwhile that are not the probe are discarded, so
 * use it only to synchronise. Bounded by `ms`.
 */
export async function syncSubscription(
  publisher: Socket,
  subscriber: Socket,
  probe: string,
  ms = WAIT,
): Promise<void> {
  let received = subscriber.receive();
  received.catch(() => {}); // after a timeout it rejects with ETERM at close
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await publisher.send(probe);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 10)));
    const got = await Promise.race([received, tick]);
    clearTimeout(timer);
    if (got === undefined) continue;
    if (text(got[0]) === probe) return;
    received = subscriber.receive();
    received.catch(() => {});
  }
  throw new Error(`No subscription reached the publisher within ${ms} ms`);
}

/** Receives, skipping messages whose first frame contains `"probe"` (late sync probes). */
export async function recvSkippingProbes(socket: Socket, ms = WAIT): Promise<string[]> {
  while (true) {
    const m = await recvText(socket, ms);
    if (!m[0].includes("probe")) return m;
  }
}

/**
 * Runs `handler` for every message `socket` receives until it closes;
 * resolves then. Errors after close (ETERM) are swallowed.
 */
export function serve(
  socket: Socket,
  handler: (message: Message) => Promise<void>,
): Promise<void> {
  return (async () => {
    try {
      for await (const m of socket) await handler(m);
    } catch (e) {
      if (!(e instanceof ZmqError && e.code === "ETERM")) throw e;
    }
  })();
}
