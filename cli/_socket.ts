/**
 * Opens the socket a command line asks for: its type, its options (times in
 * seconds on the command line, milliseconds in the library), security, and
 * its endpoints. Also runs the ZAP handler that PLAIN and CURVE servers need
 * when users or keys are given.
 *
 * @module
 */

import {
  Authenticator,
  ChannelSocket,
  ClientSocket,
  curveKeyPair,
  DealerSocket,
  DishSocket,
  GatherSocket,
  PairSocket,
  PeerSocket,
  PubSocket,
  PullSocket,
  PushSocket,
  RadioSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  ScatterSocket,
  ServerSocket,
  type Socket,
  type SocketOptions,
  SubSocket,
  XPubSocket,
  XSubSocket,
} from "../mod.ts";
import { parseId } from "./_format.ts";
import { UsageError } from "./_usage.ts";

/** The socket types, as command names. */
export const SOCKET_TYPES = [
  "req",
  "rep",
  "dealer",
  "router",
  "pub",
  "sub",
  "xpub",
  "xsub",
  "push",
  "pull",
  "pair",
  "client",
  "server",
  "radio",
  "dish",
  "scatter",
  "gather",
  "peer",
  "channel",
] as const;

/** A socket type as a command name. */
export type SocketKind = typeof SOCKET_TYPES[number];

/** The socket flags of the command line, as commander hands them over. */
export interface SocketFlags {
  /** Endpoints to bind. */
  bind?: string[];
  /** Endpoints to connect. */
  connect?: string[];
  /** ZMQ_ROUTING_ID, `0x`-hex for bytes. */
  identity?: string;
  /** ZMQ_LINGER in seconds; default 5. */
  linger?: number;
  /** Both high-water marks. */
  hwm?: number;
  /** ZMQ_SNDHWM. */
  sndhwm?: number;
  /** ZMQ_RCVHWM. */
  rcvhwm?: number;
  /** ZMQ_RECONNECT_IVL (and _MAX): `SECS` or `MIN..MAX`. */
  reconnectIvl?: string;
  /** ZMQ_CONNECT_TIMEOUT in seconds. */
  connectTimeout?: number;
  /** ZMQ_HANDSHAKE_IVL in seconds. */
  handshakeIvl?: number;
  /** ZMQ_HEARTBEAT_IVL in seconds. */
  heartbeatIvl?: number;
  /** ZMQ_HEARTBEAT_TIMEOUT in seconds. */
  heartbeatTimeout?: number;
  /** ZMQ_HEARTBEAT_TTL in seconds. */
  heartbeatTtl?: number;
  /** ZMQ_MAXMSGSIZE in bytes. */
  maxmsgsize?: number;
  /** ZMQ_IMMEDIATE. */
  immediate?: boolean;
  /** ZMQ_CONFLATE. */
  conflate?: boolean;
  /** ZMQ_SNDTIMEO and ZMQ_RCVTIMEO in seconds. */
  timeout?: number;
  /** ZMQ_CURVE_SERVER. */
  curveServer?: boolean;
  /** ZMQ_CURVE_PUBLICKEY (Z85). */
  curvePublickey?: string;
  /** ZMQ_CURVE_SECRETKEY (Z85); made up when absent. */
  curveSecretkey?: string;
  /** ZMQ_CURVE_SERVERKEY (Z85): be a CURVE client. */
  curveServerkey?: string;
  /** Client keys a CURVE server accepts (`any` for all), judged by a ZAP handler. */
  curveAllow?: string[];
  /** ZMQ_PLAIN_SERVER. */
  plainServer?: boolean;
  /** ZMQ_PLAIN_USERNAME. */
  plainUsername?: string;
  /** ZMQ_PLAIN_PASSWORD. */
  plainPassword?: string;
  /** `USER:PASSWORD` logins a PLAIN server accepts, judged by a ZAP handler. */
  plainUser?: string[];
  /** ZMQ_ZAP_DOMAIN. */
  zapDomain?: string;
}

/** What {@linkcode openSocket} opened: close it with `close()`. */
export interface OpenSocket extends AsyncDisposable {
  /** The socket. */
  socket: Socket;
  /** The endpoints bound, resolved (port 0 replaced). */
  bound: string[];
  /** PEER: the routing ids of the connections made, in the order of the endpoints. */
  peers: number[];
  /** Closes the socket and the ZAP handler, if any. */
  close(): Promise<void>;
}

