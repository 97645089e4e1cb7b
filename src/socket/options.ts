/**
 * Socket options: one object given at construction, camelCase names, each
 * documented with its libzmq name and default.
 *
 * @module
 */

import type { SocketType } from "../protocol/socket_type.ts";
import type { Transport } from "../transport/types.ts";
import { publicKeyOf } from "../protocol/_curve_crypto.ts";
import { toCurveKey } from "../protocol/curve_keys.ts";
import { isValidPropertyName } from "../protocol/_metadata.ts";

/** Options every socket type accepts. */
export interface SocketOptions {
  /**
   * ZMQ_ROUTING_ID: this socket's identity, sent to ROUTER peers (1..255
   * bytes, not starting with a zero byte). Default: none.
   */
  routingId?: string | Uint8Array;
  /** ZMQ_SNDHWM: messages queued per peer before sends block or drop. Default 1000; 0 means no limit. */
  sendHighWaterMark?: number;
  /** ZMQ_RCVHWM: messages queued per peer before reading from it pauses. Default 1000; 0 means no limit. */
  receiveHighWaterMark?: number;
  /**
   * Bytes of received messages queued per peer before reading from it
   * pauses, counting frame bodies; a Monocoque extension with no libzmq
   * equivalent, for applications that must bound memory whatever the
   * message sizes. Reading resumes once the application took enough; the
   * message that crosses the bound is still queued. Default 0 (no byte bound).
   */
  receiveHighWaterMarkBytes?: number;
  /** ZMQ_SNDTIMEO: ms a blocked send waits before `EAGAIN`. Default -1 (wait forever); 0 fails at once. */
  sendTimeout?: number;
  /** ZMQ_RCVTIMEO: ms a receive waits before `EAGAIN`. Default -1 (wait forever); 0 fails at once. */
  receiveTimeout?: number;
  /**
   * ZMQ_LINGER: ms `close()` waits for queued messages to reach connected
   * peers. Default -1 (until they are written); 0 discards them. Messages for
   * a peer that is not connected at close time are discarded.
   */
  linger?: number;
  /** ZMQ_RECONNECT_IVL: ms before redialling a lost or refused connection. Default 100; -1 disables reconnecting. */
  reconnectInterval?: number;
  /** ZMQ_RECONNECT_IVL_MAX: upper bound for the doubling reconnect interval. Default 0 (no doubling). */
  reconnectMaxInterval?: number;
  /** ZMQ_CONNECT_TIMEOUT: ms a TCP connect may take. Default 0 (the OS decides). */
  connectTimeout?: number;
  /** ZMQ_HANDSHAKE_IVL: ms a new connection has to complete the ZMTP handshake. Default 30000; 0 disables. */
  handshakeInterval?: number;
  /** ZMQ_HEARTBEAT_IVL: ms between ZMTP PINGs. Default 0 (off). */
  heartbeatInterval?: number;
  /** ZMQ_HEARTBEAT_TIMEOUT: ms without traffic after a PING before the peer is dropped. Default: `heartbeatInterval`. */
  heartbeatTimeout?: number;
  /** ZMQ_HEARTBEAT_TTL: ms the peer should wait for our traffic before dropping us, sent in PINGs. Default 0. */
  heartbeatTimeToLive?: number;
  /** ZMQ_MAXMSGSIZE: largest frame in bytes accepted from a peer; a larger one drops that peer. Default -1 (no limit). */
  maxMessageSize?: number;
  /** ZMQ_IMMEDIATE: queue messages only to completed connections. Default false. */
  immediate?: boolean;
  /** ZMQ_CONFLATE: keep only the newest message in each queue (single-part messages only). Default false. */
  conflate?: boolean;
  /**
   * ZMQ_METADATA: custom properties sent to every peer in the handshake,
   * which it reads as message metadata (libzmq's `zmq_msg_gets`, our
   * `message.peer.get(name)`). Names start with `X-`, as libzmq requires
   * (src/options.cpp); strings are sent as UTF-8. Default: none.
   */
  metadata?: Record<string, string | Uint8Array>;
  /**
   * Give every received message the metadata of the peer that sent it, as
   * `message.peer` (a `PeerMetadata`: `Socket-Type`, `User-Id`,
   * `Peer-Address`, custom properties), whether it is read by `receive()`,
   * `for await`, `messages()` or a stream. libzmq attaches it to every
   * message (`zmq_msg_gets`); here it is asked for, so the messages of
   * sockets without it stay plain arrays, compared and logged as such, at
   * no cost. The metadata is the connection's when the message is taken: a
   * connected peer's queue outlives a reconnect, so a message still queued
   * from before one carries the new connection's metadata (libzmq labels
   * each message as it is decoded). Default false.
   */
  peerMetadata?: boolean;
  /**
   * A transport to use for `tcp://` and `ipc://` endpoints instead of Deno's
   * built-in sockets, e.g. the io_uring transport from `@monocoque/zmtp/native`.
   */
  transport?: Transport;
  /**
   * ZMQ_WSS_CERT_PEM: the certificate chain (PEM) a `wss://` bind serves,
   * and a `quic://` bind too; needs {@linkcode SocketOptions.wssKeyPem}.
   * Clients trust a private CA through Deno's `--cert` flag or `DENO_CERT`.
   */
  wssCertPem?: string;
  /** ZMQ_WSS_KEY_PEM: the private key (PEM) of {@linkcode SocketOptions.wssCertPem}. */
  wssKeyPem?: string;
  /**
   * `ws://`/`wss://` binds: decides from a request's `Origin` header (`null`
   * when absent, as from non-browser clients) whether to accept it; refused
   * requests get HTTP 403. Default: every origin (libzmq has no such check).
   */
  wsCheckOrigin?: (origin: string | null) => boolean;
  /**
   * ZMQ_PLAIN_SERVER: accept PLAIN clients (rfc.zeromq.org spec 24), each
   * judged by the ZAP handler bound at `inproc://zeromq.zap.01` (see
   * `Authenticator`). Without a handler every PLAIN client is refused, as in
   * libzmq. Default false.
   */
  plainServer?: boolean;
  /** ZMQ_PLAIN_USERNAME: log in to a PLAIN server with this name (0-255 octets; strings as UTF-8). Default: none. */
  plainUsername?: string | Uint8Array;
  /** ZMQ_PLAIN_PASSWORD: the PLAIN password sent with `plainUsername` (0-255 octets). Default empty. */
  plainPassword?: string | Uint8Array;
  /**
   * ZMQ_CURVE_SERVER: encrypt every connection with CURVE (specs 25/26) as
   * the server; needs `curveSecretKey`. Clients are judged by the ZAP handler
   * bound at `inproc://zeromq.zap.01`; without one every client that knows our
   * public key is accepted, as in libzmq. Default false.
   */
  curveServer?: boolean;
  /**
   * ZMQ_CURVE_PUBLICKEY: our long-term public key, 32 bytes or 40 Z85
   * characters. Default: derived from `curveSecretKey` (checked against it
   * when given).
   */
  curvePublicKey?: string | Uint8Array;
  /** ZMQ_CURVE_SECRETKEY: our long-term secret key, 32 bytes or 40 Z85 characters. Default: none. */
  curveSecretKey?: string | Uint8Array;
  /**
   * ZMQ_CURVE_SERVERKEY: the server's public key; setting it makes this
   * socket a CURVE client (it also needs `curveSecretKey`). Default: none.
   */
  curveServerKey?: string | Uint8Array;
  /**
   * ZMQ_ZAP_DOMAIN: the domain sent in ZAP requests, at most 255 characters.
   * With NULL, setting it makes the socket ask the ZAP handler (if one is
   * bound) about each peer, as libzmq does. Default empty.
   */
  zapDomain?: string;
}

