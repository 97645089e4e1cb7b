/**
 * The sans-IO ZMTP session: one connection's protocol state machine. Bytes go
 * in through `receive()`, time through `tick()`; events and bytes to write
 * come out through `takeEvents()` and `takeOutput()`. It never touches the
 * network, timers or promises.
 *
 * Implements, from rfc.zeromq.org:
 * - 37/ZMTP (3.1) and 23/ZMTP (3.0): "Version Negotiation" and "The Greeting"
 *   (64-octet greeting, a 3.0 peer is served in 3.0 mode, a later one is
 *   treated as 3.1), "Framing" (short and long frames, MORE and COMMAND
 *   flags), "Security Mechanisms" and "The NULL Security Mechanism" (through
 *   the {@linkcode Mechanism} seam), "Commands" (READY and its metadata,
 *   ERROR, and the 3.1 SUBSCRIBE, CANCEL, PING, PONG), "Connection
 *   Heartbeating" (PING TTL and context, PONG echo, with libzmq's timer
 *   semantics), and "Socket Semantics" (the socket-type compatibility check).
 * - 29/PUBSUB: subscriptions travel as SUBSCRIBE/CANCEL commands to a 3.1
 *   peer and as `0x01`/`0x00`-prefixed messages to a 3.0 peer; libzmq 4.3.4
 *   does the same.
 * - 45/ZWS (2.0) through the message framing: no greeting, one WebSocket
 *   message per frame, subscriptions as `0x01`/`0x00`-prefixed messages (as
 *   libzmq's ws_encoder.cpp sends them), and, for the bare `ZWS2.0`
 *   subprotocol, libzmq's handshake without a mechanism: each side's first
 *   message is its routing id (ws_engine.cpp `routing_id_msg`).
 *
 * The wire form of frames is the framing's business (`_framing.ts`): the
 * stream framing for tcp, ipc and inproc, the message framing for ws and wss.
 *
 * @module
 */

import { BROKEN, FRAME, type FrameReader, type FrameWriter, type Framing } from "./_framing.ts";
import { isValidMechanismName } from "./_greeting.ts";
import { MessageFraming } from "./_message_framing.ts";
import { decodeMetadata, getProperty } from "./_metadata.ts";
import { ownMetadata } from "./_own_metadata.ts";
import { StreamFraming } from "./_stream_framing.ts";
import {
  ascii,
  bytesEqualAt,
  concat,
  errorData,
  FLAG_COMMAND,
  FLAG_MORE,
  latin1,
  ProtocolViolation,
} from "./_wire.ts";
import type {
  FrameCodec,
  Mechanism,
  MechanismHost,
  MechanismStep,
  ZapReply,
  ZapRequest,
} from "./mechanism.ts";
import type { ProtocolEngine } from "./engine.ts";
import { NullMechanism } from "./null_mechanism.ts";
import { isCompatible, isSocketType, type SocketType } from "./socket_type.ts";

/**
 * Options of a {@linkcode Session}. Times are in milliseconds.
 *
 * @example
 * ```ts
 * import type { SessionOptions } from "@monocoque/zmtp/protocol";
 *
 * const options: SessionOptions = {
 *   socketType: "DEALER",
 *   now: performance.now(),
 *   routingId: new TextEncoder().encode("worker-1"),
 *   heartbeatInterval: 1000,
 * };
 * ```
 */
export interface SessionOptions {
  /** Our socket type, sent as the `Socket-Type` property. */
  socketType: SocketType;
  /** Creation time, in milliseconds on any monotonic clock. */
  now: number;
  /** The security mechanism. Default: a new `NullMechanism`. */
  mechanism?: Mechanism;
  /**
   * Sent as the `Identity` property (libzmq `ZMQ_ROUTING_ID`), 0-255 octets.
   * REQ, DEALER and ROUTER always send one, empty by default, as libzmq does.
   */
  routingId?: Uint8Array;
  /** Extra READY metadata (libzmq `ZMQ_METADATA`); strings are sent as UTF-8. */
  properties?: Record<string, string | Uint8Array>;
  /** Largest frame accepted, in octets (libzmq `ZMQ_MAXMSGSIZE`, per frame). -1 or undefined: no limit. */
  maxMessageSize?: number;
  /** Time allowed for the handshake (libzmq `ZMQ_HANDSHAKE_IVL`). Default 30000; 0: no limit. */
  handshakeInterval?: number;
  /** Interval between PINGs (libzmq `ZMQ_HEARTBEAT_IVL`). 0 or undefined: no heartbeats. */
  heartbeatInterval?: number;
  /** Silence tolerated after a PING (libzmq `ZMQ_HEARTBEAT_TIMEOUT`). Default: `heartbeatInterval`. */
  heartbeatTimeout?: number;
  /** TTL announced in our PINGs (libzmq `ZMQ_HEARTBEAT_TTL`), sent in deciseconds. 0: none. */
  heartbeatTimeToLive?: number;
  /**
   * Receives complete messages synchronously, instead of `message` events,
   * while no other event waits in {@linkcode Session.takeEvents} (so the
   * order of messages and other events is kept). Saves an event object per
   * message on the receive path.
   */
  onMessage?: (frames: Uint8Array[]) => void;
  /**
   * Flow control: whether the host can take another message now. When set,
   * decoding stops at a message boundary whenever it returns false (asked
   * only once the handshake is done) or events wait in
   * {@linkcode Session.takeEvents} (so messages never pile up behind
   * other events); the undecoded rest of the chunk is kept, {@linkcode
   * Session.paused} is true, and {@linkcode Session.resume} continues.
   * PING, PONG and other commands in the kept bytes wait too, as in libzmq,
   * whose engine stops reading while the pipe is full. Unset: every chunk is
   * decoded in full.
   */
  canDeliver?: () => boolean;
  /**
   * How frames travel. `"stream"` (the default): the ZMTP greeting, then
   * length-prefixed frames on a byte stream (tcp, ipc, inproc); feed any
   * split of the bytes to {@linkcode Session.receive}. `"message"`: ZWS 2.0
   * (rfc.zeromq.org spec 45) for ws and wss: no greeting (the WebSocket
   * subprotocol negotiated the mechanism, which must be this session's), one
   * message per frame whose first octet holds the flags; feed each received
   * WebSocket message whole to `receive()`, and send each array from
   * {@linkcode Session.takeOutput} as one binary message. Heartbeats are not
   * sent with message framing: libzmq's ZWS engine answers WebSocket pings,
   * not ZMTP PING commands (PINGs received are still answered).
   */
  framing?: "stream" | "message";
  /**
   * With `framing: "message"` only: the bare `ZWS2.0` subprotocol, libzmq's
   * handshake without a mechanism (ws_engine.cpp `select_protocol`): no READY
   * and no socket-type check; each side's first message is one frame holding
   * its routing id. The peer's type is then unknown and reported as our
   * type's usual partner (REQ for REP, DEALER for ROUTER, ...).
   */
  routingIdHandshake?: boolean;
}

