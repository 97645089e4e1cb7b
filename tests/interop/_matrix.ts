/**
 * Shared pieces of the interop matrix: transports and scratch ipc paths, linking a Monocoque
 * socket to a real libzmq peer in either bind direction, the message shapes every pair
 * exchanges, bounded receives, subscription sync loops, and test names that read as sentences.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Message, Socket, SocketOptions } from "../../mod.ts";
import { type FrameLike, toBytes } from "../_util/bytes.ts";
import { Peer, type PeerImpl, type PeerOptionValue, type PeerSocketType } from "../_util/peer.ts";
import { TimeoutError } from "../_util/timeout.ts";

/** The transports every pair runs over. */
export type TransportName = "tcp" | "ipc";
/** Every transport of the matrix. */
export const TRANSPORTS: readonly TransportName[] = ["tcp", "ipc"];
/** Both bind directions: `true` = Monocoque binds, `false` = the libzmq peer binds. */
export const BIND_SIDES: readonly boolean[] = [true, false];

/** The longest wait for any one message in these tests. */
export const WAIT_MS = 5000;

/**
 * Socket options for every Monocoque socket of the matrix: no send or receive waits forever,
 * and close does not linger.
 */
export const BOUNDED: SocketOptions = { sendTimeout: WAIT_MS, receiveTimeout: WAIT_MS, linger: 0 };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export function b(s: string): Uint8Array {
  return encoder.encode(s);
}

/** The frames of a message as text, for readable assertion failures of small messages. */
export function text(frames: readonly Uint8Array[] | undefined): string[] | undefined {
  return frames?.map((f) => decoder.decode(f));
}

