/**
 * The ZWS 2.0 transports (`ws://host:port/path` and `wss://...`,
 * rfc.zeromq.org spec 45): ZMTP frames as binary WebSocket messages, one per
 * frame, with the security mechanism negotiated by the WebSocket
 * subprotocol instead of a greeting.
 *
 * The client is the WHATWG `WebSocket` (Deno's, a browser's). That API only
 * takes subprotocol names that are HTTP tokens, and `ZWS2.0/NULL` is not one
 * (`/` is a separator): so the client offers bare `ZWS2.0`, which libzmq
 * serves with its handshake of routing ids instead of a mechanism
 * (ws_engine.cpp `select_protocol`), and it can only run NULL. The server is
 * `Deno.serve` with `Deno.upgradeWebSocket`; it accepts `ZWS2.0/NULL`,
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
import { invalid } from "./_address.ts";
import { WsConnection } from "./_ws_connection.ts";
import type {
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
   * take before it fails with `ETIMEDOUT`. Default 30000 (libzmq's
   * `ZMQ_HANDSHAKE_IVL` default); 0: no limit.
   */
  handshakeTimeout?: number;
  /**
   * Servers: decides from the request's `Origin` header (`null` when absent,
   * as from non-browser clients) whether to accept a connection; refused
   * requests get HTTP 403. Default: every origin.
   */
  checkOrigin?: (origin: string | null) => boolean;
  /** `wss` servers: the certificate chain, PEM. */
  cert?: string;
  /** `wss` servers: the private key, PEM. */
  key?: string;
}

const HOST_NAME = /^(\*|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?)$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;
/** Connections accepted by the server but not yet taken by `accept()`. */
const MAX_PENDING = 1024;

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
    const colon = authority.lastIndexOf(":");
    if (colon < 0) throw invalid(endpoint, "missing port");
    let host = authority.slice(0, colon);
    const portText = authority.slice(colon + 1);
    if (host.startsWith("[")) {
      if (!host.endsWith("]")) throw invalid(endpoint, "unterminated IPv6 address");
      host = host.slice(1, -1);
      if (!IPV6.test(host)) throw invalid(endpoint, "malformed IPv6 address");
    } else if (!HOST_NAME.test(host)) {
      throw invalid(endpoint, host === "" ? "missing host" : "malformed host");
    }
    let port: number;
    if (portText === "*") {
      port = 0;
    } else if (/^[0-9]{1,5}$/.test(portText) && Number(portText) <= 65535) {
      port = Number(portText);
    } else {
      throw invalid(endpoint, portText === "" ? "missing port" : "port must be 0..65535 or *");
    }
    if (use === "connect" && (host === "*" || port === 0)) {
      throw new ZmqError("EINVAL", `Cannot connect to a wildcard endpoint: ${endpoint}`);
    }
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
 * Whether this runtime has a WebSocket client (every browser, Deno, Node 22,
 * Bun).
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

/** The subprotocol a server picks among the client's for its mechanism, or undefined. */
function chooseSubprotocol(offered: string[], mechanism: string): string | undefined {
  const wanted = mechanism === "NULL" ? ["ZWS2.0/NULL", "ZWS2.0"] : [`ZWS2.0/${mechanism}`];
  return wanted.find((name) => offered.includes(name));
}

/** The mechanism a subprotocol stands for; `""` for bare ZWS2.0. */
function mechanismOf(protocol: string): string {
  return protocol === "ZWS2.0" ? "" : protocol.slice("ZWS2.0/".length);
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
 * await (listener as { closed?: Promise<void> }).closed;
 * ```
 */
export class WsTransport implements Transport<WsEndpoint> {
  #options: WsTransportOptions;

  /**
   * @param options Limits, origin check, and a `wss` server's certificate.
   * @throws {RangeError} On a negative or non-finite `handshakeTimeout`.
   */
  constructor(options: WsTransportOptions = {}) {
    const timeout = options.handshakeTimeout;
    if (timeout !== undefined && !(timeout >= 0 && Number.isFinite(timeout))) {
      throw new RangeError(`Option handshakeTimeout must be a finite number >= 0, got ${timeout}`);
    }
    this.#options = options;
  }

  /**
   * Starts a WebSocket server (`Deno.serve`) for the endpoint.
   *
   * @param endpoint A ws or wss endpoint; host `*` binds every IPv4 interface.
   * @param options `mechanism`: the socket's, which picks the subprotocol.
   * @returns The listener; its `closed` promise settles once the server stopped.
   * @throws {ZmqError} `EPROTONOSUPPORT` without `Deno.serve`, `EINVAL` for
   * wss without a certificate, `EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`.
   */
  listen(endpoint: WsEndpoint, options?: TransportListenOptions): Promise<WsListener> {
    try {
      return Promise.resolve(
        new WsListener(endpoint, options?.mechanism ?? "NULL", this.#options),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Connects with the WHATWG `WebSocket`, offering the bare `ZWS2.0`
   * subprotocol.
   *
   * @param endpoint A ws or wss endpoint with a concrete host and port.
   * @param options `signal` aborts the attempt; `mechanism` must be NULL.
   * @returns The open connection.
   * @throws {ZmqError} `ECONNREFUSED` when the upgrade fails, `ETIMEDOUT`
   * past the handshake deadline, `EPROTONOSUPPORT` for PLAIN or CURVE (a
   * WHATWG client cannot offer their subprotocols) or without `WebSocket`,
   * `EPROTO` when the server picked no ZWS subprotocol.
   */
  async connect(endpoint: WsEndpoint, options?: TransportConnectOptions): Promise<WsConnection> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    const mechanism = options?.mechanism ?? "NULL";
    if (!hasWebSocket()) {
      throw new ZmqError("EPROTONOSUPPORT", "This runtime has no WebSocket client");
    }
    if (mechanism !== "NULL") {
      throw new ZmqError(
        "EPROTONOSUPPORT",
        `A WebSocket client cannot offer ZWS2.0/${mechanism}: '/' is not allowed in a subprotocol name`,
      );
    }
    const url = formatWs(endpoint);
    const ws = new WebSocket(url, ["ZWS2.0"]);
    ws.binaryType = "arraybuffer";
    const deadline = this.#options.handshakeTimeout ?? 30000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
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
      ws.onopen = ws.onerror = ws.onclose = null;
      ws.close();
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    }
    if (ws.protocol !== "ZWS2.0") {
      ws.close();
      throw new ZmqError("EPROTO", `The server at '${url}' chose no ZWS 2.0 subprotocol`);
    }
    return new WsConnection(ws, mechanismOf(ws.protocol), `${endpoint.transport}://`, url);
  }
}