/**
 * Where a session is: exchanging greetings, running the mechanism's
 * handshake, carrying messages, or finished.
 *
 * @example
 * ```ts
 * import { Session, type SessionPhase } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * const phase: SessionPhase = new Session({ socketType: "PUSH", now: 0 }).phase;
 * assert.equal(phase, "greeting");
 * ```
 */
export type SessionPhase = "greeting" | "handshake" | "ready" | "closed";

/**
 * What the handshake told us about the peer.
 *
 * @example
 * ```ts
 * import type { PeerInfo } from "@monocoque/zmtp/protocol";
 *
 * function describe(peer: PeerInfo): string {
 *   return `${peer.socketType} over ZMTP 3.${peer.minorVersion} (${peer.mechanism})`;
 * }
 * ```
 */
export interface PeerInfo {
  /** The peer's socket type. */
  socketType: SocketType;
  /** The peer's `Identity` property, if present and non-empty. */
  routingId: Uint8Array | undefined;
  /** All metadata of the peer, names as sent. */
  properties: Map<string, Uint8Array>;
  /** 0 for ZMTP 3.0, 1 for 3.1. */
  minorVersion: number;
  /** The security mechanism name, e.g. `"NULL"`. */
  mechanism: string;
}

/**
 * Who or what ended a session: `protocol` (the peer broke ZMTP, or its socket
 * type does not fit ours), `authentication`, `timeout` (handshake or
 * heartbeat), `remote` (the peer sent an ERROR command).
 *
 * @example
 * ```ts
 * import type { SessionErrorKind } from "@monocoque/zmtp/protocol";
 *
 * const retry = (kind: SessionErrorKind): boolean => kind === "timeout";
 * ```
 */
export type SessionErrorKind = "protocol" | "authentication" | "timeout" | "remote";

/**
 * An event from {@linkcode Session.takeEvents}. After an `error` event the
 * session is closed.
 *
 * @example
 * ```ts
 * import type { SessionEvent } from "@monocoque/zmtp/protocol";
 *
 * function log(event: SessionEvent): string {
 *   switch (event.type) {
 *     case "message":
 *       return `${event.frames.length} frames`;
 *     case "error":
 *       return `${event.code}: ${event.reason}`;
 *     default:
 *       return event.type;
 *   }
 * }
 * ```
 */
export type SessionEvent =
  | { type: "ready"; peer: PeerInfo }
  | { type: "message"; frames: Uint8Array[] }
  | { type: "subscribe"; topic: Uint8Array }
  | { type: "cancel"; topic: Uint8Array }
  | { type: "command"; name: string; data: Uint8Array }
  | { type: "authenticate"; request: ZapRequest }
  | {
    type: "error";
    kind: SessionErrorKind;
    code: "EPROTO" | "EMSGSIZE" | "ETIMEDOUT" | "EACCES";
    reason: string;
  };

type ErrorCode = "EPROTO" | "EMSGSIZE" | "ETIMEDOUT" | "EACCES";

// The only phase changes there are.
const TRANSITIONS: Readonly<Record<SessionPhase, readonly SessionPhase[]>> = {
  greeting: ["handshake", "closed"],
  handshake: ["ready", "closed"],
  ready: ["closed"],
  closed: [],
};

const NO_EVENTS: SessionEvent[] = Object.freeze([]) as unknown as SessionEvent[];

// Command names with their length octet, as they start a command body.
const PING = ascii("\x04PING");
const PONG = ascii("\x04PONG");
const SUBSCRIBE = ascii("\x09SUBSCRIBE");
const CANCEL = ascii("\x06CANCEL");
const ERROR = ascii("\x05ERROR");
const SUBSCRIBE_PREFIX = Uint8Array.of(1);
const CANCEL_PREFIX = Uint8Array.of(0);
const MAX_PING_CONTEXT = 16;
/** The data of a PING without a TTL (and without context). */
const NO_TTL = new Uint8Array(2);
/** Unwritten output above which PINGs go unanswered. */
const PONG_BACKLOG = 1024 * 1024;
const MAX_TTL = 0xffff * 100 + 99;

