/**
 * An in-process ZAP handler (rfc.zeromq.org spec 27), so applications rarely
 * write one: it binds `inproc://zeromq.zap.01`, where every PLAIN or CURVE
 * server socket of this process sends its ZAP requests, and judges them the
 * way pyzmq's `zmq.auth` authenticators do — addresses allowed or denied,
 * PLAIN passwords and CURVE public keys per domain — or with a callback.
 *
 * @module
 */

import { encodeMetadata, isValidPropertyName } from "../protocol/_metadata.ts";
import { toCurveKey } from "../protocol/curve_keys.ts";
import { z85Encode } from "../protocol/z85.ts";
import { ZAP_ENDPOINT } from "./_zap_client.ts";
import { RouterSocket } from "./router.ts";

/**
 * A ZAP request, decoded for an {@linkcode AuthenticatorOptions.handler}.
 *
 * @example
 * ```ts
 * import type { AuthenticationRequest } from "@monocoque/zmtp";
 *
 * const isAdmin = (request: AuthenticationRequest) => request.username === "admin";
 * ```
 */
export interface AuthenticationRequest {
  /** The server socket's `zapDomain` (empty by default). */
  domain: string;
  /** The client's IP address; empty for ipc and inproc peers. */
  address: string;
  /** The server socket's own routing id, as libzmq sends it. */
  identity: Uint8Array;
  /** `"PLAIN"` or `"CURVE"` (or `"NULL"` from a libzmq-like sender). */
  mechanism: string;
  /** PLAIN: the username (UTF-8). */
  username?: string;
  /** PLAIN: the password (UTF-8). */
  password?: string;
  /** CURVE: the client's long-term public key, as 40 Z85 characters. */
  publicKey?: string;
  /** The raw credential frames. */
  credentials: Uint8Array[];
}

/**
 * A handler's verdict: `true` accepts (User-Id: the PLAIN username or the
 * CURVE key), `false` refuses with status 400, or an object with the details.
 *
 * @example
 * ```ts
 * import type { AuthenticationResult } from "@monocoque/zmtp";
 *
 * const ok: AuthenticationResult = { userId: "alice", metadata: { Role: "admin" } };
 * ```
 */
export type AuthenticationResult =
  | boolean
  | {
    /** Default true. */
    accept?: boolean;
    /** The User-Id the server socket reports for the peer. */
    userId?: string;
    /** Properties the server socket reports for the peer (ZAP reply metadata). */
    metadata?: Record<string, string>;
    /** Status text when refused; not sent to the client. */
    reason?: string;
  };

/**
 * Options of an {@linkcode Authenticator}.
 *
 * @example
 * ```ts
 * import type { AuthenticatorOptions } from "@monocoque/zmtp";
 *
 * const options: AuthenticatorOptions = { handler: (r) => r.address === "127.0.0.1" };
 * ```
 */
export interface AuthenticatorOptions {
  /**
   * Judges each request that passed the address checks, instead of the
   * configured passwords and keys. May be async; a throw refuses with 500.
   */
  handler?: (
    request: AuthenticationRequest,
  ) => AuthenticationResult | Promise<AuthenticationResult>;
}

interface Verdict {
  status: "200" | "400" | "500";
  text: string;
  userId: string;
  metadata: Record<string, string>;
}

const encoder = new TextEncoder();
/** Requests the handler may answer at once. */
const MAX_IN_FLIGHT = 64;

const decoder = new TextDecoder();

/** Encodes ZAP reply metadata (RFC 23 properties); throws on an invalid name. */
function encodeProperties(properties: Record<string, string>): Uint8Array {
  const entries: [string, Uint8Array][] = [];
  for (const [name, value] of Object.entries(properties)) {
    if (!isValidPropertyName(name)) throw new RangeError(`Invalid metadata property name: ${name}`);
    entries.push([name, encoder.encode(String(value))]);
  }
  return encodeMetadata(entries);
}

/**
 * A ZAP handler in this process, like pyzmq's `zmq.auth.ThreadAuthenticator`:
 * bind it with {@linkcode Authenticator.start}, then every PLAIN or CURVE
 * server socket of the process asks it about each client.
 *
 * Rules, as pyzmq applies them: if any address is allowed, only those
 * addresses pass; otherwise denied addresses are refused. Then PLAIN clients
 * need a configured username and password, and CURVE clients a configured
 * public key (or `"any"`), for the request's domain (`"*"` covers every
 * domain without its own configuration). With a `handler` the handler decides
 * instead. Refusals reply 400; the User-Id is the username or the Z85 key.
 *
 * @example A CURVE server that accepts one client key
 * ```ts
 * import { Authenticator, curveKeyPair, RepSocket, ReqSocket } from "@monocoque/zmtp";
 *
 * const serverKeys = curveKeyPair();
 * const clientKeys = curveKeyPair();
 * await using auth = new Authenticator();
 * await auth.start();
 * auth.configureCurve([clientKeys.publicKey]);
 *
 * await using rep = new RepSocket({ curveServer: true, curveSecretKey: serverKeys.secretKey });
 * await rep.bind("tcp://127.0.0.1:0");
 * await using req = new ReqSocket({
 *   curveServerKey: serverKeys.publicKey,
 *   curveSecretKey: clientKeys.secretKey,
 * });
 * req.connect(rep.lastEndpoint!);
 * await req.send("hello");
 * const [hello] = await rep.receive();
 * console.assert(new TextDecoder().decode(hello) === "hello");
 * ```
 */