/** Options for ROUTER sockets. */
export interface RouterSocketOptions extends SocketOptions {
  /** ZMQ_ROUTER_MANDATORY: fail with `EHOSTUNREACH` for an unknown routing id instead of dropping. Default false. */
  mandatory?: boolean;
  /** ZMQ_ROUTER_HANDOVER: a new peer with a routing id in use takes it over. Default false (the new peer is refused). */
  handover?: boolean;
}

/** Options for REQ sockets. */
export interface ReqSocketOptions extends SocketOptions {
  /** ZMQ_REQ_CORRELATE: prefix requests with an id and drop replies that do not match. Default false. */
  correlate?: boolean;
  /** ZMQ_REQ_RELAXED: allow a new request before the reply to the last one. Default false. */
  relaxed?: boolean;
}

/** Options for PUB sockets. */
export interface PubSocketOptions extends SocketOptions {
  /**
   * ZMQ_XPUB_NODROP: when a matching subscriber is at its high-water mark,
   * `send()` waits (up to `sendTimeout`, then `EAGAIN`) instead of dropping
   * the message for that subscriber. Default false.
   */
  noDrop?: boolean;
}

/** Options for XPUB sockets. */
export interface XPubSocketOptions extends PubSocketOptions {
  /** ZMQ_XPUB_VERBOSE: pass every subscription to the application, not only new ones. Default false. */
  verbose?: boolean;
  /** ZMQ_XPUB_MANUAL: the application decides subscriptions with `subscribe()`/`unsubscribe()`. Default false. */
  manual?: boolean;
  /** ZMQ_XPUB_WELCOME_MSG: a message sent to every new subscriber. Default none. */
  welcomeMessage?: string | Uint8Array;
}