const ms = (seconds: number | undefined): number | undefined =>
  seconds === undefined ? undefined : Math.round(seconds * 1000);

/**
 * Parses `--reconnect-ivl`: `SECS` or `MIN..MAX` seconds.
 *
 * @param text The flag's value.
 * @returns The interval and the maximum interval, in milliseconds.
 * @throws {UsageError} If it is neither form.
 *
 * @example
 * ```ts
 * import { reconnectIntervals } from "./_socket.ts";
 * console.assert(reconnectIntervals("0.1..2").join() === "100,2000");
 * ```
 */
export function reconnectIntervals(text: string): [number, number | undefined] {
  const m = /^(\d+(?:\.\d+)?|-1)(?:\.\.(\d+(?:\.\d+)?))?$/.exec(text);
  if (m === null) throw new UsageError(`--reconnect-ivl wants SECS or MIN..MAX, not "${text}"`);
  return [
    m[1] === "-1" ? -1 : ms(Number(m[1]))!,
    ms(m[2] === undefined ? undefined : Number(m[2])),
  ];
}

/**
 * Turns command-line flags into socket options; for a CURVE server without a
 * secret key a fresh key pair is made (its public key is in the result).
 *
 * @param flags The parsed flags.
 * @returns The options, and the CURVE server's public key when one was made.
 * @throws {UsageError} For contradictory security flags.
 *
 * @example
 * ```ts
 * import { socketOptions } from "./_socket.ts";
 * const { options } = socketOptions({ timeout: 1.5, heartbeatIvl: 1 });
 * console.assert(options.receiveTimeout === 1500 && options.heartbeatInterval === 1000);
 * ```
 */
export function socketOptions(
  flags: SocketFlags,
): { options: SocketOptions; generatedServerKey?: string } {
  const [reconnectInterval, reconnectMaxInterval] = flags.reconnectIvl === undefined
    ? [undefined, undefined]
    : reconnectIntervals(flags.reconnectIvl);
  const options: SocketOptions = {
    routingId: flags.identity === undefined ? undefined : parseId(flags.identity),
    linger: flags.linger === undefined ? 5000 : ms(flags.linger),
    sendHighWaterMark: flags.sndhwm ?? flags.hwm,
    receiveHighWaterMark: flags.rcvhwm ?? flags.hwm,
    sendTimeout: ms(flags.timeout),
    receiveTimeout: ms(flags.timeout),
    reconnectInterval,
    reconnectMaxInterval,
    connectTimeout: ms(flags.connectTimeout),
    handshakeInterval: ms(flags.handshakeIvl),
    heartbeatInterval: ms(flags.heartbeatIvl),
    heartbeatTimeout: ms(flags.heartbeatTimeout),
    heartbeatTimeToLive: ms(flags.heartbeatTtl),
    maxMessageSize: flags.maxmsgsize,
    immediate: flags.immediate,
    conflate: flags.conflate,
    zapDomain: flags.zapDomain,
  };
  const curve = flags.curveServer || flags.curveServerkey !== undefined;
  const plain = flags.plainServer || flags.plainUsername !== undefined;
  if (curve && plain) throw new UsageError("Choose CURVE or PLAIN, not both");
  if (flags.curveServer && flags.curveServerkey !== undefined) {
    throw new UsageError("--curve-server and --curve-serverkey exclude each other");
  }
  if (flags.plainServer && flags.plainUsername !== undefined) {
    throw new UsageError("--plain-server and --plain-username exclude each other");
  }
  let generatedServerKey: string | undefined;
  if (curve) {
    let secretKey = flags.curveSecretkey;
    if (secretKey === undefined) {
      // A client may use a throwaway key pair; a server's public key must be told to clients.
      const pair = curveKeyPair();
      secretKey = pair.secretKey;
      if (flags.curveServer) generatedServerKey = pair.publicKey;
    }
    Object.assign(options, {
      curveServer: flags.curveServer,
      curveSecretKey: secretKey,
      curvePublicKey: flags.curvePublickey,
      curveServerKey: flags.curveServerkey,
    });
  } else if (flags.curveSecretkey !== undefined || flags.curvePublickey !== undefined) {
    throw new UsageError("CURVE keys need --curve-server or --curve-serverkey");
  }
  if (plain) {
    Object.assign(options, {
      plainServer: flags.plainServer,
      plainUsername: flags.plainUsername,
      plainPassword: flags.plainPassword,
    });
  }
  return { options, generatedServerKey };
}