export class Authenticator implements AsyncDisposable {
  #handler: AuthenticatorOptions["handler"];
  #allowed = new Set<string>();
  #denied = new Set<string>();
  #passwords = new Map<string, Map<string, string>>();
  #keys = new Map<string, Set<string> | "any">();
  #socket: RouterSocket | undefined;
  #loop: Promise<void> | undefined;
  #inFlight = new Set<Promise<void>>();

  /**
   * Creates an authenticator; it judges nothing until started.
   *
   * @param options See {@linkcode AuthenticatorOptions}.
   * @throws {TypeError} If `handler` is not a function.
   *
   * @example
   * ```ts
   * import { Authenticator } from "@monocoque/zmtp";
   *
   * const auth = new Authenticator({ handler: (request) => request.username === "admin" });
   * await auth.close(); // never started: nothing to release
   * ```
   */
  constructor(options: AuthenticatorOptions = {}) {
    if (options.handler !== undefined && typeof options.handler !== "function") {
      throw new TypeError("Option handler must be a function");
    }
    this.#handler = options.handler;
  }

  /**
   * Binds `inproc://zeromq.zap.01` and starts answering requests.
   *
   * @throws {ZmqError} `EADDRINUSE` if another handler is bound in this process.
   *
   * @example
   * ```ts
   * import { Authenticator } from "@monocoque/zmtp";
   *
   * await using auth = new Authenticator();
   * await auth.start();
   * ```
   */
  async start(): Promise<void> {
    if (this.#socket !== undefined) return;
    const socket = new RouterSocket({ sendHighWaterMark: 0, receiveHighWaterMark: 0, linger: 0 });
    try {
      await socket.bind(ZAP_ENDPOINT);
    } catch (error) {
      await socket.close();
      throw error;
    }
    this.#socket = socket;
    this.#loop = this.#serve(socket);
  }

  /**
   * Accepts only clients from these IP addresses (pyzmq's `allow`); other
   * checks still apply. Calls add up.
   *
   * @param addresses IP addresses, e.g. `"127.0.0.1"`.
   *
   * @example
   * ```ts
   * import { Authenticator } from "@monocoque/zmtp";
   *
   * const auth = new Authenticator();
   * auth.allow("127.0.0.1", "::1");
   * ```
   */
  allow(...addresses: string[]): void {
    for (const a of addresses) this.#allowed.add(String(a));
  }

  /**
   * Refuses clients from these IP addresses (pyzmq's `deny`); ignored while
   * any address is allowed.
   *
   * @param addresses IP addresses.
   *
   * @example
   * ```ts
   * import { Authenticator } from "@monocoque/zmtp";
   *
   * const auth = new Authenticator();
   * auth.deny("192.0.2.1");
   * ```
   */
  deny(...addresses: string[]): void {
    for (const a of addresses) this.#denied.add(String(a));
  }

  /**
   * Sets the PLAIN usernames and passwords of a domain (pyzmq's
   * `configure_plain`), replacing earlier ones.
   *
   * @param passwords Username → password.
   * @param domain The ZAP domain; `"*"` (the default) covers every domain.
   * @throws {TypeError} If a password is not a string.
   *
   * @example
   * ```ts
   * import { Authenticator } from "@monocoque/zmtp";
   *
   * const auth = new Authenticator();
   * auth.configurePlain({ admin: "secret" });
   * ```
   */
  configurePlain(passwords: Record<string, string>, domain = "*"): void {
    const table = new Map<string, string>();
    for (const [user, password] of Object.entries(passwords ?? {})) {
      if (typeof password !== "string") {
        throw new TypeError(`The password of ${user} must be a string`);
      }
      table.set(user, password);
    }
    this.#passwords.set(domain, table);
  }

  /**
   * Sets the CURVE client keys a domain accepts (pyzmq's `configure_curve`),
   * replacing earlier ones; `"any"` accepts every client (encryption
   * without client authentication).
   *
   * @param keys Public keys (32 bytes or 40 Z85 characters), or `"any"`.
   * @param domain The ZAP domain; `"*"` (the default) covers every domain.
   * @throws {TypeError} If a key is neither a `Uint8Array` nor a Z85 string.
   * @throws {RangeError} If a key has the wrong length.
   *
   * @example
   * ```ts
   * import { Authenticator, curveKeyPair } from "@monocoque/zmtp";
   *
   * const auth = new Authenticator();
   * auth.configureCurve([curveKeyPair().publicKey]);
   * ```
   */
  configureCurve(keys: readonly (string | Uint8Array)[] | "any", domain = "*"): void {
    if (keys === "any") {
      this.#keys.set(domain, "any");
      return;
    }
    const set = new Set<string>();
    for (const key of keys) set.add(z85Encode(toCurveKey(key, "key")));
    this.#keys.set(domain, set);
  }

  /**
   * Stops answering and unbinds. Idempotent.
   *
   * @example
   * ```ts
   * import { Authenticator } from "@monocoque/zmtp";
   *
   * const auth = new Authenticator();
   * await auth.start();
   * await auth.close();
   * ```
   */
  async close(): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#socket = undefined;
    await socket.close();
    await this.#loop;
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /**
   * Same as {@linkcode close}.
   *
   * @example
   * ```ts
   * import { Authenticator } from "@monocoque/zmtp";
   *
   * await using auth = new Authenticator();
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #serve(socket: RouterSocket): Promise<void> {
    for (;;) {
      // A flood of handshakes must not run the handler (a password hash, a database) for
      // all of them at once: past the limit, requests wait in the socket until one settles.
      if (this.#inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.#inFlight);
      let frames: Uint8Array[];
      try {
        frames = await socket.receive();
      } catch {
        return; // closed
      }
      // [routing id, "", "1.0", id, domain, address, identity, mechanism, ...credentials]
      if (frames.length < 8 || frames[1].length !== 0) continue;
      const job = this.#answer(socket, frames);
      this.#inFlight.add(job);
      job.finally(() => this.#inFlight.delete(job));
    }
  }

  async #answer(socket: RouterSocket, frames: Uint8Array[]): Promise<void> {
    const [peer, , version, id] = frames;
    let verdict: Verdict;
    if (decoder.decode(version) !== "1.0") {
      verdict = { status: "500", text: "Version number not valid", userId: "", metadata: {} };
    } else {
      const credentials = frames.slice(8);
      const mechanism = decoder.decode(frames[7]);
      const request: AuthenticationRequest = {
        domain: decoder.decode(frames[4]),
        address: decoder.decode(frames[5]),
        identity: frames[6],
        mechanism,
        credentials,
      };
      if (mechanism === "PLAIN" && credentials.length === 2) {
        request.username = decoder.decode(credentials[0]);
        request.password = decoder.decode(credentials[1]);
      } else if (
        mechanism === "CURVE" && credentials.length === 1 && credentials[0].length === 32
      ) {
        request.publicKey = z85Encode(credentials[0]);
      }
      verdict = await this.#judge(request);
    }
    let metadata: Uint8Array;
    try {
      metadata = encodeProperties(verdict.metadata);
    } catch (error) {
      verdict = { status: "500", text: (error as Error).message, userId: "", metadata: {} };
      metadata = new Uint8Array(0);
    }
    try {
      await socket.send([
        peer,
        "",
        version,
        id,
        verdict.status,
        verdict.text,
        verdict.userId,
        metadata,
      ]);
    } catch {
      // The socket closed meanwhile: the handshake ends by its own timeout.
    }
  }

  async #judge(request: AuthenticationRequest): Promise<Verdict> {
    const refuse = (text: string): Verdict => ({ status: "400", text, userId: "", metadata: {} });
    // Address checks first, as pyzmq's Authenticator does.
    if (this.#allowed.size > 0) {
      if (!this.#allowed.has(request.address)) return refuse("Address not allowed");
    } else if (this.#denied.has(request.address)) {
      return refuse("Address is denied");
    }
    if (this.#handler !== undefined) {
      let result: AuthenticationResult;
      try {
        result = await this.#handler(request);
      } catch (error) {
        return { status: "500", text: String((error as Error)?.message), userId: "", metadata: {} };
      }
      const fallback = request.username ?? request.publicKey ?? "";
      if (result === true) return { status: "200", text: "OK", userId: fallback, metadata: {} };
      if (result === false || result === null || typeof result !== "object") {
        return refuse("Refused by the handler");
      }
      if (result.accept === false) return refuse(result.reason ?? "Refused by the handler");
      return {
        status: "200",
        text: "OK",
        userId: result.userId ?? fallback,
        metadata: result.metadata ?? {},
      };
    }
    switch (request.mechanism) {
      case "NULL":
        // pyzmq lets NULL clients through unless their address was refused.
        return { status: "200", text: "OK", userId: "", metadata: {} };
      case "PLAIN": {
        const table = this.#passwords.get(request.domain || "*") ?? this.#passwords.get("*");
        if (table === undefined) return refuse("No passwords defined for the domain");
        const user = request.username ?? "";
        if (!table.has(user) || table.get(user) !== request.password) {
          return refuse("Invalid username or password");
        }
        return { status: "200", text: "OK", userId: user, metadata: {} };
      }
      case "CURVE": {
        const keys = this.#keys.get(request.domain || "*") ?? this.#keys.get("*");
        if (keys === undefined) return refuse("No keys defined for the domain");
        const key = request.publicKey;
        if (key === undefined) return refuse("Malformed CURVE credentials");
        if (keys !== "any" && !keys.has(key)) return refuse("Unknown key");
        return { status: "200", text: "OK", userId: key, metadata: {} };
      }
      default:
        return refuse(`Unsupported mechanism ${request.mechanism}`);
    }
  }
}