/** The peer type reported when bare ZWS2.0 announces none: the usual partner of ours. */
const PARTNER: Readonly<Record<SocketType, SocketType>> = {
  PAIR: "PAIR",
  PUB: "SUB",
  SUB: "PUB",
  REQ: "REP",
  REP: "REQ",
  DEALER: "ROUTER",
  ROUTER: "DEALER",
  PULL: "PUSH",
  PUSH: "PULL",
  XPUB: "XSUB",
  XSUB: "XPUB",
  SERVER: "CLIENT",
  CLIENT: "SERVER",
  RADIO: "DISH",
  DISH: "RADIO",
  GATHER: "SCATTER",
  SCATTER: "GATHER",
  PEER: "PEER",
  CHANNEL: "CHANNEL",
  STREAM: "STREAM",
};

/** Frames per message up to which the parts array keeps its storage. */
const KEEP_PARTS = 16;

/**
 * The frames gathered in `parts` as a message of its exact length, leaving
 * `parts` empty with its capacity kept: `length = 0` would free the array's
 * storage, and regrowing it costs ~150 octets a message (pop only trims).
 * A message of many frames lets the storage go: a peer's one huge multipart
 * message must not leave its connection holding that capacity for good.
 */
function takeParts(parts: Uint8Array[]): Uint8Array[] {
  const message = parts.slice();
  if (parts.length > KEEP_PARTS) parts.length = 0;
  else while (parts.length > 0) parts.pop();
  return message;
}

function checkTime(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0) || value === Infinity) {
    throw new RangeError(`Option ${name} must be a finite number of milliseconds, got ${value}`);
  }
  return value;
}

/**
 * A command frame's name with its length octet (RFC 23), for handshake and
 * data-phase commands alike.
 *
 * @throws {RangeError} Unless the name is 1 to 255 printable ASCII characters.
 */
function commandPrefix(name: string): Uint8Array {
  const known = PREFIXES.get(name);
  if (known !== undefined) return known;
  if (!/^[\x21-\x7e]{1,255}$/.test(name)) {
    throw new RangeError(`A command name is 1 to 255 printable ASCII characters, got ${name}`);
  }
  return ascii(String.fromCharCode(name.length) + name);
}

/** The handshake's commands, made once: every connection sends some of them. */
const PREFIXES: ReadonlyMap<string, Uint8Array> = new Map(
  ["READY", "HELLO", "WELCOME", "INITIATE", "ERROR"].map((name) => [
    name,
    ascii(String.fromCharCode(name.length) + name),
  ]),
);

/**
 * One ZMTP connection's protocol state, from greeting to close.
 *
 * @example Two sessions wired back to back
 * ```ts
 * import { Session } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * const a = new Session({ socketType: "DEALER", now: 0 });
 * const b = new Session({ socketType: "ROUTER", now: 0 });
 * const pump = (from: Session, to: Session) => {
 *   for (const bytes of from.takeOutput()) to.receive(bytes, 0);
 * };
 * pump(a, b); // a's greeting
 * pump(b, a); // b's greeting and READY: a is ready
 * pump(a, b); // a's READY: b is ready
 * assert.equal(a.phase, "ready");
 * assert.equal(b.takeEvents()[0].type, "ready");
 *
 * a.send([new TextEncoder().encode("hello")]);
 * pump(a, b);
 * const [event] = b.takeEvents();
 * assert.equal(event.type, "message");
 * ```
 */
export class Session implements ProtocolEngine {
  #phase: SessionPhase = "greeting";
  #socketType: SocketType;
  #mechanism: Mechanism;
  #host: { -readonly [K in keyof MechanismHost]: MechanismHost[K] };
  #metadata: Uint8Array;
  #framing: Framing;
  #out: FrameWriter;
  #decoder: FrameReader;
  #routingIdHandshake: boolean;
  #events: SessionEvent[] = [];
  #parts: Uint8Array[] = [];
  /**
   * Octets (bodies plus 2 per frame header) of the multipart message being
   * received. With maxMessageSize set, a message may not grow past it either:
   * libzmq checks only each frame, so an endless run of empty MORE frames
   * would otherwise be buffered without bound.
   */
  #partsSize = 0;
  #maxMessageSize: number;
  #onMessage: ((frames: Uint8Array[]) => void) | undefined;
  #canDeliver: (() => boolean) | undefined;
  // Decoding stopped by flow control with bytes of the chunk left.
  #held = false;
  #peerMinorVersion = 1;
  #peer: PeerInfo | undefined;
  #codec: FrameCodec | undefined;
  // A ZAP request is out: see authenticated().
  #authenticating = false;
  // True in the data phase without a codec: message frames take the fast path.
  #plainData = false;
  // Timers, as absolute times (Infinity: not armed).
  #handshakeAt: number;
  #nextPingAt = Infinity;
  #pingTimeoutAt = Infinity;
  #ttlAt = Infinity;
  #heartbeatInterval: number;
  #heartbeatTimeout: number;
  #pingData: Uint8Array;

