/**
 * The security mechanism seam (RFC 23 "Security Mechanisms"). After the
 * greetings, a {@linkcode Mechanism} drives the handshake commands (READY for
 * NULL; HELLO/WELCOME/INITIATE/READY for CURVE), hands the session the peer's
 * metadata, and may install a {@linkcode FrameCodec} that transforms every
 * data-phase frame (CURVE wraps each one into a MESSAGE command). The session
 * owns framing, ERROR commands, socket-type checks and heartbeats.
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
  /**
   * Queues a command frame to the peer, in plain text.
   *
   * @param name The command name, 1-255 ASCII characters, e.g. `"HELLO"`.
   * @param data The command data after the name.
   */
  sendCommand(name: string, data: Uint8Array): void;
}

/**
 * The outcome of one handshake step.
 *
 * - `continue`: more handshake commands are expected.
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
}
