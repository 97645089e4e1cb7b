/**
 * The server half of the ws and wss transports under Node and Bun:
 * `node:http` (or `node:https` with the socket's certificate) answering
 * upgrade requests with `npm:ws`'s `WebSocketServer` in `noServer` mode.
 * Which requests it refuses, and the subprotocol it answers with, are
 * decided by `_ws_negotiate.ts`, as for the Deno server.
 *
 * `ws` parses `Sec-WebSocket-Protocol` as a list of HTTP tokens and refuses
 * the whole request (400) for libzmq's `ZWS2.0/NULL,ZWS2.0`: so the header
 * is taken off the request before `ws` sees it, and the chosen subprotocol
 * put in the response through `ws`'s `headers` event.
 *
 * Limits: a connection must be upgraded within the handshake deadline
 * (`handshakeTimeout`, by default 30 s, libzmq's `ZMQ_HANDSHAKE_IVL`) or is
 * destroyed;
 * `ws` closes a connection whose message exceeds the unread bound
 * (`maxPayload`); unaccepted connections are bounded by `MAX_PENDING`.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { nodeZmqError } from "./_node_stream.ts";
import type { NodeServer } from "./_node_net.ts";
import { listenServer } from "./_node_stream.ts";
import { MAX_QUEUED_BYTES, mechanismOf, WsConnection } from "./_ws_connection.ts";
import { answerUpgrade, MAX_PENDING, type UpgradeAnswer } from "./_ws_negotiate.ts";
import {
  httpModules,
  type NodeDuplex,
  type NodeHttpServer,
  type NodeRequest,
  type NodeWebSocketServer,
  wsModule,
} from "./_ws_node.ts";
import type { WsEndpoint, WsListener, WsTransportOptions } from "./ws.ts";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  426: "Upgrade Required",
  503: "Service Unavailable",
};

/**
 * The path of a request target, `/` when it has none we can parse: the
 * target is the peer's (`GET //[ HTTP/1.1` passes Node's parser), and a
 * throw in the 'upgrade' listener would end the process.
 */
function requestPath(target: string | undefined): string {
  try {
    return new URL(target ?? "/", "http://x").pathname;
  } catch {
    return "/";
  }
}

/** One header's value, several joined by commas as HTTP allows. */
function header(request: NodeRequest, name: string): string | null {
  const value = request.headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(",") : value;
}

/**
 * Starts a ZWS server under Node or Bun.
 *
 * @param endpoint The ws or wss endpoint to bind.
 * @param formatWs Writes an endpoint back as a string.
 * @param mechanism The socket's mechanism, which picks the subprotocol.
 * @param options Deadline, origin check, and a wss server's certificate.
 * @returns The listening server.
 */
export async function listenNodeWs(
  endpoint: WsEndpoint,
  formatWs: (endpoint: WsEndpoint) => string,
  mechanism: string,
  options: WsTransportOptions,
): Promise<WsListener> {
  const secure = endpoint.transport === "wss";
  if (secure && (options.cert === undefined || options.key === undefined)) {
    throw new ZmqError("EINVAL", "A wss:// server needs a certificate: WsTransport({ cert, key })");
  }
  const [{ WebSocketServer }, { http, https }] = await Promise.all([wsModule(), httpModules()]);
  const deadline = options.handshakeTimeout ?? 30000;
  // The deadline is kept by a timer per connection (see NodeWsServer); Node's own request
  // timeouts back it up, and for wss the TLS handshake gets the same deadline.
  const limits = deadline > 0
    ? { headersTimeout: deadline, requestTimeout: deadline, handshakeTimeout: deadline }
    : {};
  let server: NodeHttpServer;
  try {
    server = secure
      ? https.createServer({ cert: options.cert, key: options.key, ...limits }, refuse)
      : http.createServer(limits, refuse);
  } catch (err) {
    throw new ZmqError("EINVAL", `Cannot serve '${formatWs(endpoint)}': ${err}`, { cause: err });
  }
  const host = endpoint.host === "*" ? "0.0.0.0" : endpoint.host;
  try {
    await listenServer(server as unknown as NodeServer, { host, port: endpoint.port });
  } catch (err) {
    server.close();
    const code = (err as { code?: string })?.code;
    const fallback = code === "ENOTFOUND" || code === "EAI_AGAIN" ? "EADDRNOTAVAIL" : "EINVAL";
    throw nodeZmqError(err, fallback, `Cannot bind to '${formatWs(endpoint)}'`);
  }
  const address = server.address();
  const bound = typeof address === "object" && address !== null
    ? formatWs({ ...endpoint, host: address.address, port: address.port })
    : formatWs(endpoint);
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: MAX_QUEUED_BYTES,
    perMessageDeflate: false,
  });
  const listener = new NodeWsServer(server, wss, bound, formatWs, mechanism, options);
  if (deadline > 0) {
    // A TLS connection reaches the upgrade as the socket of 'secureConnection', not 'connection'.
    server.on(secure ? "secureConnection" : "connection", (socket: NodeDuplex) => {
      listener.arm(socket, deadline);
    });
  }

  /** A plain HTTP request: the same answers as Deno's server, 426 most of the time. */
  function refuse(
    request: NodeRequest,
    response: { writeHead(s: number): unknown; end(b?: string): unknown },
  ): void {
    // Without an Upgrade header this is never an acceptance; an upgrade request (a client
    // that sent Upgrade with a body, say) is answered 426 rather than taken here.
    const answer = listener.answer(request);
    response.writeHead(answer.status ?? 426);
    response.end(answer.protocol === undefined ? answer.body : undefined);
  }
  return listener;
}