  /**
   * Creates a session and queues our greeting as output.
   *
   * @param options See {@linkcode SessionOptions}.
   * @throws {TypeError} On an unknown socket type, an invalid mechanism name or property name.
   * @throws {RangeError} On an out-of-range routing id or time option.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const session = new Session({ socketType: "REQ", now: 0 });
   * assert.equal(session.outputSize, 64);
   * ```
   */
  constructor(options: SessionOptions) {
    const { socketType, now } = options;
    if (!isSocketType(socketType)) throw new TypeError(`Unknown socket type: ${socketType}`);
    if (typeof now !== "number" || !Number.isFinite(now)) {
      throw new TypeError(`Option now must be a finite number, got ${now}`);
    }
    const mechanism = options.mechanism ?? new NullMechanism();
    if (!isValidMechanismName(mechanism.name)) {
      throw new TypeError(`Invalid mechanism name: ${mechanism.name}`);
    }
    this.#socketType = socketType;
    this.#mechanism = mechanism;
    this.#metadata = ownMetadata(socketType, options.routingId, options.properties);

    const max = options.maxMessageSize;
    if (max !== undefined && (typeof max !== "number" || Number.isNaN(max))) {
      throw new RangeError(`Option maxMessageSize must be a number, got ${max}`);
    }
    this.#maxMessageSize = max === undefined || max < 0 ? Infinity : max;
    this.#onMessage = options.onMessage;
    this.#canDeliver = options.canDeliver;
    const framing = options.framing ?? "stream";
    if (framing !== "stream" && framing !== "message") {
      throw new TypeError(`Option framing must be "stream" or "message", got ${framing}`);
    }
    this.#framing = framing === "stream"
      ? new StreamFraming(this.#maxMessageSize)
      : new MessageFraming(this.#maxMessageSize);
    this.#out = this.#framing.writer;
    this.#decoder = this.#framing.reader;
    this.#routingIdHandshake = options.routingIdHandshake === true;
    if (this.#routingIdHandshake && (framing !== "message" || mechanism.name !== "NULL")) {
      throw new TypeError("Option routingIdHandshake needs message framing and the NULL mechanism");
    }

    const handshake = checkTime("handshakeInterval", options.handshakeInterval, 30000);
    this.#handshakeAt = handshake > 0 ? now + handshake : Infinity;
    this.#heartbeatInterval = checkTime("heartbeatInterval", options.heartbeatInterval, 0);
    if (framing === "message") this.#heartbeatInterval = 0;
    this.#heartbeatTimeout = options.heartbeatTimeout === undefined || options.heartbeatTimeout < 0
      ? this.#heartbeatInterval
      : checkTime("heartbeatTimeout", options.heartbeatTimeout, 0);
    const ttl = checkTime("heartbeatTimeToLive", options.heartbeatTimeToLive, 0);
    if (ttl > MAX_TTL) {
      throw new RangeError(`Option heartbeatTimeToLive must be at most ${MAX_TTL}, got ${ttl}`);
    }
    const deciseconds = Math.floor(ttl / 100);
    // Only read (copied into the output): peers without a TTL share one.
    this.#pingData = deciseconds === 0
      ? NO_TTL
      : Uint8Array.of(deciseconds >>> 8, deciseconds & 0xff);

    this.#host = {
      socketType,
      metadata: this.#metadata,
      peerAsServer: false,
      peerMinorVersion: 1,
      now,
      sendCommand: (name: string, data: Uint8Array): void => {
        this.#out.writeFrame(FLAG_COMMAND, commandPrefix(name), data);
      },
    };
    this.#framing.start(mechanism.name, mechanism.asServer);
    if (!this.#framing.hasGreeting) this.#startWithoutGreeting(options.routingId, now);
  }

  // ZWS: the subprotocol stood for the greeting, so the handshake starts at once.
  #startWithoutGreeting(routingId: Uint8Array | undefined, now: number): void {
    this.#peerMinorVersion = this.#host.peerMinorVersion = 1;
    this.#host.peerAsServer = !this.#mechanism.asServer;
    this.#transition("handshake");
    if (this.#routingIdHandshake) {
      this.#out.writeFrame(0, undefined, routingId ?? new Uint8Array(0));
    } else {
      this.#apply(this.#mechanism.start(this.#host), now);
    }
  }

  /**
   * The current phase.
   *
   * @returns `"greeting"`, `"handshake"`, `"ready"` or `"closed"`.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const session = new Session({ socketType: "PAIR", now: 0 });
   * session.close();
   * assert.equal(session.phase, "closed");
   * ```
   */
  get phase(): SessionPhase {
    return this.#phase;
  }

  /**
   * The peer, once the handshake completed.
   *
   * @returns The peer's info, or `undefined` before `ready`.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Session({ socketType: "PAIR", now: 0 }).peer, undefined);
   * ```
   */
  get peer(): PeerInfo | undefined {
    return this.#peer;
  }

  /**
   * Octets waiting in the output.
   *
   * @returns The total length of what `takeOutput()` would return.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const session = new Session({ socketType: "PAIR", now: 0 });
   * session.takeOutput();
   * assert.equal(session.outputSize, 0);
   * ```
   */
  get outputSize(): number {
    return this.#out.size;
  }

  /**
   * Whether decoding stopped by flow control (see
   * {@linkcode SessionOptions.canDeliver}) with received bytes left: call
   * {@linkcode Session.resume}, not `receive()`, until it is false.
   *
   * @returns True while undecoded bytes of the last chunk wait.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Session({ socketType: "PAIR", now: 0 }).paused, false);
   * ```
   */
  get paused(): boolean {
    return this.#held;
  }

  /**
   * Whether the session may still read the last chunk given to `receive()`,
   * or handed out views of it: frames of at least 64 KiB come out as views of
   * the chunk, the first pieces of a frame over 1 MiB are kept as views, and
   * a paused session keeps the rest. When false, the host may reuse the
   * chunk's memory for its next read; smaller frames are always copies.
   *
   * @returns True while the last chunk must not be overwritten.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const session = new Session({ socketType: "PAIR", now: 0 });
   * session.receive(new Uint8Array(10), 0); // part of a greeting: copied
   * assert.equal(session.retainsInput, false);
   * ```
   */
  get retainsInput(): boolean {
    return this.#held || this.#decoder.retainsChunk;
  }

  /**
   * Feeds received bytes. Frames under 64 KiB are copied out of `chunk`;
   * larger ones may be views of it, so unless {@linkcode Session.retainsInput}
   * is false afterwards the caller must not overwrite it. Bad input never
   * throws: it ends the session with an `error` event. Ignored once closed.
   *
   * @param chunk Bytes from the peer, any split.
   * @param now The current time, in milliseconds.
   * @throws {Error} If the session is {@linkcode Session.paused}.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const session = new Session({ socketType: "PAIR", now: 0 });
   * session.receive(new TextEncoder().encode("GET / HTTP/1.1\r\n"), 0);
   * const [event] = session.takeEvents();
   * assert.equal(event.type === "error" && event.code, "EPROTO");
   * ```
   */
  receive(chunk: Uint8Array, now: number): void {
    // An empty message is a broken ZWS frame; an empty stream chunk is nothing.
    if (this.#phase === "closed" || (chunk.length === 0 && this.#framing.hasGreeting)) return;
    if (this.#held) throw new Error("Cannot receive while decoding is paused: call resume()");
    this.#host.now = now;
    try {
      this.#receive(chunk, now);
    } catch (error) {
      this.#failWith(error);
    }
  }

  /**
   * Answers the session's `authenticate` event with the ZAP handler's reply
   * (rfc.zeromq.org spec 27), and resumes the handshake. Ignored once the
   * session is closed (the handshake may have timed out meanwhile). A
   * malformed reply ends the session with an `error` event.
   *
   * @param reply The ZAP handler's answer.
   * @param now The current time, in milliseconds.
   * @throws {Error} If no `authenticate` event awaits an answer.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const session = new Session({ socketType: "PAIR", now: 0 });
   * assert.throws(() => session.authenticated({ statusCode: 200 }, 0));
   * session.close();
   * session.authenticated({ statusCode: 200 }, 0); // ignored once closed
   * ```
   */
  authenticated(reply: ZapReply, now: number): void {
    if (this.#phase === "closed") return;
    const mechanism = this.#mechanism;
    if (!this.#authenticating || mechanism.authenticated === undefined) {
      throw new Error("No authentication request awaits a reply");
    }
    this.#authenticating = false;
    this.#host.now = now;
    try {
      this.#apply(mechanism.authenticated(this.#host, reply), now);
    } catch (error) {
      this.#failWith(error);
    }
  }

  /**
   * Continues decoding the bytes kept when flow control paused the session
   * (see {@linkcode SessionOptions.canDeliver}); it may pause again. Does
   * nothing unless {@linkcode Session.paused}.
   *
   * @param now The current time, in milliseconds.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const received: Uint8Array[][] = [];
   * const a = new Session({ socketType: "PAIR", now: 0 });
   * const b = new Session({
   *   socketType: "PAIR",
   *   now: 0,
   *   canDeliver: () => received.length < 1, // room for one message
   *   onMessage: (frames) => received.push(frames),
   * });
   * const pump = (from: Session, to: Session) => {
   *   for (const bytes of from.takeOutput()) to.receive(bytes, 0);
   * };
   * pump(a, b);
   * pump(b, a);
   * pump(a, b);
   * b.takeEvents(); // the ready event
   * b.resume(0);
   *
   * a.send([new TextEncoder().encode("one")]);
   * a.send([new TextEncoder().encode("two")]);
   * const wire = a.takeOutput();
   * assert.equal(wire.length, 1);
   * b.receive(wire[0], 0);
   * assert.equal(received.length, 1);
   * assert.equal(b.paused, true); // "two" waits, undecoded
   * received.length = 0; // the host took the message
   * b.resume(0);
   * assert.equal(received.length, 1);
   * assert.equal(b.paused, false);
   * ```
   */
  resume(now: number): void {
    if (!this.#held) return;
    this.#held = false;
    if (this.#phase === "closed") return;
    try {
      this.#decodeFrames(now);
    } catch (error) {
      this.#failWith(error);
    }
  }

  /**
   * Runs the timers: handshake timeout, heartbeat PINGs and their timeouts.
   * Call it when `nextTimeout()` has come (calling it early is harmless).
   *
   * @param now The current time, in milliseconds.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const session = new Session({ socketType: "PAIR", now: 0, handshakeInterval: 100 });
   * session.tick(100);
   * const [event] = session.takeEvents();
   * assert.equal(event.type === "error" && event.kind, "timeout");
   * ```
   */
  tick(now: number): void {
    if (this.#phase === "closed") return;
    if (this.#phase !== "ready") {
      if (now >= this.#handshakeAt) this.#fail("timeout", "ETIMEDOUT", "Handshake timed out");
      return;
    }
    if (now >= this.#pingTimeoutAt) {
      this.#fail(
        "timeout",
        "ETIMEDOUT",
        "Heartbeat timed out: no traffic from the peer since our PING",
      );
      return;
    }
    if (now >= this.#ttlAt) {
      this.#fail(
        "timeout",
        "ETIMEDOUT",
        "Heartbeat timed out: the time-to-live of the peer's PING expired",
      );
      return;
    }
    if (now >= this.#nextPingAt) {
      try {
        this.#writeData(FLAG_COMMAND, PING, this.#pingData);
      } catch (error) {
        this.#failWith(error);
        return;
      }
      this.#nextPingAt = now + this.#heartbeatInterval;
      if (this.#pingTimeoutAt === Infinity && this.#heartbeatTimeout > 0) {
        this.#pingTimeoutAt = now + this.#heartbeatTimeout;
      }
    }
  }

  /**
   * When `tick()` is next needed.
   *
   * @returns An absolute time in milliseconds, or `Infinity` when no timer is armed.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new Session({ socketType: "PAIR", now: 5 }).nextTimeout(), 30005);
   * ```
   */
  nextTimeout(): number {
    switch (this.#phase) {
      case "closed":
        return Infinity;
      case "ready":
        return Math.min(this.#nextPingAt, this.#pingTimeoutAt, this.#ttlAt);
      default:
        return this.#handshakeAt;
    }
  }

  /**
   * Drains the events. When there are none this returns a shared, frozen,
   * empty array.
   *
   * @returns The events since the last call, in order.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * assert.deepEqual(new Session({ socketType: "PAIR", now: 0 }).takeEvents(), []);
   * ```
   */
  takeEvents(): SessionEvent[] {
    const events = this.#events;
    if (events.length === 0) return NO_EVENTS;
    this.#events = [];
    return events;
  }

  /**
   * Drains the bytes to write, in order. The arrays are views the session
   * will never write to again. When there is nothing this returns a shared,
   * frozen, empty array.
   *
   * @returns Byte arrays to write to the connection, in order.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const [greeting] = new Session({ socketType: "PAIR", now: 0 }).takeOutput();
   * assert.equal(greeting[0], 0xff);
   * ```
   */
  takeOutput(): Uint8Array[] {
    return this.#out.take();
  }

  /**
   * Encodes one multipart message. Bodies over 8 KiB are queued by
   * reference, so do not modify a frame after sending it.
   *
   * @param frames The message, one entry per frame (at least one).
   * @throws {Error} If the session is not ready.
   * @throws {RangeError} If `frames` is empty.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const session = new Session({ socketType: "PAIR", now: 0 });
   * assert.throws(() => session.send([new Uint8Array(1)]));
   * ```
   */
  send(frames: readonly Uint8Array[]): void {
    this.#checkReady();
    const count = frames.length;
    if (count === 0) throw new RangeError("A message needs at least one frame");
    const last = count - 1;
    if (this.#codec === undefined) {
      const out = this.#out;
      for (let i = 0; i < last; i++) out.writeFrame(FLAG_MORE, undefined, frames[i]);
      out.writeFrame(0, undefined, frames[last]);
    } else {
      for (let i = 0; i < count; i++) {
        this.#writeData(i < last ? FLAG_MORE : 0, undefined, frames[i]);
      }
    }
  }

  /**
   * Tells the peer we subscribe to `topic`: a SUBSCRIBE command to a ZMTP 3.1
   * peer, a `[0x01, ...topic]` message to a 3.0 peer (libzmq 4.3.4 does the
   * same, and accepts both forms).
   *
   * @param topic The topic prefix; empty for everything.
   * @throws {Error} If the session is not ready.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const sub = new Session({ socketType: "SUB", now: 0 });
   * assert.throws(() => sub.subscribe(new Uint8Array(0)));
   * ```
   */
  subscribe(topic: Uint8Array): void {
    this.#checkReady();
    if (this.#peerMinorVersion >= 1 && !this.#framing.legacySubscriptions) {
      this.#writeData(FLAG_COMMAND, SUBSCRIBE, topic);
    } else this.#writeData(0, SUBSCRIBE_PREFIX, topic);
  }

  /**
   * Tells the peer we no longer subscribe to `topic`: a CANCEL command to a
   * ZMTP 3.1 peer, a `[0x00, ...topic]` message to a 3.0 peer.
   *
   * @param topic The topic prefix.
   * @throws {Error} If the session is not ready.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const sub = new Session({ socketType: "SUB", now: 0 });
   * assert.throws(() => sub.cancel(new Uint8Array(0)));
   * ```
   */
  cancel(topic: Uint8Array): void {
    this.#checkReady();
    if (this.#peerMinorVersion >= 1 && !this.#framing.legacySubscriptions) {
      this.#writeData(FLAG_COMMAND, CANCEL, topic);
    } else this.#writeData(0, CANCEL_PREFIX, topic);
  }

  /**
   * Sends a command frame in the data phase: `name` (1 to 255 printable ASCII
   * characters) then `data`, as RFC 37 frames every command. Socket types
   * with commands of their own (DISH's JOIN and LEAVE) send them this way.
   *
   * @param name The command name, e.g. `"JOIN"`.
   * @param data The command's body.
   * @throws {RangeError} For an empty, over-long or non-printable name.
   * @throws {Error} If the session is not ready.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const dish = new Session({ socketType: "DISH", now: 0 });
   * assert.throws(() => dish.sendCommand("JOIN", new TextEncoder().encode("weather")));
   * ```
   */
  sendCommand(name: string, data: Uint8Array): void {
    const prefix = commandPrefix(name);
    this.#checkReady();
    this.#writeData(FLAG_COMMAND, prefix, data);
  }

  /**
   * Closes the session without an event. Pending output stays takeable.
   *
   * @example
   * ```ts
   * import { Session } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const session = new Session({ socketType: "PAIR", now: 0 });
   * session.close();
   * session.close();
   * assert.equal(session.nextTimeout(), Infinity);
   * ```
   */
  close(): void {
    if (this.#phase !== "closed") this.#transition("closed");
  }

  #checkReady(): void {
    if (this.#phase === "ready") return;
    throw new Error(
      this.#phase === "closed"
        ? "Cannot send on a closed session"
        : "Cannot send before the handshake completes",
    );
  }

  #transition(to: SessionPhase): void {
    if (!TRANSITIONS[this.#phase].includes(to)) {
      throw new Error(`Invalid session transition from ${this.#phase} to ${to}`);
    }
    this.#phase = to;
    if (to === "closed") {
      this.#plainData = false;
      this.#parts = [];
      this.#held = false;
    }
  }

  #fail(kind: SessionErrorKind, code: ErrorCode, reason: string): void {
    if (this.#phase === "closed") return;
    this.#transition("closed");
    this.#events.push({ type: "error", kind, code, reason });
  }

  #failWith(error: unknown): void {
    const code = error instanceof ProtocolViolation ? error.code : "EPROTO";
    const reason = error instanceof Error ? error.message : String(error);
    this.#fail("protocol", code, reason);
  }

  // Queues a data-phase frame, through the codec when there is one.
  #writeData(flags: number, prefix: Uint8Array | undefined, body: Uint8Array): void {
    const codec = this.#codec;
    if (codec === undefined) {
      this.#out.writeFrame(flags, prefix, body);
    } else {
      const plain = prefix === undefined ? body : concat(prefix, body);
      // Wrapped frames (CURVE's MESSAGE) go out without the COMMAND flag, as libzmq 4.3.4
      // sends them: its curve_encoding_t::decode ORs the boxed flags into the carrier's, so a
      // COMMAND-flagged MESSAGE would be taken for a command and dropped.
      this.#out.writeFrame(0, undefined, codec.wrap(flags, plain));
    }
  }

  #receive(chunk: Uint8Array, now: number): void {
    // libzmq: any traffic disarms the heartbeat timeout and the peer's TTL.
    this.#pingTimeoutAt = Infinity;
    this.#ttlAt = Infinity;
    let start = 0;
    if (this.#phase === "greeting") {
      start = this.#receiveGreeting(chunk, now);
      if (this.#phase === "greeting" || this.#phase === "closed") return;
      if (start >= chunk.length) return;
    }
    this.#decoder.feed(chunk, start);
    this.#decodeFrames(now);
  }

  #receiveGreeting(chunk: Uint8Array, now: number): number {
    const framing = this.#framing;
    const take = framing.receiveGreeting(chunk, 0);
    const greeting = framing.greeting;
    if (greeting === undefined) return take;
    if (greeting.mechanism !== this.#mechanism.name) {
      this.#fail(
        "protocol",
        "EPROTO",
        `Security mechanism mismatch: we use ${this.#mechanism.name}, the peer uses ${
          greeting.mechanism || "none"
        }`,
      );
      return take;
    }
    this.#peerMinorVersion = this.#host.peerMinorVersion = greeting.minorVersion;
    this.#host.peerAsServer = greeting.asServer;
    this.#transition("handshake");
    this.#apply(this.#mechanism.start(this.#host), now);
    return take;
  }

  #decodeFrames(now: number): void {
    const decoder = this.#decoder;
    const canDeliver = this.#canDeliver;
    let parts = this.#parts;
    for (;;) {
      if (
        canDeliver !== undefined && parts.length === 0 &&
        (this.#events.length > 0 || (this.#phase === "ready" && !canDeliver()))
      ) {
        this.#held = decoder.hasInput;
        break;
      }
      const result = decoder.next();
      if (result !== FRAME) {
        if (result === BROKEN) this.#fail("protocol", decoder.errorCode, decoder.error);
        break;
      }
      const flags = decoder.flags;
      if ((flags & FLAG_COMMAND) === 0 && this.#plainData) {
        const body = decoder.body;
        if ((flags & FLAG_MORE) === 0) {
          if (parts.length === 0) {
            this.#deliver([body]);
          } else {
            parts.push(body);
            this.#deliver(takeParts(parts));
            this.#partsSize = 0;
          }
          continue;
        }
        parts.push(body);
        if ((this.#partsSize += body.length + 2) > this.#maxMessageSize) {
          this.#parts = parts;
          this.#fail("protocol", "EMSGSIZE", "Multipart message larger than maxMessageSize");
          return;
        }
        continue;
      }
      this.#parts = parts;
      this.#onFrame(flags, decoder.body, now);
      if (this.#phase === "closed") return;
      parts = this.#parts;
    }
    this.#parts = parts;
  }

  #deliver(frames: Uint8Array[]): void {
    const events = this.#events;
    if (this.#onMessage !== undefined && events.length === 0) this.#onMessage(frames);
    else events.push({ type: "message", frames });
  }

  #onFrame(flags: number, body: Uint8Array, now: number): void {
    if (this.#phase === "handshake") {
      this.#onHandshakeFrame(flags, body, now);
      return;
    }
    const codec = this.#codec;
    if (codec !== undefined) {
      const plain = codec.unwrap(flags, body);
      if (plain.length === 0) throw new ProtocolViolation("Decoded frame has no flags octet");
      flags = plain[0];
      body = plain.subarray(1);
      if ((flags & FLAG_COMMAND) === 0) {
        this.#parts.push(body);
        if ((flags & FLAG_MORE) === 0) {
          this.#deliver(takeParts(this.#parts));
          this.#partsSize = 0;
        } else if ((this.#partsSize += body.length + 2) > this.#maxMessageSize) {
          this.#fail("protocol", "EMSGSIZE", "Multipart message larger than maxMessageSize");
        }
        return;
      }
    }
    this.#onCommand(flags, body, now);
  }

  // Checks a command frame's shape and returns the length of its name.
  #commandNameLength(flags: number, body: Uint8Array): number {
    if ((flags & FLAG_MORE) !== 0) {
      throw new ProtocolViolation("Command frame has the MORE flag set");
    }
    if (this.#parts.length > 0) {
      throw new ProtocolViolation("Command frame inside a multipart message");
    }
    const length = body.length === 0 ? 0 : body[0];
    if (length === 0 || 1 + length > body.length) {
      throw new ProtocolViolation("Malformed command frame");
    }
    return length;
  }

  #onHandshakeFrame(flags: number, body: Uint8Array, now: number): void {
    if (this.#routingIdHandshake) {
      this.#onRoutingIdFrame(flags, body, now);
      return;
    }
    if ((flags & FLAG_COMMAND) === 0) {
      throw new ProtocolViolation("Message frame received before the handshake completed");
    }
    // libzmq's PLAIN (plain_common.hpp, 4.3.4 to this day) writes its ERROR
    // prefix as the C string "\x05ERROR", whose hex escape swallows the E: on
    // the wire it is 0x5E "RROR" then the reason. Read it as the ERROR it means.
    if (body.length >= 6 && body[0] === 0x5e && latin1(body.subarray(1, 5)) === "RROR") {
      this.#remoteError(body.subarray(5));
      return;
    }
    const length = this.#commandNameLength(flags, body);
    const name = latin1(body.subarray(1, 1 + length));
    const data = body.subarray(1 + length);
    if (name === "ERROR") {
      this.#remoteError(data);
      return;
    }
    this.#apply(this.#mechanism.receiveCommand(this.#host, name, data), now);
  }

  // Bare ZWS2.0: the peer's first message is its routing id (ws_engine.cpp process_routing_id_msg).
  #onRoutingIdFrame(flags: number, body: Uint8Array, now: number): void {
    if ((flags & (FLAG_COMMAND | FLAG_MORE)) !== 0) {
      throw new ProtocolViolation(
        "The first ZWS2.0 message must be one frame holding a routing id",
      );
    }
    if (body.length > 255) {
      throw new ProtocolViolation(`Routing id of ${body.length} octets, at most 255 are allowed`);
    }
    const routingId = body.slice();
    const properties = new Map<string, Uint8Array>();
    if (routingId.length > 0) properties.set("Identity", routingId);
    this.#becomeReady(
      {
        socketType: PARTNER[this.#socketType],
        routingId: routingId.length > 0 ? routingId : undefined,
        properties,
        minorVersion: 1,
        mechanism: this.#mechanism.name,
      },
      undefined,
      now,
    );
  }

  #onCommand(flags: number, body: Uint8Array, now: number): void {
    const length = this.#commandNameLength(flags, body);
    if (length === 4 && bytesEqualAt(body, 0, PING)) {
      if (body.length < 7) throw new ProtocolViolation("Malformed PING command");
      const ttl = ((body[5] << 8) | body[6]) * 100;
      if (ttl > 0) this.#ttlAt = now + ttl;
      // A peer that floods PINGs without reading would otherwise grow our
      // output without bound; while a backlog waits, a PONG is worthless.
      if (this.#out.size < PONG_BACKLOG) {
        this.#writeData(FLAG_COMMAND, PONG, body.subarray(7, 7 + MAX_PING_CONTEXT));
      }
    } else if (length === 9 && bytesEqualAt(body, 0, SUBSCRIBE)) {
      this.#events.push({ type: "subscribe", topic: body.subarray(10) });
    } else if (length === 6 && bytesEqualAt(body, 0, CANCEL)) {
      this.#events.push({ type: "cancel", topic: body.subarray(7) });
    } else if (length === 5 && bytesEqualAt(body, 0, ERROR)) {
      this.#remoteError(body.subarray(6));
    } else if (!(length === 4 && bytesEqualAt(body, 0, PONG))) {
      // Any other command (RADIO's JOIN/LEAVE, say) is the socket type's
      // business; one that ignores it behaves as libzmq (session_base.cpp
      // push_msg drops commands its socket type does not handle).
      this.#events.push({
        type: "command",
        name: latin1(body.subarray(1, 1 + length)),
        data: body.subarray(1 + length),
      });
    }
    // PONG needs nothing more: traffic already disarmed the timeout.
  }

