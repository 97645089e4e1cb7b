/**
 * The PLAIN security mechanism (rfc.zeromq.org spec 24/ZMTP-PLAIN): the
 * client sends a username and password in clear text in HELLO, the server
 * answers WELCOME (or ERROR), the client sends its metadata in INITIATE and
 * the server answers with its own in READY. Byte layouts and checks follow
 * libzmq 4.3.4's plain_client.cpp and plain_server.cpp. PLAIN protects
 * nothing on the wire: use it on trusted networks only, or use CURVE.
 *
 * @module
 */

import { decodeMetadata } from "./_metadata.ts";
import { utf8 } from "./_wire.ts";
import { judgeZapReply, withProperties } from "./_zap.ts";
import type { Mechanism, MechanismHost, MechanismStep, ZapReply } from "./mechanism.ts";

const CONTINUE: MechanismStep = Object.freeze({ type: "continue" });
const EMPTY = new Uint8Array(0);

function unexpected(name: string, role: string): MechanismStep {
  return {
    type: "error",
    kind: "protocol",
    reason: `Unexpected ${name} command during the PLAIN handshake (${role})`,
  };
}

function malformed(name: string): MechanismStep {
  return { type: "error", kind: "protocol", reason: `Malformed PLAIN ${name} command` };
}

function credential(value: string | Uint8Array, name: string): Uint8Array {
  if (typeof value !== "string" && !(value instanceof Uint8Array)) {
    throw new TypeError(`Option ${name} must be a string or a Uint8Array`);
  }
  const bytes = typeof value === "string" ? utf8(value) : value.slice();
  if (bytes.length > 255) {
    throw new RangeError(`Option ${name} must be at most 255 octets, got ${bytes.length}`);
  }
  return bytes;
}

/**
 * Options of a {@linkcode PlainClientMechanism}.
 *
 * @example
 * ```ts
 * import type { PlainClientOptions } from "@monocoque/zmtp/protocol";
 *
 * const options: PlainClientOptions = { username: "admin", password: "secret" };
 * ```
 */
export interface PlainClientOptions {
  /** libzmq `ZMQ_PLAIN_USERNAME`: 0-255 octets (strings as UTF-8). */
  username: string | Uint8Array;
  /** libzmq `ZMQ_PLAIN_PASSWORD`: 0-255 octets (strings as UTF-8). */
  password: string | Uint8Array;
}

/**
 * The client side of PLAIN (libzmq: a socket with `ZMQ_PLAIN_USERNAME` set).
 *
 * @example A PLAIN client and server back to back
 * ```ts
 * import { PlainClientMechanism, PlainServerMechanism, Session } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * const client = new Session({
 *   socketType: "REQ",
 *   now: 0,
 *   mechanism: new PlainClientMechanism({ username: "admin", password: "secret" }),
 * });
 * const server = new Session({ socketType: "REP", now: 0, mechanism: new PlainServerMechanism() });
 * const pump = (from: Session, to: Session) => {
 *   for (const bytes of from.takeOutput()) to.receive(bytes, 0);
 * };
 * pump(client, server);
 * pump(server, client);
 * pump(client, server);
 * const [request] = server.takeEvents();
 * assert.equal(request.type, "authenticate");
 * server.authenticated({ statusCode: 200, userId: "admin" }, 0);
 * pump(server, client);
 * pump(client, server);
 * pump(server, client);
 * assert.equal(client.phase, "ready");
 * assert.equal(server.phase, "ready");
 * ```
 */
export class PlainClientMechanism implements Mechanism {
  /** Always `"PLAIN"`. */
  readonly name: string = "PLAIN";
  /** The client is never the server: `false`. */
  readonly asServer: boolean = false;
  #username: Uint8Array;
  #password: Uint8Array;
  #state: "hello" | "welcome" | "ready" | "done" = "hello";

  /**
   * Creates the client side of one connection.
   *
   * @param options The credentials.
   * @throws {TypeError} If a credential is neither a string nor a `Uint8Array`.
   * @throws {RangeError} If a credential is longer than 255 octets.
   *
   * @example
   * ```ts
   * import { PlainClientMechanism } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * assert.throws(() => new PlainClientMechanism({ username: "x".repeat(256), password: "" }));
   * ```
   */
  constructor(options: PlainClientOptions) {
    this.#username = credential(options?.username, "plainUsername");
    this.#password = credential(options?.password, "plainPassword");
  }

  /**
   * Sends HELLO with the username and password.
   *
   * @param host The session.
   * @returns `continue`: WELCOME is awaited.
   *
   * @example
   * ```ts
   * import { PlainClientMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const sent: string[] = [];
   * const host = { sendCommand: (name: string) => void sent.push(name) } as unknown as MechanismHost;
   * new PlainClientMechanism({ username: "u", password: "p" }).start(host);
   * assert.deepEqual(sent, ["HELLO"]);
   * ```
   */
  start(host: MechanismHost): MechanismStep {
    const user = this.#username;
    const password = this.#password;
    const data = new Uint8Array(2 + user.length + password.length);
    data[0] = user.length;
    data.set(user, 1);
    data[1 + user.length] = password.length;
    data.set(password, 2 + user.length);
    host.sendCommand("HELLO", data);
    this.#state = "welcome";
    return CONTINUE;
  }

