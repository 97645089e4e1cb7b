/**
 * The engine seam: what a socket's pipe needs of the protocol spoken on one
 * connection. The ZMTP {@linkcode Session} is one engine; a raw engine (the
 * STREAM socket's) and the custom codecs of the `./kernel` entry are others.
 * An engine is sans-IO like the session: bytes and the current time go in,
 * events and bytes to write come out. The pipe reads and writes the
 * connection, runs the engine's timer, bounds its queues by the high-water
 * marks and hands the events to the socket's pattern, so an engine gets
 * reconnect, backpressure, HWM and monitor events without knowing of them.
 *
 * @module
 */

import type { PeerInfo, SessionEvent, SessionPhase } from "./session.ts";
import type { ZapReply } from "./mechanism.ts";

/**
 * What a pipe tells the engine it makes for a new connection.
 *
 * @example
 * ```ts
 * import type { EngineContext } from "@monocoque/zmtp/protocol";
 *
 * const context: EngineContext = { now: performance.now(), maxMessageSize: -1 };
 * ```
 */
export interface EngineContext {
  /** The connection's start, in milliseconds on any monotonic clock. */
  now: number;
  /** Largest message accepted, in octets (libzmq `ZMQ_MAXMSGSIZE`); -1: no limit. */
  maxMessageSize: number;
  /**
   * Receives complete messages synchronously, instead of `message` events,
   * while no other event waits (see `SessionOptions.onMessage`).
   */
  onMessage?: (frames: Uint8Array[]) => void;
  /**
   * Flow control: whether the host can take another message now; when it
   * says no, the engine keeps the rest of its input and is
   * {@linkcode ProtocolEngine.paused} (see `SessionOptions.canDeliver`).
   */
  canDeliver?: () => boolean;
}

/**
 * Makes the engine of one connection.
 *
 * @example
 * ```ts
 * import { type EngineFactory, Session } from "@monocoque/zmtp/protocol";
 *
 * const zmtpPush: EngineFactory = (context) => new Session({ socketType: "PUSH", ...context });
 * ```
 */
export type EngineFactory = (context: EngineContext) => ProtocolEngine;

/**
 * One connection's protocol state, as the pipe drives it. {@linkcode Session}
 * implements it for ZMTP; every member has the meaning documented there.
 * Events are `SessionEvent`s: an engine without a handshake reports `ready`
 * (with a {@linkcode PeerInfo} of its own making) at its first `tick()`, for
 * which `nextTimeout()` returns its start time.
 *
 * @example A pipe's loop, reduced to its calls
 * ```ts
 * import { type ProtocolEngine, Session } from "@monocoque/zmtp/protocol";
 *
 * function pump(engine: ProtocolEngine, chunk: Uint8Array, now: number): Uint8Array[] {
 *   engine.receive(chunk, now);
 *   while (engine.paused) engine.resume(now);
 *   for (const event of engine.takeEvents()) console.log(event.type);
 *   return engine.takeOutput();
 * }
 * pump(new Session({ socketType: "PULL", now: 0 }), new Uint8Array(0), 0);
 * ```
 */
export interface ProtocolEngine {
  /** Where the engine is; `"ready"` once messages flow, `"closed"` at the end. */
  readonly phase: SessionPhase;
  /** The peer, once ready. */
  readonly peer: PeerInfo | undefined;
  /** Octets waiting in the output. */
  readonly outputSize: number;
  /** Whether decoding stopped by flow control with input left: call `resume()`. */
  readonly paused: boolean;
  /** Whether the last chunk given to `receive()` must not be overwritten yet. */
  readonly retainsInput: boolean;
  /** Feeds received bytes (any split of a stream, or one whole transport message). */
  receive(chunk: Uint8Array, now: number): void;
  /** Continues decoding the input kept while paused. */
  resume(now: number): void;
  /** Runs the engine's timers. */
  tick(now: number): void;
  /** When `tick()` is next needed; `Infinity` for never. */
  nextTimeout(): number;
  /** Drains the events, in order. */
  takeEvents(): SessionEvent[];
  /** Drains the bytes to write, in order. */
  takeOutput(): Uint8Array[];
  /** Encodes one message (one entry per frame). */
  send(frames: readonly Uint8Array[]): void;
  /** Closes the engine without an event. */
  close(): void;
  /** Sends a SUBSCRIBE (ZMTP only; other engines leave it out). */
  subscribe?(topic: Uint8Array): void;
  /** Sends a CANCEL (ZMTP only). */
  cancel?(topic: Uint8Array): void;
  /** Sends a data-phase command (ZMTP only). */
  sendCommand?(name: string, data: Uint8Array): void;
  /** Delivers a ZAP reply after an `authenticate` event (ZMTP only). */
  authenticated?(reply: ZapReply, now: number): void;
}