  #remoteError(data: Uint8Array): void {
    const length = data.length === 0 ? -1 : data[0];
    const text = length < 0 || 1 + length > data.length
      ? undefined
      : new TextDecoder().decode(data.subarray(1, 1 + length));
    const reason = text === undefined
      ? "The peer sent a malformed ERROR command"
      : text === ""
      ? "The peer sent an ERROR command without a reason"
      : `The peer sent an ERROR command: ${text}`;
    // A ZAP status code as the reason is a refused login (libzmq's
    // mechanism_base_t::handle_error_reason reports HANDSHAKE_FAILED_AUTH).
    if (this.#phase === "handshake" && text !== undefined && /^[345]00$/.test(text)) {
      this.#fail("authentication", "EACCES", reason);
    } else {
      this.#fail("remote", "EPROTO", reason);
    }
  }

  #apply(step: MechanismStep, now: number): void {
    switch (step.type) {
      case "continue":
        return;
      case "authenticate":
        this.#authenticating = true;
        this.#events.push({ type: "authenticate", request: step.request });
        return;
      case "error":
        this.#fail(step.kind, step.kind === "authentication" ? "EACCES" : "EPROTO", step.reason);
        return;
      case "ready":
        this.#ready(step.metadata, step.codec, now);
    }
  }

  #ready(metadata: Uint8Array, codec: FrameCodec | undefined, now: number): void {
    const properties = decodeMetadata(metadata);
    const socketType = getProperty(properties, "Socket-Type");
    const theirs = socketType === undefined ? undefined : latin1(socketType);
    if (theirs === undefined || !isCompatible(this.#socketType, theirs)) {
      this.#out.writeFrame(FLAG_COMMAND, ERROR, errorData("Invalid socket type"));
      this.#fail(
        "protocol",
        "EPROTO",
        theirs === undefined
          ? "The peer sent no Socket-Type property"
          : `Incompatible socket types: ${this.#socketType} cannot talk to ${theirs}`,
      );
      return;
    }
    const identity = getProperty(properties, "Identity");
    const peer: PeerInfo = {
      socketType: theirs as SocketType,
      routingId: identity !== undefined && identity.length > 0 ? identity : undefined,
      properties,
      minorVersion: this.#peerMinorVersion,
      mechanism: this.#mechanism.name,
    };
    this.#becomeReady(peer, codec, now);
  }

  #becomeReady(peer: PeerInfo, codec: FrameCodec | undefined, now: number): void {
    this.#transition("ready");
    this.#peer = peer;
    this.#codec = codec;
    this.#plainData = codec === undefined;
    this.#handshakeAt = Infinity;
    if (this.#heartbeatInterval > 0) this.#nextPingAt = now + this.#heartbeatInterval;
    this.#events.push({ type: "ready", peer });
  }
}
