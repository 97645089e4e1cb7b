/**
 * The security mechanism seam (RFC 23 "Security Mechanisms"). After the
 * greetings, a {@linkcode Mechanism} drives the handshake commands (READY for
 * NULL; HELLO/WELCOME/INITIATE/READY for CURVE), hands the session the peer's
 * metadata, and may install a {@linkcode FrameCodec} that transforms every
 * data-phase frame (CURVE wraps each one into a MESSAGE command). The session
 * owns framing, ERROR commands, socket-type checks and heartbeats.
 *
 * A server mechanism that wants a ZAP handler (rfc.zeromq.org spec 27) to
 * judge the client returns an `authenticate` step; the session surfaces it as
 * an `authenticate` event, and once the application (or its ZAP handler)
 * answers, `Session.authenticated()` hands the {@linkcode ZapReply} to
 * {@linkcode Mechanism.authenticated}. The handshake timeout keeps running
 * meanwhile, so an unanswered request ends as a timeout.
 *
 * @module
 */

import type { SocketType } from "./socket_type.ts";

/**
 * What the session offers a mechanism during the handshake.
 *
 * @example A mechanism sends its READY through the host
 * ```ts
 * import type { MechanismHost } from "@monocoque/zmtp/protocol";
 *
 * function sendReady(host: MechanismHost): void {
 *   host.sendCommand("READY", host.metadata);
 * }
 * ```
 */
export interface MechanismHost {
  /** Our socket type. */
  readonly socketType: SocketType;
  /** Our metadata (Socket-Type, Identity, extra properties), encoded as RFC 23 `metadata`. */
  readonly metadata: Uint8Array;
  /** The peer's as-server greeting flag. */
  readonly peerAsServer: boolean;
  /** 0 when the peer speaks ZMTP 3.0, 1 for 3.1. */
  readonly peerMinorVersion: number;
  /** The time of the input being handled, in milliseconds (as given to the session). */
  readonly now: number;
  /**
   * Queues a command frame to the peer, in plain text.
   *
   * @param name The command name, 1-255 ASCII characters, e.g. `"HELLO"`.
   * @param data The command data after the name.
   */
  sendCommand(name: string, data: Uint8Array): void;
}

/**
 * What a server mechanism asks a ZAP handler (rfc.zeromq.org spec 27): the
 * mechanism-specific part of a ZAP request. The socket adds the version,
 * request id, domain, address and identity frames.
 *
 * @example
 * ```ts
 * import type { ZapRequest } from "@monocoque/zmtp/protocol";
 *
 * const request: ZapRequest = {
 *   mechanism: "PLAIN",
 *   credentials: [new TextEncoder().encode("admin"), new TextEncoder().encode("secret")],
 * };
 * ```
 */
export interface ZapRequest {
  /** `"NULL"`, `"PLAIN"` or `"CURVE"`. */
  readonly mechanism: string;
  /** PLAIN: username and password; CURVE: the client's 32-octet long-term public key. */
  readonly credentials: readonly Uint8Array[];
}

/**
 * A ZAP handler's answer (rfc.zeromq.org spec 27), as libzmq reads it:
 * 200 accepts; 300 (temporary failure) closes the connection without an
 * ERROR; 400 and 500 send an ERROR command carrying the status code. Any other
 * code fails the handshake, as libzmq's ZAP_INVALID_STATUS_CODE does.
 *
 * @example
 * ```ts
 * import type { ZapReply } from "@monocoque/zmtp/protocol";
 *
 * const reply: ZapReply = { statusCode: 200, userId: "admin", metadata: { Department: "ops" } };
 * ```
 */
export interface ZapReply {
  /** 200, 300, 400 or 500. */
  readonly statusCode: number;
  /** Human-readable text; not sent to the peer. */
  readonly statusText?: string;
  /** The authenticated user, added to the peer's properties as `User-Id` (UTF-8). */
  readonly userId?: string;
  /**
   * Extra properties for the peer, RFC 23-encoded or as a record (strings as
   * UTF-8). Like libzmq, they take precedence over the peer's own metadata.
   */
  readonly metadata?: Uint8Array | Readonly<Record<string, string | Uint8Array>>;
}

