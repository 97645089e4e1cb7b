/**
 * The CURVE security mechanism (rfc.zeromq.org specs 25/ZMTP-CURVE and
 * 26/CURVEZMQ), byte for byte as libzmq 4.3.4 does it (curve_client.cpp,
 * curve_client_tools.hpp, curve_server.cpp, curve_mechanism_base.cpp):
 *
 * - HELLO (200 octets with its name): version 1.0, 72 octets of
 *   anti-amplification padding, the client's short-term key C', short nonce,
 *   Box[64 zeros](C'→S).
 * - WELCOME (168): 16-octet random nonce, Box[S' + cookie](S→C'). The cookie
 *   is Secretbox[C' + s'](K) under a cookie key K drawn fresh for every
 *   WELCOME (libzmq does the same), forgotten once INITIATE is checked or
 *   when it is older than `cookieLifetime`, so a cookie neither outlives its
 *   key nor opens twice.
 * - INITIATE (257 + metadata): the cookie, short nonce,
 *   Box[C + vouch nonce + vouch + metadata](C'→S'), where the vouch is
 *   Box[C' + S](C→S').
 * - READY (30 + metadata): short nonce, Box[metadata](S'→C').
 * - then MESSAGE commands (see `_curve_codec.ts`).
 *
 * Nonces: the client's HELLO is 1, INITIATE 2, its messages from 3; the
 * server's READY is 1, its messages from 2. A box that does not open (a
 * wrong server key, a forged cookie or vouch) fails the handshake without an
 * ERROR command, as libzmq does.
 *
 * @module
 */

import {
  boxBeforenm,
  boxKeyPair,
  KEY_SIZE,
  open,
  openAfternm,
  publicKeyOf,
  randomBytes,
  seal,
  sealAfternm,
} from "./_curve_crypto.ts";
import { CurveCodec, PeerNonce, putNonce } from "./_curve_codec.ts";
import { decodeMetadata } from "./_metadata.ts";
import { ascii, concat } from "./_wire.ts";
import { judgeZapReply, withProperties } from "./_zap.ts";
import { toCurveKey } from "./curve_keys.ts";
import type { Mechanism, MechanismHost, MechanismStep, ZapReply } from "./mechanism.ts";

const CONTINUE: MechanismStep = Object.freeze({ type: "continue" });
const EMPTY = new Uint8Array(0);

// Command data sizes (without the name): libzmq's sizes minus 6, 8, 9 and 6.
const HELLO_SIZE = 194;
const WELCOME_SIZE = 160;
const INITIATE_MIN = 248;
const READY_MIN = 24;

function nonce(prefix: string, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(24);
  out.set(ascii(prefix));
  out.set(tail, prefix.length);
  return out;
}