/** A `Deno.serve` server handing out upgraded ZWS connections. */
export class WsListener implements Listener, Disposable {
  /** The bound endpoint, port resolved, e.g. `"ws://127.0.0.1:40123/"`. */
  readonly endpoint: string;
  /** Settles once the server stopped, after `close()`. */
  readonly closed: Promise<void>;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #abort = new AbortController();
  #pending: WsConnection[] = [];
  #waiter: ((conn: WsConnection | null) => void) | undefined;
  #open = new Set<WebSocket>();
  #isClosed = false;

  constructor(endpoint: WsEndpoint, mechanism: string, options: WsTransportOptions) {
    const deno = (globalThis as { Deno?: typeof Deno }).Deno;
    if (typeof deno?.serve !== "function") {
      throw new ZmqError("EPROTONOSUPPORT", "This runtime has no WebSocket server");
    }
    const secure = endpoint.transport === "wss";
    if (secure && (options.cert === undefined || options.key === undefined)) {
      throw new ZmqError(
        "EINVAL",
        "A wss:// server needs a certificate: WsTransport({ cert, key })",
      );
    }
    const hostname = endpoint.host === "*" ? "0.0.0.0" : endpoint.host;
    const tls = secure ? { cert: options.cert!, key: options.key! } : {};
    try {
      this.#server = deno.serve({
        hostname,
        port: endpoint.port,
        signal: this.#abort.signal,
        onListen: () => {},
        onError: () => new Response(null, { status: 500 }),
        ...tls,
      }, (request, info) => this.#handle(request, info, mechanism, options));
    } catch (err) {
      const name = err instanceof Error ? err.name : "";
      const code = name === "AddrInUse"
        ? "EADDRINUSE"
        : name === "PermissionDenied"
        ? "EACCES"
        : "EADDRNOTAVAIL";
      throw new ZmqError(code, `Cannot bind to '${formatWs(endpoint)}': ${err}`, { cause: err });
    }
    const addr = this.#server.addr;
    this.endpoint = formatWs({ ...endpoint, host: addr.hostname, port: addr.port });
    this.closed = this.#server.finished;
  }

  #handle(
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    mechanism: string,
    options: WsTransportOptions,
  ): Response {
    if (this.#isClosed || this.#pending.length >= MAX_PENDING) {
      return new Response(null, { status: 503 });
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("ZWS 2.0 endpoint: WebSocket upgrade required\n", { status: 426 });
    }
    if (options.checkOrigin !== undefined && !options.checkOrigin(request.headers.get("origin"))) {
      return new Response(null, { status: 403 });
    }
    const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) =>
      p.trim()
    );
    const protocol = chooseSubprotocol(offered, mechanism);
    if (protocol === undefined) {
      return new Response(`No ZWS 2.0 subprotocol for mechanism ${mechanism}\n`, { status: 400 });
    }
    // Read before the upgrade: afterwards Deno reports the request closed.
    const remote = formatWs({
      transport: this.endpoint.startsWith("wss") ? "wss" : "ws",
      host: info.remoteAddr.hostname,
      port: info.remoteAddr.port,
      path: new URL(request.url).pathname,
    });
    let upgraded: { socket: WebSocket; response: Response };
    try {
      upgraded = Deno.upgradeWebSocket(request);
    } catch {
      return new Response(null, { status: 400 });
    }
    const { socket, response } = upgraded;
    // Deno splits the offered list at ", " only and refuses a protocol it did not find there, so
    // libzmq's "ZWS2.0/NULL,ZWS2.0" would be refused: we answer the header ourselves.
    response.headers.set("sec-websocket-protocol", protocol);
    this.#open.add(socket);
    socket.addEventListener("close", () => this.#open.delete(socket));
    socket.onopen = () => {
      if (this.#isClosed) {
        socket.close();
        return;
      }
      const conn = new WsConnection(socket, mechanismOf(protocol), this.endpoint, remote);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter !== undefined) waiter(conn);
      else this.#pending.push(conn);
    };
    return response;
  }

  accept(): Promise<WsConnection | null> {
    if (this.#pending.length > 0) return Promise.resolve(this.#pending.shift()!);
    if (this.#isClosed) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#abort.abort();
    for (const conn of this.#pending) conn.close();
    this.#pending = [];
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(null);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