/**
 * Creates a socket of the given type.
 *
 * @param kind The type, as a command name.
 * @param options The socket options.
 * @returns The socket.
 *
 * @example
 * ```ts
 * import { createSocket } from "./_socket.ts";
 * await using s = createSocket("dealer", { linger: 0 });
 * console.assert(s.type === "DEALER");
 * ```
 */
export function createSocket(kind: SocketKind, options: SocketOptions): Socket {
  switch (kind) {
    case "req":
      return new ReqSocket(options);
    case "rep":
      return new RepSocket(options);
    case "dealer":
      return new DealerSocket(options);
    case "router":
      return new RouterSocket(options);
    case "pub":
      return new PubSocket(options);
    case "sub":
      return new SubSocket(options);
    case "xpub":
      return new XPubSocket(options);
    case "xsub":
      return new XSubSocket(options);
    case "push":
      return new PushSocket(options);
    case "pull":
      return new PullSocket(options);
    case "pair":
      return new PairSocket(options);
    case "client":
      return new ClientSocket(options);
    case "server":
      return new ServerSocket(options);
    case "radio":
      return new RadioSocket(options);
    case "dish":
      return new DishSocket(options);
    case "scatter":
      return new ScatterSocket(options);
    case "gather":
      return new GatherSocket(options);
    case "peer":
      return new PeerSocket(options);
    case "channel":
      return new ChannelSocket(options);
  }
}

/**
 * Opens a socket as the flags say: options, the ZAP handler for `--plain-user`
 * / `--curve-allow`, binds (resolved endpoints returned), then connects.
 *
 * @param kind The socket type.
 * @param flags The parsed flags.
 * @param log Where to tell the user things (a generated CURVE server key).
 * @param created Called with the socket before it binds or connects (to watch its events).
 * @returns The open socket.
 * @throws {UsageError} Without any endpoint.
 *
 * @example
 * ```ts
 * import { openSocket } from "./_socket.ts";
 * await using open = await openSocket("pull", { bind: ["tcp://127.0.0.1:0"] }, () => {});
 * console.assert(open.bound[0].startsWith("tcp://127.0.0.1:"));
 * ```
 */
export async function openSocket(
  kind: SocketKind,
  flags: SocketFlags,
  log: (line: string) => void,
  created?: (socket: Socket) => void,
): Promise<OpenSocket> {
  const binds = flags.bind ?? [];
  const connects = flags.connect ?? [];
  if (binds.length + connects.length === 0) {
    throw new UsageError("Give at least one --bind or --connect endpoint");
  }
  const { options, generatedServerKey } = socketOptions(flags);
  let auth: Authenticator | undefined;
  if (flags.plainUser !== undefined || flags.curveAllow !== undefined) {
    auth = new Authenticator();
    if (flags.plainUser !== undefined) auth.configurePlain(plainUsers(flags.plainUser));
    if (flags.curveAllow !== undefined) {
      auth.configureCurve(flags.curveAllow.includes("any") ? "any" : flags.curveAllow);
    }
    await auth.start();
  }
  const socket = createSocket(kind, options);
  const close = async () => {
    await socket.close();
    await auth?.close();
  };
  const bound: string[] = [];
  const peers: number[] = [];
  try {
    created?.(socket);
    if (generatedServerKey !== undefined) log(`CURVE server public key: ${generatedServerKey}`);
    for (const endpoint of binds) {
      await socket.bind(endpoint);
      bound.push(socket.lastEndpoint ?? endpoint);
    }
    for (const endpoint of connects) {
      if (socket instanceof PeerSocket) peers.push(socket.connectPeer(endpoint));
      else socket.connect(endpoint);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { socket, bound, peers, close, [Symbol.asyncDispose]: close };
}

function plainUsers(list: string[]): Record<string, string> {
  const users: Record<string, string> = {};
  for (const entry of list.flatMap((e) => e.split(","))) {
    const at = entry.indexOf(":");
    if (at <= 0) throw new UsageError(`--plain-user wants USER:PASSWORD, not "${entry}"`);
    users[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return users;
}