/** Options for `waitForSubscribers()` on PUB and XPUB sockets. */
export interface WaitForSubscribersOptions {
  /** Stops waiting: the call rejects with `ZmqError` `ECANCELED` (`EAGAIN` for a timeout signal). */
  signal?: AbortSignal;
  /** ms to wait before rejecting with `ZmqError` `EAGAIN`. Default -1 (no limit). */
  timeout?: number;
}

/** Options for `connect()`. */
export interface ConnectOptions {
  /** ZMQ_CONNECT_ROUTING_ID: the routing id a ROUTER gives the peer of this connection. */
  routingId?: string | Uint8Array;
}

/** Options for one `send()` or `receive()` call, and for `messages()`. */
export interface OperationOptions {
  /**
   * Aborts the wait: the call rejects with a `ZmqError` whose `cause` is the
   * signal's reason, `EAGAIN` for a timeout (`AbortSignal.timeout()`) and
   * `ECANCELED` for any other abort.
   */
  signal?: AbortSignal;
}

/** Resolved options with defaults; internal. */
export interface ResolvedOptions {
  routingId: Uint8Array | undefined;
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
  receiveHighWaterMarkBytes: number;
  sendTimeout: number;
  receiveTimeout: number;
  linger: number;
  reconnectInterval: number;
  reconnectMaxInterval: number;
  connectTimeout: number;
  handshakeInterval: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  heartbeatTimeToLive: number;
  maxMessageSize: number;
  immediate: boolean;
  conflate: boolean;
  metadata: Record<string, string | Uint8Array> | undefined;
  peerMetadata: boolean;
  transport: Transport | undefined;
  /** What `ws://`/`wss://` binds pass to the transport. */
  ws: { tls?: { cert: string; key: string }; checkOrigin?: (origin: string | null) => boolean };
  security: SecurityOptions;
}

/** The resolved security mechanism and its keys; internal. */
export type SecurityOptions =
  | { mechanism: "NULL"; zapDomain: string }
  | { mechanism: "PLAIN"; server: true; zapDomain: string }
  | {
    mechanism: "PLAIN";
    server: false;
    username: Uint8Array;
    password: Uint8Array;
    zapDomain: string;
  }
  | {
    mechanism: "CURVE";
    server: true;
    publicKey: Uint8Array;
    secretKey: Uint8Array;
    zapDomain: string;
  }
  | {
    mechanism: "CURVE";
    server: false;
    serverKey: Uint8Array;
    publicKey: Uint8Array;
    secretKey: Uint8Array;
    zapDomain: string;
  };