  /**
   * Handles WELCOME (sends INITIATE with our metadata) and READY (the
   * server's metadata).
   *
   * @param host The session.
   * @param name The command name.
   * @param data The command data.
   * @returns The next step.
   *
   * @example
   * ```ts
   * import { PlainClientMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const mechanism = new PlainClientMechanism({ username: "u", password: "p" });
   * const step = mechanism.receiveCommand({} as MechanismHost, "READY", new Uint8Array(0));
   * assert.equal(step.type, "error"); // READY before WELCOME
   * ```
   */
  receiveCommand(host: MechanismHost, name: string, data: Uint8Array): MechanismStep {
    if (name === "WELCOME" && this.#state === "welcome") {
      if (data.length !== 0) return malformed("WELCOME");
      host.sendCommand("INITIATE", host.metadata);
      this.#state = "ready";
      return CONTINUE;
    }
    if (name === "READY" && this.#state === "ready") {
      this.#state = "done";
      return { type: "ready", metadata: data };
    }
    return unexpected(name, "client");
  }
}

/**
 * Options of a {@linkcode PlainServerMechanism}.
 *
 * @example
 * ```ts
 * import type { PlainServerOptions } from "@monocoque/zmtp/protocol";
 *
 * const options: PlainServerOptions = { authenticate: true };
 * ```
 */
export interface PlainServerOptions {
  /**
   * Whether to ask a ZAP handler (an `authenticate` step) before WELCOME.
   * Default `true`. With `false` every username and password is accepted.
   */
  authenticate?: boolean;
}

/**
 * The server side of PLAIN (libzmq `ZMQ_PLAIN_SERVER`). It returns an
 * `authenticate` step with the username and password as ZAP credentials, and
 * answers WELCOME or ERROR once `Session.authenticated()` delivers the reply.
 *
 * @example
 * ```ts
 * import { PlainServerMechanism, Session } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * const server = new Session({ socketType: "REP", now: 0, mechanism: new PlainServerMechanism() });
 * assert.equal(server.phase, "greeting");
 * ```
 */
export class PlainServerMechanism implements Mechanism {
  /** Always `"PLAIN"`. */
  readonly name: string = "PLAIN";
  /** Always `true`. */
  readonly asServer: boolean = true;
  #authenticate: boolean;
  #state: "hello" | "zap" | "initiate" | "done" = "hello";
  #properties: Uint8Array = EMPTY;

  /**
   * Creates the server side of one connection.
   *
   * @param options See {@linkcode PlainServerOptions}.
   *
   * @example
   * ```ts
   * import { PlainServerMechanism } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new PlainServerMechanism({ authenticate: false }).asServer, true);
   * ```
   */
  constructor(options: PlainServerOptions = {}) {
    this.#authenticate = options.authenticate ?? true;
  }

  /**
   * The server waits for HELLO.
   *
   * @param _host The session.
   * @returns `continue`.
   *
   * @example
   * ```ts
   * import { PlainServerMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new PlainServerMechanism().start({} as MechanismHost).type, "continue");
   * ```
   */
  start(_host: MechanismHost): MechanismStep {
    return CONTINUE;
  }

  /**
   * Handles HELLO (asks for authentication, or sends WELCOME) and INITIATE
   * (sends READY with our metadata).
   *
   * @param host The session.
   * @param name The command name.
   * @param data The command data.
   * @returns The next step.
   *
   * @example
   * ```ts
   * import { PlainServerMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const step = new PlainServerMechanism().receiveCommand(
   *   {} as MechanismHost,
   *   "HELLO",
   *   Uint8Array.of(1, 0x75, 1, 0x70),
   * );
   * assert.equal(step.type, "authenticate");
   * ```
   */
  receiveCommand(host: MechanismHost, name: string, data: Uint8Array): MechanismStep {
    if (name === "HELLO" && this.#state === "hello") {
      // libzmq plain_server.cpp process_hello: exact lengths, nothing after the password.
      const userLength = data.length > 0 ? data[0] : -1;
      if (userLength < 0 || 1 + userLength >= data.length) return malformed("HELLO");
      const passwordLength = data[1 + userLength];
      if (2 + userLength + passwordLength !== data.length) return malformed("HELLO");
      if (!this.#authenticate) return this.#welcome(host);
      this.#state = "zap";
      return {
        type: "authenticate",
        request: {
          mechanism: "PLAIN",
          credentials: [data.slice(1, 1 + userLength), data.slice(2 + userLength)],
        },
      };
    }
    if (name === "INITIATE" && this.#state === "initiate") {
      decodeMetadata(data); // a malformed one throws: the session reports a protocol error
      host.sendCommand("READY", host.metadata);
      this.#state = "done";
      return { type: "ready", metadata: withProperties(data, this.#properties) };
    }
    return unexpected(name, "server");
  }

  /**
   * Continues after the ZAP reply: WELCOME on 200, otherwise an error (with
   * an ERROR command for 400 and 500).
   *
   * @param host The session.
   * @param reply The ZAP handler's answer.
   * @returns The next step.
   *
   * @example
   * ```ts
   * import { PlainServerMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const host = { sendCommand: () => {} } as unknown as MechanismHost;
   * const mechanism = new PlainServerMechanism();
   * mechanism.receiveCommand(host, "HELLO", Uint8Array.of(0, 0));
   * assert.equal(mechanism.authenticated(host, { statusCode: 400 }).type, "error");
   * ```
   */
  authenticated(host: MechanismHost, reply: ZapReply): MechanismStep {
    if (this.#state !== "zap") return unexpected("ZAP reply", "server");
    const verdict = judgeZapReply(host, reply);
    if (!verdict.accepted) {
      this.#state = "done";
      return verdict.step;
    }
    this.#properties = verdict.properties;
    return this.#welcome(host);
  }

  #welcome(host: MechanismHost): MechanismStep {
    host.sendCommand("WELCOME", EMPTY);
    this.#state = "initiate";
    return CONTINUE;
  }
}
