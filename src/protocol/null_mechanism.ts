/**
 * The NULL security mechanism (RFC 23 "The NULL Security Mechanism"): no
 * authentication and no confidentiality; each peer sends READY with its
 * metadata and the handshake is done when the peer's READY arrives.
 *
 * @module
 */

import type { Mechanism, MechanismHost, MechanismStep } from "./mechanism.ts";

const CONTINUE: MechanismStep = Object.freeze({ type: "continue" });

/**
 * The NULL mechanism. Sessions use a new one by default.
 *
 * @example
 * ```ts
 * import { NullMechanism, Session } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * const session = new Session({ socketType: "PAIR", now: 0, mechanism: new NullMechanism() });
 * assert.equal(session.phase, "greeting");
 * ```
 */
export class NullMechanism implements Mechanism {
  /** Always `"NULL"`. */
  readonly name: string = "NULL";
  /** NULL has no roles: always `false`. */
  readonly asServer: boolean = false;

  /**
   * Sends our READY.
   *
   * @param host The session.
   * @returns `continue`: the peer's READY is awaited.
   *
   * @example
   * ```ts
   * import { NullMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const sent: string[] = [];
   * const host: MechanismHost = {
   *   socketType: "PAIR",
   *   metadata: new Uint8Array(0),
   *   peerAsServer: false,
   *   peerMinorVersion: 1,
   *   now: 0,
   *   sendCommand: (name) => void sent.push(name),
   * };
   * assert.deepEqual(new NullMechanism().start(host), { type: "continue" });
   * assert.deepEqual(sent, ["READY"]);
   * ```
   */
  start(host: MechanismHost): MechanismStep {
    host.sendCommand("READY", host.metadata);
    return CONTINUE;
  }

  /**
   * Accepts the peer's READY; any other handshake command is a protocol error.
   *
   * @param _host The session.
   * @param name The command name.
   * @param data The command data: for READY, the peer's metadata.
   * @returns `ready` with the peer's metadata, or `error`.
   *
   * @example
   * ```ts
   * import { NullMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const host = {} as MechanismHost;
   * const step = new NullMechanism().receiveCommand(host, "HELLO", new Uint8Array(0));
   * assert.equal(step.type, "error");
   * ```
   */
  receiveCommand(_host: MechanismHost, name: string, data: Uint8Array): MechanismStep {
    if (name === "READY") return { type: "ready", metadata: data };
    return {
      type: "error",
      kind: "protocol",
      reason: `Unexpected ${name} command during the NULL handshake`,
    };
  }
}