const encoder = new TextEncoder();

/** Converts a routing id option to bytes, validating it as libzmq does; internal. */
export function routingIdBytes(
  value: string | Uint8Array | undefined,
  name: string,
): Uint8Array | undefined {
  if (value === undefined) return undefined;
  let bytes: Uint8Array;
  if (typeof value === "string") bytes = encoder.encode(value);
  else if (value instanceof Uint8Array) bytes = value;
  else throw new TypeError(`${name} must be a string or Uint8Array`);
  if (bytes.length < 1 || bytes.length > 255) {
    throw new RangeError(`${name} must be 1 to 255 bytes long, got ${bytes.length}`);
  }
  return bytes;
}

/**
 * The integer options a socket may change after construction, with their
 * smallest valid value; the setters and the constructor validate them the
 * same way ({@linkcode checkInteger}). libzmq's zmq_setsockopt lets these
 * change at any time; connection options (handshake, heartbeat, message
 * size) apply to connections made afterwards, as in libzmq. Internal.
 */
export const MUTABLE_INTEGERS = {
  sendHighWaterMark: 0,
  receiveHighWaterMark: 0,
  sendTimeout: -1,
  receiveTimeout: -1,
  linger: -1,
  reconnectInterval: -1,
  reconnectMaxInterval: 0,
  connectTimeout: 0,
  handshakeInterval: 0,
  heartbeatInterval: 0,
  heartbeatTimeout: 0,
  heartbeatTimeToLive: 0,
  maxMessageSize: -1,
} as const;

/** The name of an option {@linkcode MUTABLE_INTEGERS} lists; internal. */
export type MutableInteger = keyof typeof MUTABLE_INTEGERS;

/** Validates an integer option value (at construction and in setters); internal. */
export function checkInteger(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`Option ${name} must be an integer, got ${String(v)}`);
  }
  if (v < min) throw new RangeError(`Option ${name} must be at least ${min}, got ${v}`);
  return v;
}

function integer(
  options: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
): number {
  const v = options[name];
  return v === undefined ? fallback : checkInteger(name, v, min);
}

/** Option names every socket type accepts. */
const COMMON_OPTIONS: readonly string[] = [
  "routingId",
  "receiveHighWaterMarkBytes",
  "immediate",
  "conflate",
  "metadata",
  "peerMetadata",
  "transport",
  "wssCertPem",
  "wssKeyPem",
  "wsCheckOrigin",
  "plainServer",
  "plainUsername",
  "plainPassword",
  "curveServer",
  "curvePublicKey",
  "curveSecretKey",
  "curveServerKey",
  "zapDomain",
  ...Object.keys(MUTABLE_INTEGERS),
];

/** Option names only some socket types accept. */
const TYPE_OPTIONS: Partial<Record<SocketType, readonly string[]>> = {
  ROUTER: ["mandatory", "handover"],
  REQ: ["correlate", "relaxed"],
  PUB: ["noDrop"],
  XPUB: ["noDrop", "verbose", "manual", "welcomeMessage"],
};

/**
 * A misspelt option (`{ sndhwm: 10 }`) would otherwise be ignored without a
 * word: name every unknown one in a TypeError.
 */
function checkNames(o: Record<string, unknown>, type: SocketType | undefined): void {
  const extra = type === undefined ? [] : TYPE_OPTIONS[type] ?? [];
  const unknown = Object.keys(o).filter((k) => !COMMON_OPTIONS.includes(k) && !extra.includes(k));
  if (unknown.length === 0) return;
  const s = unknown.length > 1 ? "s" : "";
  throw new TypeError(
    `Unknown option${s} ${unknown.join(", ")}${type === undefined ? "" : ` for a ${type} socket`}`,
  );
}