/**
 * The outcome of one handshake step.
 *
 * - `continue`: more handshake commands are expected.
 * - `authenticate`: a server asks a ZAP handler about the client; the
 *   session waits for `Session.authenticated()`.
 * - `ready`: the handshake is complete; `metadata` is the peer's encoded
 *   metadata, and `codec`, if any, transforms data-phase frames.
 * - `error`: the handshake failed. A mechanism that wants the peer to know
 *   sends an ERROR command itself first.
 *
 * @example
 * ```ts
 * import type { MechanismStep } from "@monocoque/zmtp/protocol";
 *
 * const step: MechanismStep = { type: "error", kind: "authentication", reason: "Bad password" };
 * ```
 */
export type MechanismStep =
  | { readonly type: "continue" }
  | { readonly type: "authenticate"; readonly request: ZapRequest }
  | { readonly type: "ready"; readonly metadata: Uint8Array; readonly codec?: FrameCodec }
  | {
    readonly type: "error";
    readonly kind: "protocol" | "authentication";
    readonly reason: string;
  };

/**
 * Transforms data-phase frames, for mechanisms that protect them (CURVE's
 * MESSAGE command). Methods may throw an `Error` whose message is the reason;
 * the session turns it into a protocol error.
 *
 * @example An identity codec that carries each frame inside a command
 * ```ts
 * import type { FrameCodec } from "@monocoque/zmtp/protocol";
 *
 * const codec: FrameCodec = {
 *   wrap(flags, body) {
 *     const out = new Uint8Array(body.length + 1);
 *     out[0] = flags;
 *     out.set(body, 1);
 *     return out;
 *   },
 *   unwrap(_flags, body) {
 *     return body;
 *   },
 * };
 * ```
 */
export interface FrameCodec {
  /**
   * Encodes one outgoing frame.
   *
   * @param flags The frame's flags: MORE (0x01) and COMMAND (0x04).
   * @param body The frame body (for a command: name length, name, data).
   * @returns The body of the command frame that carries it on the wire.
   */
  wrap(flags: number, body: Uint8Array): Uint8Array;
  /**
   * Decodes one incoming wire frame.
   *
   * @param flags The wire frame's flags.
   * @param body The wire frame's body.
   * @returns The carried frame: octet 0 holds its flags, the rest its body.
   */
  unwrap(flags: number, body: Uint8Array): Uint8Array;
}

/**
 * A ZMTP security mechanism: NULL, PLAIN, CURVE. One instance serves one
 * connection.
 *
 * @example A NULL-like mechanism
 * ```ts
 * import type { Mechanism, MechanismHost, MechanismStep } from "@monocoque/zmtp/protocol";
 *
 * class Open implements Mechanism {
 *   readonly name = "NULL";
 *   readonly asServer = false;
 *   start(host: MechanismHost): MechanismStep {
 *     host.sendCommand("READY", host.metadata);
 *     return { type: "continue" };
 *   }
 *   receiveCommand(_host: MechanismHost, name: string, data: Uint8Array): MechanismStep {
 *     return name === "READY"
 *       ? { type: "ready", metadata: data }
 *       : { type: "error", kind: "protocol", reason: `Unexpected ${name} command` };
 *   }
 * }
 * ```
 */
export interface Mechanism {
  /** The name sent in the greeting, 1-20 characters of A-Z, 0-9, "-_.+". */
  readonly name: string;
  /** The as-server flag sent in the greeting. */
  readonly asServer: boolean;
  /**
   * Called once both greetings are exchanged.
   *
   * @param host The session.
   * @returns The first step.
   */
  start(host: MechanismHost): MechanismStep;
  /**
   * Called with each handshake command from the peer, except ERROR, which the
   * session handles.
   *
   * @param host The session.
   * @param name The command name.
   * @param data The command data after the name (a view: copy what you keep).
   * @returns The next step.
   */
  receiveCommand(host: MechanismHost, name: string, data: Uint8Array): MechanismStep;
  /**
   * Called with the answer to this mechanism's `authenticate` step. Only
   * mechanisms that return such a step need it.
   *
   * @param host The session.
   * @param reply The ZAP handler's answer.
   * @returns The next step.
   */
  authenticated?(host: MechanismHost, reply: ZapReply): MechanismStep;
}