/** `length` bytes of a pattern that depends on `seed`, so frames differ from each other. */
export function pattern(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

/** A temporary directory for ipc socket files; removed on dispose. */
export class Scratch implements AsyncDisposable {
  #n = 0;
  private constructor(readonly dir: string) {}

  /** Creates the directory. */
  static async create(): Promise<Scratch> {
    return new Scratch(await Deno.makeTempDir({ prefix: "mq-interop-" }));
  }

  /**
   * A fresh endpoint to bind on a transport.
   *
   * @param transport tcp (port 0 on loopback) or ipc (a new file in the directory).
   */
  endpoint(transport: TransportName): string {
    return transport === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${this.dir}/s${this.#n++}.sock`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** The peer side of a link. */
export interface PeerSpec {
  /** pyzmq (default) or zeromq.js under Node. */
  impl?: PeerImpl;
  /** The peer's socket type. */
  type: PeerSocketType;
  /** Peer command-line options. */
  options?: Record<string, PeerOptionValue>;
}

/**
 * Connects a Monocoque socket and a new libzmq peer: the Monocoque socket binds and the peer
 * connects to its resolved endpoint, or the peer binds and the Monocoque socket connects.
 *
 * @returns The running peer; the caller disposes it.
 */
export async function link(
  mono: Socket,
  peer: PeerSpec,
  how: { monoBinds: boolean; transport: TransportName; scratch: Scratch },
): Promise<Peer> {
  const endpoint = how.scratch.endpoint(how.transport);
  if (how.monoBinds) {
    await mono.bind(endpoint);
    const resolved = mono.lastEndpoint;
    assert.ok(resolved, "lastEndpoint is set after bind");
    if (how.transport === "tcp") assert.match(resolved, /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    else assert.equal(resolved, endpoint);
    return await Peer.start({ ...peer, connect: resolved });
  }
  const p = await Peer.start({ ...peer, bind: endpoint });
  mono.connect(p.endpoint);
  return p;
}

/**
 * A test name that reads as a sentence, e.g.
 * `REQ (monocoque, binds) ↔ REP (pyzmq) over tcp: every message shape round trips`.
 *
 * @param left The pair's first socket type (the conventional order, e.g. REQ before REP).
 * @param right The pair's second socket type.
 * @param monoIsLeft Whether Monocoque plays `left`.
 * @param impl The libzmq peer's implementation.
 * @param monoBinds Whether Monocoque binds.
 */
export function caseName(
  c: {
    left: string;
    right: string;
    monoIsLeft: boolean;
    impl: PeerImpl;
    monoBinds: boolean;
    transport: TransportName;
  },
  what: string,
): string {
  const side = (mono: boolean) => {
    const who = mono ? "monocoque" : c.impl;
    return mono === c.monoBinds ? `${who}, binds` : who;
  };
  return `${c.left} (${side(c.monoIsLeft)}) ↔ ${c.right} (${
    side(!c.monoIsLeft)
  }) over ${c.transport}: ${what}`;
}

/** One message shape that every pair exchanges. */
export interface Shape {
  /** What it is, as a step name. */
  name: string;
  /** Its frames. */
  frames: Uint8Array[];
}

/** The message shapes every pair of the matrix exchanges, in both directions where it can. */
export const SHAPES: readonly Shape[] = [
  { name: "a single-frame message", frames: [b("hello")] },
  { name: "a multipart message", frames: [b("one"), b("two"), b("three")] },
  { name: "a message of one empty frame", frames: [new Uint8Array()] },
  {
    name: "empty frames around and inside a multipart message",
    frames: [new Uint8Array(), b("middle"), new Uint8Array(), new Uint8Array()],
  },
  { name: "a 255-byte frame (the largest short frame)", frames: [pattern(255, 1)] },
  { name: "a 256-byte frame (the smallest long frame)", frames: [pattern(256, 2)] },
  {
    name: "254/255/256/257-byte frames in one message",
    frames: [pattern(254, 3), pattern(255, 4), pattern(256, 5), pattern(257, 6)],
  },
  { name: "a 1 MiB frame", frames: [pattern(1 << 20, 7)] },
  {
    name: "a 100-frame message",
    frames: Array.from({ length: 100 }, (_, i) => i % 10 === 9 ? new Uint8Array() : b(`f${i}`)),
  },
];

/** The reply to a shape: its frames in reverse order (so order and echo bugs both show). */
export function reply(frames: readonly Uint8Array[]): Uint8Array[] {
  return [...frames].reverse();
}

/**
 * Runs `fn` for every message shape as a test step, on the one pair of sockets the test set up.
 * After a failing shape the rest are ignored (the pair's state is unknown then).
 */
export async function eachShape(
  t: Deno.TestContext,
  fn: (frames: Uint8Array[], shape: Shape) => Promise<void>,
  shapes: readonly Shape[] = SHAPES,
): Promise<void> {
  let failed = false;
  for (const shape of shapes) {
    const ok = await t.step({
      name: shape.name,
      ignore: failed,
      // The sockets' background reads span steps: only the test as a whole is sanitized.
      sanitizeOps: false,
      sanitizeResources: false,
      fn: () => fn(shape.frames, shape),
    });
    if (!ok) failed = true;
  }
}

/** Asserts two messages are equal frame by frame (sizes first: a 1 MiB diff is unreadable). */
export function assertFrames(
  actual: readonly Uint8Array[] | undefined,
  expected: readonly FrameLike[],
  what = "message",
): void {
  assert.ok(actual, `${what}: nothing received`);
  const exp = expected.map(toBytes);
  assert.deepEqual(
    actual.map((f) => f.length),
    exp.map((f) => f.length),
    `${what}: frame count or sizes differ`,
  );
  for (let i = 0; i < exp.length; i++) {
    if (!equalBytes(actual[i], exp[i])) assert.fail(`${what}: frame ${i} differs`);
  }
}

/** Whether two byte arrays are equal. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether a message has exactly these frames. */
export function sameMessage(a: readonly Uint8Array[], b: readonly FrameLike[]): boolean {
  return a.length === b.length && a.every((f, i) => equalBytes(f, toBytes(b[i])));
}

/**
 * Receives one message from a Monocoque socket within `ms`, or `undefined`. The abandoned
 * receive is withdrawn, so it takes no later message.
 */
export async function tryReceive(sock: Socket, ms: number): Promise<Message | undefined> {
  const ac = new AbortController();
  const timer = setTimeout(
    () => ac.abort(new TimeoutError(`receive timed out after ${ms} ms`)),
    ms,
  );
  try {
    return await sock.receive({ signal: ac.signal });
  } catch (e) {
    // An aborted receive rejects with ZmqError ECANCELED, the reason as cause.
    if (ac.signal.aborted && (e as Error).cause === ac.signal.reason) return undefined;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Receives one message from a Monocoque socket within `ms` or fails. */
export async function receive(sock: Socket, ms = WAIT_MS, what = "message"): Promise<Message> {
  const m = await tryReceive(sock, ms);
  if (m === undefined) throw new TimeoutError(`Monocoque ${sock.type}: no ${what} within ${ms} ms`);
  return m;
}

/** The marker message the sync loops publish until a subscriber sees it. */
export const MARKER: readonly Uint8Array[] = [b("sync-marker")];

/** Whether a message is a sync marker (`MARKER`, or a single frame ending in `marker`). */
export function isMarker(m: readonly Uint8Array[]): boolean {
  return m.length === 1 && decoder.decode(m[0]).endsWith("marker");
}

const SYNC_MS = 10_000;
const SYNC_POLL_MS = 40;

/**
 * Publishes `marker` from a Monocoque publisher until the libzmq subscriber receives it (the
 * subscription has then arrived), bounded. Later copies of the marker may still arrive.
 */
export async function syncPeerSubscriber(
  pub: Socket,
  sub: Peer,
  marker: readonly FrameLike[] = MARKER,
): Promise<void> {
  const deadline = Date.now() + SYNC_MS;
  while (Date.now() < deadline) {
    await pub.send([...marker]);
    const got = await sub.recv(SYNC_POLL_MS);
    if (got !== undefined && sameMessage(got, marker)) return;
    if (got !== undefined && !isMarker(got)) assert.fail(`unexpected message ${text(got)}`);
  }
  throw new TimeoutError(`${sub.impl} ${sub.type} never received the marker: no subscription`);
}

/**
 * Publishes `marker` from a libzmq publisher until the Monocoque subscriber receives it,
 * bounded.
 */
export async function syncMonoSubscriber(
  pub: Peer,
  sub: Socket,
  marker: readonly FrameLike[] = MARKER,
): Promise<void> {
  const deadline = Date.now() + SYNC_MS;
  while (Date.now() < deadline) {
    await pub.send(marker);
    const got = await tryReceive(sub, SYNC_POLL_MS);
    if (got !== undefined && sameMessage(got, marker)) return;
    if (got !== undefined && !isMarker(got)) assert.fail(`unexpected message ${text(got)}`);
  }
  throw new TimeoutError(`Monocoque ${sub.type} never received the marker: no subscription`);
}

/** The next message from a libzmq peer that is not a sync marker. */
export async function peerRecvData(peer: Peer, ms = WAIT_MS): Promise<Uint8Array[] | undefined> {
  for (;;) {
    const m = await peer.recv(ms);
    if (m === undefined || !isMarker(m)) return m;
  }
}

/** The next message from a Monocoque socket that is not a sync marker. */
export async function monoReceiveData(sock: Socket, ms = WAIT_MS): Promise<Message> {
  for (;;) {
    const m = await receive(sock, ms);
    if (!isMarker(m)) return m;
  }
}

/** One cell of the matrix: who plays which role, who binds, over what. */
export interface PairCase {
  /** The pair's first socket type, e.g. `"REQ"`. */
  left: PeerSocketType;
  /** The pair's second socket type, e.g. `"REP"`. */
  right: PeerSocketType;
  /** Whether Monocoque plays `left` (else `right`). */
  monoIsLeft: boolean;
  /** The libzmq peer's implementation. */
  impl: PeerImpl;
  /** Whether Monocoque binds (else the peer binds). */
  monoBinds: boolean;
  /** The transport. */
  transport: TransportName;
}

/**
 * Every cell for a pair: both role assignments (one for a symmetric pair like PAIR/PAIR), both
 * bind directions, every transport, every implementation asked for.
 */
export function pairCases(
  left: PeerSocketType,
  right: PeerSocketType,
  o: { impls?: readonly PeerImpl[]; transports?: readonly TransportName[] } = {},
): PairCase[] {
  const out: PairCase[] = [];
  const roles = left === right ? [true] : [true, false];
  for (const impl of o.impls ?? ["pyzmq"]) {
    for (const transport of o.transports ?? TRANSPORTS) {
      for (const monoIsLeft of roles) {
        for (const monoBinds of BIND_SIDES) {
          out.push({ left, right, monoIsLeft, impl, monoBinds, transport });
        }
      }
    }
  }
  return out;
}

/** The socket type the libzmq peer plays in a cell. */
export function peerType(c: PairCase): PeerSocketType {
  return c.monoIsLeft ? c.right : c.left;
}

/**
 * Receives the next subscription message at a Monocoque XPUB from a libzmq SUB/XSUB, bounded.
 * While waiting it lets the peer call into its socket (a short `recv`): libzmq attaches an
 * accepted connection, and so sends a bound SUB's subscriptions, only when the application next
 * calls into that socket (libzmq issue #2267); a connecting SUB needs no help.
 */
export async function receiveSubscription(xpub: Socket, sub: Peer): Promise<Message> {
  const deadline = Date.now() + SYNC_MS;
  while (Date.now() < deadline) {
    const m = await tryReceive(xpub, SYNC_POLL_MS);
    if (m !== undefined) return m;
    const stray = await sub.recv(1);
    if (stray !== undefined) assert.fail(`the ${sub.type} got ${text(stray)} before subscribing`);
  }
  throw new TimeoutError(`Monocoque XPUB never received a subscription from ${sub.impl}`);
}