function boolean(options: Record<string, unknown>, name: string): boolean {
  const v = options[name];
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new TypeError(`Option ${name} must be a boolean`);
  return v;
}

/**
 * Validates options and applies libzmq's defaults; internal. With `type`,
 * option names that type does not know are a TypeError.
 */
export function resolveOptions(
  options: SocketOptions | undefined,
  type?: SocketType,
): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Socket options must be an object");
  }
  const o = options as Record<string, unknown>;
  checkNames(o, type);
  const heartbeatInterval = integer(o, "heartbeatInterval", 0, 0);
  const transport = options.transport;
  if (
    transport !== undefined &&
    (typeof transport !== "object" || typeof transport.connect !== "function")
  ) {
    throw new TypeError("Option transport must implement the Transport interface");
  }
  const ws = resolveWs(options);
  return {
    routingId: routingIdBytes(options.routingId, "Option routingId"),
    sendHighWaterMark: integer(o, "sendHighWaterMark", 1000, 0),
    receiveHighWaterMark: integer(o, "receiveHighWaterMark", 1000, 0),
    receiveHighWaterMarkBytes: integer(o, "receiveHighWaterMarkBytes", 0, 0),
    sendTimeout: integer(o, "sendTimeout", -1, -1),
    receiveTimeout: integer(o, "receiveTimeout", -1, -1),
    linger: integer(o, "linger", -1, -1),
    reconnectInterval: integer(o, "reconnectInterval", 100, -1),
    reconnectMaxInterval: integer(o, "reconnectMaxInterval", 0, 0),
    connectTimeout: integer(o, "connectTimeout", 0, 0),
    handshakeInterval: integer(o, "handshakeInterval", 30000, 0),
    heartbeatInterval,
    heartbeatTimeout: integer(o, "heartbeatTimeout", heartbeatInterval, 0),
    heartbeatTimeToLive: integer(o, "heartbeatTimeToLive", 0, 0),
    maxMessageSize: integer(o, "maxMessageSize", -1, -1),
    immediate: boolean(o, "immediate"),
    conflate: boolean(o, "conflate"),
    metadata: metadataOption(o.metadata),
    peerMetadata: boolean(o, "peerMetadata"),
    transport,
    ws,
    security: resolveSecurity(o),
  };
}

/** The `metadata` option, checked as libzmq checks ZMQ_METADATA (src/options.cpp), copied. */
function metadataOption(v: unknown): Record<string, string | Uint8Array> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError("Option metadata must be an object of properties");
  }
  const out: Record<string, string | Uint8Array> = {};
  for (const [name, value] of Object.entries(v)) {
    if (!name.startsWith("X-") || !isValidPropertyName(name)) {
      throw new TypeError(
        `Option metadata: property names start with X- and are at most 255 characters of [A-Za-z0-9.+_-], got ${name}`,
      );
    }
    if (typeof value === "string") out[name] = value;
    else if (value instanceof Uint8Array) out[name] = value.slice();
    else {throw new TypeError(
        `Option metadata: the value of ${name} must be a string or Uint8Array`,
      );}
  }
  return out;
}