function shortNonce(prefix: string, value: number): Uint8Array {
  const out = new Uint8Array(24);
  out.set(ascii(prefix));
  putNonce(out, 16, value);
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function failure(kind: "protocol" | "authentication", reason: string): MechanismStep {
  return { type: "error", kind, reason };
}

function unexpected(name: string, role: string): MechanismStep {
  return failure("protocol", `Unexpected ${name} command during the CURVE handshake (${role})`);
}

/**
 * Options of a {@linkcode CurveClientMechanism}. Keys are 32 octets or 40
 * Z85 characters.
 *
 * @example
 * ```ts
 * import { curveKeyPair, type CurveClientOptions } from "@monocoque/zmtp/protocol";
 *
 * const server = curveKeyPair();
 * const client = curveKeyPair();
 * const options: CurveClientOptions = {
 *   serverKey: server.publicKey,
 *   publicKey: client.publicKey,
 *   secretKey: client.secretKey,
 * };
 * ```
 */
export interface CurveClientOptions {
  /** The server's long-term public key (libzmq `ZMQ_CURVE_SERVERKEY`). */
  serverKey: Uint8Array | string;
  /** Our long-term secret key (libzmq `ZMQ_CURVE_SECRETKEY`). */
  secretKey: Uint8Array | string;
  /** Our long-term public key (libzmq `ZMQ_CURVE_PUBLICKEY`). Default: derived from `secretKey`. */
  publicKey?: Uint8Array | string;
}

/**
 * The client side of CURVE (libzmq: a socket with `ZMQ_CURVE_SERVERKEY` set).
 *
 * @example A CURVE client and server back to back
 * ```ts
 * import {
 *   CurveClientMechanism,
 *   curveKeyPair,
 *   CurveServerMechanism,
 *   Session,
 * } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * const serverKeys = curveKeyPair();
 * const clientKeys = curveKeyPair();
 * const client = new Session({
 *   socketType: "DEALER",
 *   now: 0,
 *   mechanism: new CurveClientMechanism({ serverKey: serverKeys.publicKey, ...clientKeys }),
 * });
 * const server = new Session({
 *   socketType: "ROUTER",
 *   now: 0,
 *   mechanism: new CurveServerMechanism({ secretKey: serverKeys.secretKey, authenticate: false }),
 * });
 * for (let i = 0; i < 3; i++) {
 *   for (const bytes of client.takeOutput()) server.receive(bytes, 0);
 *   for (const bytes of server.takeOutput()) client.receive(bytes, 0);
 * }
 * assert.equal(client.phase, "ready");
 * client.send([new TextEncoder().encode("secret")]);
 * for (const bytes of client.takeOutput()) server.receive(bytes, 0);
 * const events = server.takeEvents();
 * assert.deepEqual(events.map((e) => e.type), ["ready", "message"]);
 * ```
 */
export class CurveClientMechanism implements Mechanism {
  /** Always `"CURVE"`. */
  readonly name: string = "CURVE";
  /** Always `false`. */
  readonly asServer: boolean = false;
  #serverKey: Uint8Array;
  #publicKey: Uint8Array;
  #secretKey: Uint8Array;
  #cnPublic: Uint8Array;
  #cnSecret: Uint8Array;
  #precom: Uint8Array | undefined;
  #peerNonce = new PeerNonce();
  #state: "hello" | "welcome" | "ready" | "done" = "hello";

  /**
   * Checks the keys and draws the short-term key pair.
   *
   * @param options See {@linkcode CurveClientOptions}.
   * @throws {TypeError} If a key is neither a `Uint8Array` nor a Z85 string.
   * @throws {RangeError} If a key has the wrong length.
   *
   * @example
   * ```ts
   * import { CurveClientMechanism } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * assert.throws(
   *   () => new CurveClientMechanism({ serverKey: "too short", secretKey: new Uint8Array(32) }),
   *   RangeError,
   * );
   * ```
   */
  constructor(options: CurveClientOptions) {
    this.#serverKey = toCurveKey(options?.serverKey, "curveServerKey");
    this.#secretKey = toCurveKey(options?.secretKey, "curveSecretKey");
    this.#publicKey = options.publicKey === undefined
      ? publicKeyOf(this.#secretKey)
      : toCurveKey(options.publicKey, "curvePublicKey");
    const { publicKey, secretKey } = boxKeyPair();
    this.#cnPublic = publicKey;
    this.#cnSecret = secretKey;
  }

  /**
   * Sends HELLO.
   *
   * @param host The session.
   * @returns `continue`, or an error if the server key is unusable.
   *
   * @example
   * ```ts
   * import { CurveClientMechanism, curveKeyPair, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const sent: Uint8Array[] = [];
   * const host = {
   *   sendCommand: (_: string, data: Uint8Array) => void sent.push(data),
   * } as unknown as MechanismHost;
   * const keys = curveKeyPair();
   * new CurveClientMechanism({ serverKey: keys.publicKey, secretKey: keys.secretKey }).start(host);
   * assert.equal(sent[0].length, 194); // 200 octets with "\x05HELLO"
   * ```
   */
  start(host: MechanismHost): MechanismStep {
    const box = seal(
      this.#serverKey,
      this.#cnSecret,
      shortNonce("CurveZMQHELLO---", 1),
      new Uint8Array(64),
    );
    if (box === undefined) return failure("authentication", "Unusable CURVE server key");
    const data = new Uint8Array(HELLO_SIZE);
    data[0] = 1; // CurveZMQ version 1.0
    data.set(this.#cnPublic, 74);
    putNonce(data, 106, 1);
    data.set(box, 114);
    host.sendCommand("HELLO", data);
    this.#state = "welcome";
    return CONTINUE;
  }

  /**
   * Handles WELCOME (sends INITIATE) and READY.
   *
   * @param host The session.
   * @param name The command name.
   * @param data The command data.
   * @returns The next step.
   *
   * @example
   * ```ts
   * import { CurveClientMechanism, curveKeyPair, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const keys = curveKeyPair();
   * const client = new CurveClientMechanism({ serverKey: keys.publicKey, secretKey: keys.secretKey });
   * client.start({ sendCommand: () => {} } as unknown as MechanismHost);
   * const step = client.receiveCommand({} as MechanismHost, "WELCOME", new Uint8Array(160));
   * assert.equal(step.type, "error"); // a WELCOME not boxed by the server's key
   * ```
   */
  receiveCommand(host: MechanismHost, name: string, data: Uint8Array): MechanismStep {
    if (name === "WELCOME" && this.#state === "welcome") return this.#welcome(host, data);
    if (name === "READY" && this.#state === "ready") return this.#ready(data);
    return unexpected(name, "client");
  }

  #welcome(host: MechanismHost, data: Uint8Array): MechanismStep {
    if (data.length !== WELCOME_SIZE) return failure("protocol", "Malformed CURVE WELCOME command");
    const plain = open(
      this.#serverKey,
      this.#cnSecret,
      nonce("WELCOME-", data.subarray(0, 16)),
      data.subarray(16),
    );
    if (plain === undefined) {
      return failure("authentication", "CURVE WELCOME does not open: wrong server key?");
    }
    const cnServer = plain.subarray(0, 32);
    const cookie = plain.subarray(32, 128);
    const precom = boxBeforenm(cnServer, this.#cnSecret);
    if (precom === undefined) return failure("authentication", "Unusable CURVE short-term key");
    this.#precom = precom;

    const vouchNonce = randomBytes(16);
    const vouch = seal(
      cnServer,
      this.#secretKey,
      nonce("VOUCH---", vouchNonce),
      concat(this.#cnPublic, this.#serverKey),
    )!;
    const box = sealAfternm(
      precom,
      shortNonce("CurveZMQINITIATE", 2),
      concat(this.#publicKey, vouchNonce, vouch, host.metadata),
    );
    const initiate = new Uint8Array(104 + box.length);
    initiate.set(cookie);
    putNonce(initiate, 96, 2);
    initiate.set(box, 104);
    plain.fill(0);
    host.sendCommand("INITIATE", initiate);
    this.#state = "ready";
    return CONTINUE;
  }

  #ready(data: Uint8Array): MechanismStep {
    if (data.length < READY_MIN) return failure("protocol", "Malformed CURVE READY command");
    const precom = this.#precom!;
    if (!this.#peerNonce.advance(data, 0)) {
      return failure("protocol", "CURVE READY nonce is invalid");
    }
    const metadata = openAfternm(
      precom,
      nonce("CurveZMQREADY---", data.subarray(0, 8)),
      data.subarray(8),
    );
    if (metadata === undefined) return failure("authentication", "CURVE READY does not open");
    this.#state = "done";
    this.#secretKey.fill(0);
    this.#cnSecret.fill(0);
    return {
      type: "ready",
      metadata,
      codec: new CurveCodec(precom, false, 3, this.#peerNonce),
    };
  }
}

/**
 * Options of a {@linkcode CurveServerMechanism}.
 *
 * @example
 * ```ts
 * import { curveKeyPair, type CurveServerOptions } from "@monocoque/zmtp/protocol";
 *
 * const options: CurveServerOptions = { secretKey: curveKeyPair().secretKey };
 * ```
 */
export interface CurveServerOptions {
  /** Our long-term secret key (libzmq `ZMQ_CURVE_SECRETKEY`): 32 octets or 40 Z85 characters. */
  secretKey: Uint8Array | string;
  /**
   * Our long-term public key, if the caller has it (a socket derives it once
   * for all its connections); derived from `secretKey` otherwise, which costs
   * an X25519 operation per mechanism.
   */
  publicKey?: Uint8Array | string;
  /**
   * Whether to ask a ZAP handler (an `authenticate` step with the client's
   * long-term public key) before READY. Default `true`. With `false` every
   * client that knows our public key is accepted (libzmq without a handler).
   */
  authenticate?: boolean;
  /**
   * How long a cookie stays valid after WELCOME, in milliseconds (RFC 26:
   * the cookie key is short-lived, 60 seconds). Default 60000.
   */
  cookieLifetime?: number;
}

/**
 * The server side of CURVE (libzmq `ZMQ_CURVE_SERVER`).
 *
 * @example
 * ```ts
 * import { curveKeyPair, CurveServerMechanism } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * const server = new CurveServerMechanism({ secretKey: curveKeyPair().secretKey });
 * assert.equal(server.asServer, true);
 * ```
 */
export class CurveServerMechanism implements Mechanism {
  /** Always `"CURVE"`. */
  readonly name: string = "CURVE";
  /** Always `true`. */
  readonly asServer: boolean = true;
  #secretKey: Uint8Array;
  #publicKey: Uint8Array;
  #authenticate: boolean;
  #cookieLifetime: number;
  /** Our short-term key pair, drawn once a HELLO opens. */
  #cnPublic: Uint8Array = new Uint8Array(KEY_SIZE);
  #cnSecret: Uint8Array = new Uint8Array(KEY_SIZE);
  #cnClient: Uint8Array | undefined;
  #cookieKey: Uint8Array | undefined;
  #cookieAt = 0;
  #precom: Uint8Array | undefined;
  #metadata: Uint8Array = EMPTY;
  #peerNonce = new PeerNonce();
  #state: "hello" | "initiate" | "zap" | "done" = "hello";

  /**
   * Checks the key and draws the short-term key pair.
   *
   * @param options See {@linkcode CurveServerOptions}.
   * @throws {TypeError} If the key is neither a `Uint8Array` nor a Z85 string.
   * @throws {RangeError} If the key has the wrong length, or `cookieLifetime` is not a positive number.
   *
   * @example
   * ```ts
   * import { CurveServerMechanism } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * assert.throws(() => new CurveServerMechanism({ secretKey: new Uint8Array(31) }), RangeError);
   * ```
   */
  constructor(options: CurveServerOptions) {
    this.#secretKey = toCurveKey(options?.secretKey, "curveSecretKey");
    this.#publicKey = options.publicKey === undefined
      ? publicKeyOf(this.#secretKey)
      : toCurveKey(options.publicKey, "curvePublicKey");
    this.#authenticate = options.authenticate ?? true;
    const lifetime = options.cookieLifetime ?? 60000;
    if (typeof lifetime !== "number" || !(lifetime > 0)) {
      throw new RangeError(`Option cookieLifetime must be a positive number, got ${lifetime}`);
    }
    this.#cookieLifetime = lifetime;
  }

  /**
   * The server waits for HELLO.
   *
   * @param _host The session.
   * @returns `continue`.
   *
   * @example
   * ```ts
   * import { curveKeyPair, CurveServerMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const server = new CurveServerMechanism({ secretKey: curveKeyPair().secretKey });
   * assert.equal(server.start({} as MechanismHost).type, "continue");
   * ```
   */
  start(_host: MechanismHost): MechanismStep {
    return CONTINUE;
  }

  /**
   * Handles HELLO (sends WELCOME) and INITIATE (asks for authentication, or
   * sends READY).
   *
   * @param host The session.
   * @param name The command name.
   * @param data The command data.
   * @returns The next step.
   *
   * @example
   * ```ts
   * import { curveKeyPair, CurveServerMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const server = new CurveServerMechanism({ secretKey: curveKeyPair().secretKey });
   * const step = server.receiveCommand({} as MechanismHost, "HELLO", new Uint8Array(10));
   * assert.equal(step.type, "error");
   * ```
   */
  receiveCommand(host: MechanismHost, name: string, data: Uint8Array): MechanismStep {
    if (name === "HELLO" && this.#state === "hello") return this.#hello(host, data);
    if (name === "INITIATE" && this.#state === "initiate") return this.#initiate(host, data);
    return unexpected(name, "server");
  }

  /**
   * Continues after the ZAP reply: READY on 200, otherwise an error (with
   * an ERROR command for 400 and 500).
   *
   * @param host The session.
   * @param reply The ZAP handler's answer.
   * @returns The next step.
   *
   * @example
   * ```ts
   * import { curveKeyPair, CurveServerMechanism, type MechanismHost } from "@monocoque/zmtp/protocol";
   * import assert from "node:assert/strict";
   *
   * const server = new CurveServerMechanism({ secretKey: curveKeyPair().secretKey });
   * assert.equal(server.authenticated({} as MechanismHost, { statusCode: 200 }).type, "error");
   * ```
   */
  authenticated(host: MechanismHost, reply: ZapReply): MechanismStep {
    if (this.#state !== "zap") return unexpected("ZAP reply", "server");
    const verdict = judgeZapReply(host, reply);
    if (!verdict.accepted) {
      this.#state = "done";
      return verdict.step;
    }
    return this.#sendReady(host, verdict.properties);
  }

  #hello(host: MechanismHost, data: Uint8Array): MechanismStep {
    if (data.length !== HELLO_SIZE) return failure("protocol", "Malformed CURVE HELLO command");
    if (data[0] !== 1 || data[1] !== 0) {
      return failure("protocol", "Unsupported CurveZMQ version in HELLO");
    }
    const cnClient = data.slice(74, 106);
    this.#peerNonce.advance(data, 106);
    // One X25519 for the HELLO box and the WELCOME box (same two keys), as afternm boxes.
    const shared = boxBeforenm(cnClient, this.#secretKey);
    if (shared === undefined) return failure("authentication", "Unusable CURVE client key");
    const zeros = openAfternm(
      shared,
      nonce("CurveZMQHELLO---", data.subarray(106, 114)),
      data.subarray(114),
    );
    if (zeros === undefined) {
      shared.fill(0);
      return failure(
        "authentication",
        "CURVE HELLO does not open: the client has a wrong server key",
      );
    }
    this.#cnClient = cnClient;
    // The short-term key pair is drawn only for a client that knows our key.
    const { publicKey: cnPublic, secretKey: cnSecret } = boxKeyPair();
    this.#cnPublic = cnPublic;
    this.#cnSecret = cnSecret;

    const cookieKey = randomBytes(KEY_SIZE);
    const cookieNonce = randomBytes(16);
    const cookieBox = sealAfternm(
      cookieKey,
      nonce("COOKIE--", cookieNonce),
      concat(cnClient, this.#cnSecret),
    );
    const welcomeNonce = randomBytes(16);
    const box = sealAfternm(
      shared,
      nonce("WELCOME-", welcomeNonce),
      concat(this.#cnPublic, cookieNonce, cookieBox),
    );
    shared.fill(0);
    this.#cookieKey = cookieKey;
    this.#cookieAt = host.now;
    host.sendCommand("WELCOME", concat(welcomeNonce, box));
    this.#state = "initiate";
    return CONTINUE;
  }

  #initiate(host: MechanismHost, data: Uint8Array): MechanismStep {
    if (data.length < INITIATE_MIN) return failure("protocol", "Malformed CURVE INITIATE command");
    const cookieKey = this.#cookieKey!;
    // The cookie key is good for one INITIATE only, and only for cookieLifetime.
    this.#cookieKey = undefined;
    const expired = !(host.now - this.#cookieAt < this.#cookieLifetime);
    const cookie = openAfternm(
      cookieKey,
      nonce("COOKIE--", data.subarray(0, 16)),
      data.subarray(16, 96),
    );
    cookieKey.fill(0);
    if (expired) return failure("authentication", "CURVE cookie expired");
    const cnClient = this.#cnClient!;
    if (
      cookie === undefined || !equal(cookie.subarray(0, 32), cnClient) ||
      !equal(cookie.subarray(32, 64), this.#cnSecret)
    ) {
      return failure("authentication", "CURVE INITIATE has an invalid cookie");
    }
    if (!this.#peerNonce.advance(data, 96)) {
      return failure("protocol", "CURVE INITIATE nonce is invalid");
    }
    const precom = boxBeforenm(cnClient, this.#cnSecret);
    if (precom === undefined) return failure("authentication", "Unusable CURVE client key");
    this.#precom = precom;
    const plain = openAfternm(
      precom,
      nonce("CurveZMQINITIATE", data.subarray(96, 104)),
      data.subarray(104),
    );
    if (plain === undefined) return failure("authentication", "CURVE INITIATE does not open");
    const clientKey = plain.slice(0, 32);
    const vouch = open(
      clientKey,
      this.#cnSecret,
      nonce("VOUCH---", plain.subarray(32, 48)),
      plain.subarray(48, 128),
    );
    if (
      vouch === undefined || !equal(vouch.subarray(0, 32), cnClient) ||
      !equal(vouch.subarray(32, 64), this.#publicKey)
    ) {
      return failure("authentication", "CURVE INITIATE has an invalid vouch");
    }
    const metadata = plain.subarray(128);
    decodeMetadata(metadata); // a malformed one throws: the session reports a protocol error
    this.#metadata = metadata;
    if (!this.#authenticate) return this.#sendReady(host, EMPTY);
    this.#state = "zap";
    return { type: "authenticate", request: { mechanism: "CURVE", credentials: [clientKey] } };
  }

  #sendReady(host: MechanismHost, properties: Uint8Array): MechanismStep {
    const precom = this.#precom!;
    const box = sealAfternm(precom, shortNonce("CurveZMQREADY---", 1), host.metadata);
    const ready = new Uint8Array(8 + box.length);
    putNonce(ready, 0, 1);
    ready.set(box, 8);
    host.sendCommand("READY", ready);
    this.#state = "done";
    this.#cnSecret.fill(0);
    return {
      type: "ready",
      metadata: withProperties(this.#metadata, properties),
      codec: new CurveCodec(precom, true, 2, this.#peerNonce),
    };
  }
}
