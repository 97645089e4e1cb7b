/**
 * The ZWS 2.0 transports (`ws://host:port/path` and `wss://...`,
 * rfc.zeromq.org spec 45): ZMTP frames as binary WebSocket messages, one per
 * frame, with the security mechanism negotiated by the WebSocket
 * subprotocol instead of a greeting.
 *
 * The client is the WHATWG `WebSocket` (Deno's, a browser's, Bun's, Node
 * ≥ 22's), or under Node 20, which has none, `npm:ws`'s. That API only
 * takes subprotocol names that are HTTP tokens, and `ZWS2.0/NULL` is not one
 * (`/` is a separator): so the client offers bare `ZWS2.0`, which libzmq
 * serves with its handshake of routing ids instead of a mechanism
 * (ws_engine.cpp `select_protocol`), and it can only run NULL. The server is
 * `Deno.serve` with `Deno.upgradeWebSocket` on Deno, and `npm:ws`'s
 * `WebSocketServer` over `node:http`/`node:https` on Node and Bun; it accepts `ZWS2.0/NULL`,
 * `ZWS2.0/PLAIN` and `ZWS2.0/CURVE` (what libzmq clients offer) for the
 * socket's mechanism, and bare `ZWS2.0` for NULL (what browsers can offer).
 *
 * Limits: the connect attempt (TCP, TLS and HTTP upgrade) has a deadline;
 * a server can check the `Origin` of each upgrade request; frames over the
 * socket's `maxMessageSize` end the connection (checked by the session); and
 * unread input is bounded (see `_ws_connection.ts`).
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { checkConnectable, invalid, parseHostPort } from "./_address.ts";
import { NODE_NET } from "./_runtime.ts";
import { MAX_QUEUED_BYTES, mechanismOf, WsConnection } from "./_ws_connection.ts";
import { wsModule } from "./_ws_node.ts";
import { listenNodeWs } from "./_ws_node_server.ts";
import { WsServer } from "./_ws_server.ts";
import type {
  Connection,
  EndpointBase,
  EndpointUse,
  Listener,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
} from "./types.ts";

/**
 * A parsed `ws://host:port/path` or `wss://host:port/path` endpoint.
 *
 * @example
 * ```ts
 * import type { WsEndpoint } from "@monocoque/zmtp";
 *
 * const endpoint: WsEndpoint = { transport: "ws", host: "127.0.0.1", port: 8080, path: "/zmq" };
 * console.assert(endpoint.path === "/zmq");
 * ```
 */
export interface WsEndpoint extends EndpointBase {
  /** The scheme: `"ws"`, or `"wss"` for WebSocket over TLS. */
  readonly transport: "ws" | "wss";
  /** Host name or address; `"*"` binds every IPv4 interface. IPv6 without brackets. */
  readonly host: string;
  /** Port number; 0 means any free port (bind only). */
  readonly port: number;
  /** The HTTP resource, `"/"` when none is given. */
  readonly path: string;
}

/**
 * Options of a {@linkcode WsTransport}.
 *
 * @example
 * ```ts
 * import type { WsTransportOptions } from "@monocoque/zmtp";
 *
 * const options: WsTransportOptions = {
 *   handshakeTimeout: 10_000,
 *   checkOrigin: (origin) => origin === "https://app.example",
 * };
 * console.assert(options.checkOrigin!("https://app.example"));
 * ```
 */
export interface WsTransportOptions {
  /**
   * Milliseconds a client's connect attempt (TCP, TLS, HTTP upgrade) may
   * take before it fails with `ETIMEDOUT`; on Node and Bun also how long a
   * server lets an accepted connection take to be upgraded before it is
   * dropped (`Deno.serve` has no such hook: there it bounds clients only).
   * Default 30000 (libzmq's `ZMQ_HANDSHAKE_IVL` default); 0: no limit.
   */
  handshakeTimeout?: number;
  /**
   * Servers: decides from the request's `Origin` header (`null` when absent,
   * as from non-browser clients) whether to accept a connection; refused
   * requests get HTTP 403, and so do those it throws on. Default: every
   * origin.
   */
  checkOrigin?: (origin: string | null) => boolean;
  /** `wss` servers: the certificate chain, PEM. */
  cert?: string;
  /** `wss` servers: the private key, PEM. */
  key?: string;
}

/**
 * A listening ws or wss server, as {@linkcode WsTransport.listen} returns it.
 *
 * @example
 * ```ts
 * import { WsTransport } from "@monocoque/zmtp";
 *
 * const listener = await new WsTransport().listen({
 *   transport: "ws",
 *   host: "127.0.0.1",
 *   port: 0,
 *   path: "/",
 * });
 * listener.close();
 * await listener.closed;
 * ```
 */
export interface WsListener extends Listener, Disposable {
  /** Settles once the server stopped, after `close()`. */
  readonly closed: Promise<void>;
}

