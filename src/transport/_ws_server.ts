/**
 * The server half of the ws and wss transports: `Deno.serve` with
 * `Deno.upgradeWebSocket`, picking the ZWS 2.0 subprotocol of the socket's
 * mechanism among those the client offers (`ZWS2.0/NULL`, `ZWS2.0/PLAIN`,
 * `ZWS2.0/CURVE`, or bare `ZWS2.0` for NULL, as libzmq's ws_engine.cpp
 * `select_protocol` does), refusing other requests with an HTTP status
 * (both decided in `_ws_negotiate.ts`, shared with the Node server), and
 * handing out each upgraded WebSocket, once open, as a {@linkcode WsConnection}.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { mechanismOf, WsConnection } from "./_ws_connection.ts";
import { answerUpgrade, MAX_PENDING } from "./_ws_negotiate.ts";
import type { WsEndpoint, WsListener, WsTransportOptions } from "./ws.ts";

/** A `Deno.serve` server handing out upgraded ZWS connections. */
export class WsServer implements WsListener {
  /** The bound endpoint, port resolved, e.g. `"ws://127.0.0.1:40123/"`. */
  readonly endpoint: string;
  /** Settles once the server stopped, after `close()`. */
  readonly closed: Promise<void>;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #abort = new AbortController();
  #pending: WsConnection[] = [];
  #waiter: ((conn: WsConnection | null) => void) | undefined;
  #isClosed = false;
  #format: (endpoint: WsEndpoint) => string;

  constructor(
    endpoint: WsEndpoint,
    formatWs: (endpoint: WsEndpoint) => string,
    mechanism: string,
    options: WsTransportOptions,
  ) {
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
    this.#format = formatWs;
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
    const answer = answerUpgrade(
      {
        upgrade: request.headers.get("upgrade"),
        origin: request.headers.get("origin"),
        protocols: request.headers.get("sec-websocket-protocol"),
      },
      mechanism,
      options,
      this.#isClosed || this.#pending.length >= MAX_PENDING,
    );
    if (answer.protocol === undefined) {
      return new Response(answer.body ?? null, { status: answer.status });
    }
    const protocol = answer.protocol;
    // Read before the upgrade: afterwards Deno reports the request closed.
    const remote = this.#format({
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