function credential(o: Record<string, unknown>, name: string): Uint8Array {
  const v = o[name];
  if (v === undefined) return new Uint8Array(0);
  let bytes: Uint8Array;
  if (typeof v === "string") bytes = encoder.encode(v);
  else if (v instanceof Uint8Array) bytes = v.slice();
  else throw new TypeError(`Option ${name} must be a string or a Uint8Array`);
  if (bytes.length > 255) {
    throw new RangeError(`Option ${name} must be at most 255 bytes long, got ${bytes.length}`);
  }
  return bytes;
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Our key pair: the secret key, and the public key derived from it and checked against the option. */
function keyPair(o: Record<string, unknown>, role: string): [Uint8Array, Uint8Array] {
  if (o.curveSecretKey === undefined) {
    throw new TypeError(`A CURVE ${role} needs option curveSecretKey`);
  }
  const secretKey = toCurveKey(o.curveSecretKey as string | Uint8Array, "curveSecretKey");
  const publicKey = publicKeyOf(secretKey);
  if (
    o.curvePublicKey !== undefined &&
    !sameKey(toCurveKey(o.curvePublicKey as string | Uint8Array, "curvePublicKey"), publicKey)
  ) {
    throw new RangeError("Option curvePublicKey is not the public key of curveSecretKey");
  }
  return [publicKey, secretKey];
}

/**
 * Picks the mechanism from the security options. libzmq lets the last option
 * set win; an options object has no order, so combinations that name two
 * roles or two mechanisms are errors instead.
 */
function resolveSecurity(o: Record<string, unknown>): SecurityOptions {
  const zapDomain = o.zapDomain ?? "";
  if (typeof zapDomain !== "string") throw new TypeError("Option zapDomain must be a string");
  if (zapDomain.length > 255) {
    throw new RangeError(
      `Option zapDomain must be at most 255 characters, got ${zapDomain.length}`,
    );
  }
  const plainServer = boolean(o, "plainServer");
  const curveServer = boolean(o, "curveServer");
  const plain = plainServer || o.plainUsername !== undefined || o.plainPassword !== undefined;
  const curve = curveServer || o.curveServerKey !== undefined || o.curvePublicKey !== undefined ||
    o.curveSecretKey !== undefined;
  if (plain && curve) throw new TypeError("PLAIN and CURVE options cannot be combined");
  if (plain) {
    if (plainServer) {
      if (o.plainUsername !== undefined || o.plainPassword !== undefined) {
        throw new TypeError(
          "Option plainServer cannot be combined with plainUsername or plainPassword",
        );
      }
      return { mechanism: "PLAIN", server: true, zapDomain };
    }
    if (o.plainUsername === undefined) {
      throw new TypeError("Option plainPassword needs plainUsername (or plainServer)");
    }
    return {
      mechanism: "PLAIN",
      server: false,
      username: credential(o, "plainUsername"),
      password: credential(o, "plainPassword"),
      zapDomain,
    };
  }
  if (curve) {
    if (curveServer) {
      if (o.curveServerKey !== undefined) {
        throw new TypeError("Option curveServer cannot be combined with curveServerKey");
      }
      const [publicKey, secretKey] = keyPair(o, "server");
      return { mechanism: "CURVE", server: true, publicKey, secretKey, zapDomain };
    }
    if (o.curveServerKey === undefined) {
      throw new TypeError("A CURVE client needs option curveServerKey (or set curveServer)");
    }
    const serverKey = toCurveKey(o.curveServerKey as string | Uint8Array, "curveServerKey");
    const [publicKey, secretKey] = keyPair(o, "client");
    return { mechanism: "CURVE", server: false, serverKey, publicKey, secretKey, zapDomain };
  }
  return { mechanism: "NULL", zapDomain };
}

/** The ws/wss bind options: a certificate needs its key, the origin check is a function. */
function resolveWs(options: SocketOptions): ResolvedOptions["ws"] {
  const { wssCertPem: cert, wssKeyPem: key, wsCheckOrigin: checkOrigin } = options;
  for (const [name, v] of [["wssCertPem", cert], ["wssKeyPem", key]] as const) {
    if (v !== undefined && typeof v !== "string") {
      throw new TypeError(`Option ${name} must be a PEM string`);
    }
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new TypeError("Options wssCertPem and wssKeyPem go together");
  }
  if (checkOrigin !== undefined && typeof checkOrigin !== "function") {
    throw new TypeError("Option wsCheckOrigin must be a function");
  }
  return {
    ...(cert === undefined ? {} : { tls: { cert, key: key! } }),
    ...(checkOrigin === undefined ? {} : { checkOrigin }),
  };
}