/**
 * Parses the address of a `ws://` or `wss://` endpoint: `host:port` then an
 * optional path (libzmq's ws_address.cpp grammar).
 *
 * @param scheme `"ws"` or `"wss"`.
 * @returns A function for the transport registry's `parse`.
 *
 * @example
 * ```ts
 * import { wsAddressParser } from "./ws.ts";
 *
 * const e = wsAddressParser("ws")("[::1]:80/a", "connect", "ws://[::1]:80/a");
 * console.assert(e.host === "::1" && e.port === 80 && e.path === "/a");
 * ```
 */
export function wsAddressParser(
  scheme: "ws" | "wss",
): (address: string, use: EndpointUse, endpoint: string) => WsEndpoint {
  return (address, use, endpoint) => {
    const slash = address.indexOf("/");
    const authority = slash < 0 ? address : address.slice(0, slash);
    const path = slash < 0 ? "/" : address.slice(slash);
    if (/[\s#?]/.test(path)) throw invalid(endpoint, "malformed path");
    const { host, port } = parseHostPort(authority, endpoint);
    checkConnectable(host, port, use, endpoint);
    return { transport: scheme, host, port, path };
  };
}

/**
 * Writes a ws or wss endpoint back as a string, IPv6 hosts in brackets.
 *
 * @param endpoint The endpoint.
 * @returns E.g. `"ws://127.0.0.1:8080/"`.
 *
 * @example
 * ```ts
 * import { formatWs } from "./ws.ts";
 *
 * console.assert(formatWs({ transport: "wss", host: "::1", port: 1, path: "/" }) === "wss://[::1]:1/");
 * ```
 */
export function formatWs(endpoint: WsEndpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.transport}://${host}:${endpoint.port}${endpoint.path}`;
}

/**
 * Whether this runtime has a WHATWG WebSocket client (every browser, Deno,
 * Node ≥ 22, Bun); Node 20 has none and uses `npm:ws`.
 *
 * @returns True when the WHATWG `WebSocket` global exists.
 *
 * @example
 * ```ts
 * import { hasWebSocket } from "./ws.ts";
 *
 * console.assert(hasWebSocket());
 * ```
 */
export function hasWebSocket(): boolean {
  return typeof globalThis.WebSocket === "function";
}

/**
 * The `ws://` (and, with `secure`, `wss://`) transport.
 *
 * @example A NULL connection between two Monocoque peers
 * ```ts
 * import { WsTransport } from "@monocoque/zmtp";
 *
 * const ws = new WsTransport();
 * const listener = await ws.listen({ transport: "ws", host: "127.0.0.1", port: 0, path: "/" });
 * const port = Number(new URL(listener.endpoint).port);
 * const [client, server] = await Promise.all([
 *   ws.connect({ transport: "ws", host: "127.0.0.1", port, path: "/" }),
 *   listener.accept(),
 * ]);
 * console.assert(client.framing === "message" && client.mechanism === "");
 * await client.write([new Uint8Array([0, 1, 2])]);
 * console.assert((await server!.readMessage!())!.length === 3);
 * client.close();
 * server!.close();
 * listener.close();
 * await listener.closed;
 * ```
 */
export class WsTransport implements Transport<WsEndpoint> {
  #options: WsTransportOptions;

  /**
   * Creates a ws/wss transport; one serves both schemes.
   *
   * @param options Limits, origin check, and a `wss` server's certificate.
   * @throws {RangeError} On a negative or non-finite `handshakeTimeout`.
   *
   * @example A wss server with its certificate
   * ```ts ignore
   * import { WsTransport } from "@monocoque/zmtp";
   *
   * const wss = new WsTransport({
   *   cert: Deno.readTextFileSync("cert.pem"),
   *   key: Deno.readTextFileSync("key.pem"),
   *   checkOrigin: (origin) => origin === "https://app.example",
   * });
   * ```
   */
  constructor(options: WsTransportOptions = {}) {
    const timeout = options.handshakeTimeout;
    if (timeout !== undefined && !(timeout >= 0 && Number.isFinite(timeout))) {
      throw new RangeError(`Option handshakeTimeout must be a finite number >= 0, got ${timeout}`);
    }
    this.#options = options;
  }

  /**
   * Starts a WebSocket server for the endpoint: `Deno.serve` on Deno,
   * `npm:ws` over `node:http` (`node:https` for wss) on Node and Bun.
   *
   * @param endpoint A ws or wss endpoint; host `*` binds every IPv4 interface.
   * @param options `mechanism`: the socket's, which picks the subprotocol.
   * @returns The listener; its `closed` promise settles once the server stopped.
   * @throws {ZmqError} `EPROTONOSUPPORT` without `Deno.serve` or `node:http`
   * and `npm:ws`, `EINVAL` for wss without a certificate, `EADDRINUSE`,
   * `EADDRNOTAVAIL`, `EACCES`.
   */
  listen(endpoint: WsEndpoint, options?: TransportListenOptions): Promise<WsListener> {
    const mechanism = options?.mechanism ?? "NULL";
    const merged = {
      ...this.#options,
      ...(options?.tls ?? {}),
      ...(options?.checkOrigin === undefined ? {} : { checkOrigin: options.checkOrigin }),
    };
    const deno = (globalThis as { Deno?: { serve?: unknown } }).Deno;
    if (typeof deno?.serve !== "function" && NODE_NET) {
      return listenNodeWs(endpoint, formatWs, mechanism, merged);
    }
    try {
      return Promise.resolve(new WsServer(endpoint, formatWs, mechanism, merged));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Throws what makes every connect fail: no `WebSocket` client on this
   * runtime (Node and Bun always have one: their own, or `npm:ws`), or a mechanism other than NULL (a WHATWG client cannot offer
   * `ZWS2.0/PLAIN` or `ZWS2.0/CURVE`).
   *
   * @param _endpoint The endpoint (any ws or wss endpoint).
   * @param options `mechanism`: the socket's security mechanism.
   * @throws {ZmqError} `EPROTONOSUPPORT`.
   */
  checkConnect(_endpoint: WsEndpoint, options?: TransportConnectOptions): void {
    if (!hasWebSocket() && !NODE_NET) {
      throw new ZmqError("EPROTONOSUPPORT", "This runtime has no WebSocket client");
    }
    const mechanism = options?.mechanism ?? "NULL";
    if (mechanism !== "NULL") {
      throw new ZmqError(
        "EPROTONOSUPPORT",
        `A WebSocket client cannot offer ZWS2.0/${mechanism}: '/' is not allowed in a subprotocol name`,
      );
    }
  }

  /**
   * Connects with the WHATWG `WebSocket` (`npm:ws`'s under Node 20),
   * offering the bare `ZWS2.0` subprotocol.
   *
   * @param endpoint A ws or wss endpoint with a concrete host and port.
   * @param options `signal` aborts the attempt; `mechanism` must be NULL.
   * @returns The open connection.
   * @throws {ZmqError} `ECONNREFUSED` when the upgrade fails, `ETIMEDOUT`
   * past the handshake deadline, `EPROTONOSUPPORT` for PLAIN or CURVE (a
   * WHATWG client cannot offer their subprotocols) or without `WebSocket`,
   * `EPROTO` when the server picked no ZWS subprotocol.
   */
  async connect(
    endpoint: WsEndpoint,
    options?: TransportConnectOptions,
  ): Promise<Connection & Disposable> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    this.checkConnect(endpoint, options);
    const url = formatWs(endpoint);
    let ws: WebSocket;
    if (hasWebSocket()) {
      ws = new WebSocket(url, ["ZWS2.0"]);
    } else {
      const { WebSocket: NodeWebSocket } = await wsModule();
      signal?.throwIfAborted();
      // A message past what WsConnection would hold unread ends the connection inside ws.
      ws = new NodeWebSocket(url, ["ZWS2.0"], {
        maxPayload: MAX_QUEUED_BYTES,
        perMessageDeflate: false,
      });
    }
    ws.binaryType = "arraybuffer";
    const deadline = this.#options.handshakeTimeout ?? 30000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    let conn: WsConnection;
    try {
      conn = await new Promise<WsConnection>((resolve, reject) => {
        // Wrapped in the open event itself: npm:ws hands out a message that came with the
        // upgrade response in the same turn, before a promise continuation could listen.
        ws.onopen = () =>
          resolve(
            new WsConnection(ws, mechanismOf(ws.protocol), `${endpoint.transport}://`, url),
          );
        ws.onerror = () => reject(new ZmqError("ECONNREFUSED", `Cannot connect to '${url}'`));
        ws.onclose = () => reject(new ZmqError("ECONNREFUSED", `Cannot connect to '${url}'`));
        if (deadline > 0) {
          timer = setTimeout(
            () => reject(new ZmqError("ETIMEDOUT", `WebSocket handshake with '${url}' timed out`)),
            deadline,
          );
        }
        onAbort = () => reject(signal!.reason);
        signal?.addEventListener("abort", onAbort);
      });
    } catch (err) {
      ws.onopen = ws.onclose = null;
      // npm:ws reports closing a connection still in its handshake as an 'error' event, which
      // would end the process with no listener.
      ws.onerror = () => {};
      ws.close();
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    }
    if (ws.protocol !== "ZWS2.0") {
      conn.close();
      throw new ZmqError("EPROTO", `The server at '${url}' chose no ZWS 2.0 subprotocol`);
    }
    return conn;
  }
}