/** A `node:http` server handing out upgraded ZWS connections. */
class NodeWsServer implements WsListener {
  readonly endpoint: string;
  readonly closed: Promise<void>;
  #server: NodeHttpServer;
  #wss: NodeWebSocketServer;
  #pending: WsConnection[] = [];
  #waiter: ((conn: WsConnection | null) => void) | undefined;
  #isClosed = false;
  #mechanism: string;
  #options: WsTransportOptions;
  #format: (endpoint: WsEndpoint) => string;
  #chosen = new WeakMap<NodeRequest, string>();
  #deadlines = new WeakMap<NodeDuplex, ReturnType<typeof setTimeout>>();

  constructor(
    server: NodeHttpServer,
    wss: NodeWebSocketServer,
    endpoint: string,
    format: (endpoint: WsEndpoint) => string,
    mechanism: string,
    options: WsTransportOptions,
  ) {
    this.#server = server;
    this.#wss = wss;
    this.endpoint = endpoint;
    this.#format = format;
    this.#mechanism = mechanism;
    this.#options = options;
    this.closed = new Promise((resolve) => server.once("close", () => resolve()));
    // After listen(), errors are of single connections; an unheard 'error' would end the process.
    server.on("error", () => {});
    server.on("upgrade", (request: NodeRequest, socket: NodeDuplex, head: Uint8Array) => {
      try {
        this.#upgrade(request, socket, head);
      } catch {
        // Whatever else a peer's request could make throw here must drop it, not the process.
        socket.destroy();
      }
    });
    wss.on("headers", (headers, request) => {
      const protocol = this.#chosen.get(request);
      if (protocol !== undefined) headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
    });
  }

  /** Destroys `socket` unless it is upgraded to a ZWS connection within `ms`. */
  arm(socket: NodeDuplex, ms: number): void {
    const timer = setTimeout(() => socket.destroy(), ms);
    this.#deadlines.set(socket, timer);
    socket.once("close", () => clearTimeout(timer));
  }

  /** How to answer a request (see `_ws_negotiate.ts`). */
  answer(request: NodeRequest): UpgradeAnswer {
    return answerUpgrade(
      {
        upgrade: header(request, "upgrade"),
        origin: header(request, "origin"),
        protocols: header(request, "sec-websocket-protocol"),
      },
      this.#mechanism,
      this.#options,
      this.#isClosed || this.#pending.length >= MAX_PENDING,
    );
  }

  #upgrade(request: NodeRequest, socket: NodeDuplex, head: Uint8Array): void {
    socket.on("error", () => socket.destroy());
    const answer = this.answer(request);
    if (answer.protocol === undefined) {
      const body = answer.body ?? "";
      socket.end(
        `HTTP/1.1 ${answer.status} ${STATUS_TEXT[answer.status] ?? "Error"}\r\n` +
          `Connection: close\r\nContent-Type: text/plain\r\n` +
          `Content-Length: ${new TextEncoder().encode(body).length}\r\n\r\n${body}`,
      );
      return;
    }
    const protocol = answer.protocol;
    const remote = this.#format({
      transport: this.endpoint.startsWith("wss") ? "wss" : "ws",
      host: request.socket.remoteAddress ?? "0.0.0.0",
      port: request.socket.remotePort ?? 0,
      path: requestPath(request.url),
    });
    this.#chosen.set(request, protocol);
    delete request.headers["sec-websocket-protocol"];
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      clearTimeout(this.#deadlines.get(socket));
      if (this.#isClosed) {
        ws.close();
        return;
      }
      const conn = new WsConnection(ws, mechanismOf(protocol), this.endpoint, remote);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (waiter !== undefined) waiter(conn);
      else this.#pending.push(conn);
    });
  }

  accept(): Promise<WsConnection | null> {
    if (this.#pending.length > 0) return Promise.resolve(this.#pending.shift()!);
    if (this.#isClosed) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#server.close();
    // HTTP connections not upgraded yet (idle, or a request under way) go now; upgraded ones
    // belong to their WsConnection.
    (this.#server as { closeAllConnections?: () => void }).closeAllConnections?.();
    this.#wss.close();
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
