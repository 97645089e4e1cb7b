/**
 * `npm:ws` (8.x: a dependency of the npm package, pinned by tools/build_npm.ts),
 * `node:http` and `node:https`, loaded on first use for the ws and wss
 * transports under Node and Bun, and the small part of their API those use,
 * typed here so that `@types/node` and `@types/ws` stay out of the published
 * declarations.
 *
 * Loaded lazily and through a variable for the reason `_node_net.ts` gives:
 * `mod.ts` must bundle for a browser, which has neither. Under Node 20 (no
 * global `WebSocket`) `ws` is the client; under Bun and Node ≥ 22 the global
 * one is. On both, `ws`'s `WebSocketServer` over `node:http` is the server
 * (Bun runs it as it is).
 *
 * @module
 */

import { ZmqError } from "../errors.ts";

/** A listener for an event with at most a few arguments. */
type Handler = (...args: never[]) => void;

/** The raw socket of an HTTP upgrade request (a `net.Socket` or `tls.TLSSocket`). */
export interface NodeDuplex {
  readonly destroyed: boolean;
  write(data: string): boolean;
  end(data?: string): unknown;
  destroy(): unknown;
  on(event: string, listener: Handler): unknown;
  once(event: string, listener: Handler): unknown;
}

/** The part of `http.IncomingMessage` the server reads. */
export interface NodeRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly url?: string;
  readonly socket: { readonly remoteAddress?: string; readonly remotePort?: number };
}

/** The part of `http.ServerResponse` the server writes. */
export interface NodeResponse {
  writeHead(status: number, headers?: Record<string, string>): unknown;
  end(body?: string): unknown;
}

/** The part of `http.Server` (and `https.Server`) the server uses. */
export interface NodeHttpServer {
  headersTimeout: number;
  requestTimeout: number;
  listen(options: { host: string; port: number }, callback: () => void): unknown;
  address(): { address: string; port: number } | string | null;
  close(callback?: (err?: Error) => void): unknown;
  on(event: string, listener: Handler): unknown;
  once(event: string, listener: Handler): unknown;
  removeListener(event: string, listener: Handler): unknown;
}

/** Options of `http.createServer`, and of `https.createServer` with `cert` and `key`. */
export interface NodeServerOptions {
  cert?: string;
  key?: string;
  headersTimeout?: number;
  requestTimeout?: number;
  handshakeTimeout?: number;
}

/** The part of `node:http` and `node:https` the server uses. */
export interface NodeHttp {
  createServer(
    options: NodeServerOptions,
    handler: (request: NodeRequest, response: NodeResponse) => void,
  ): NodeHttpServer;
}

/** The part of `ws`'s `WebSocketServer` the server uses (`noServer` mode). */
export interface NodeWebSocketServer {
  handleUpgrade(
    request: NodeRequest,
    socket: NodeDuplex,
    head: Uint8Array,
    callback: (ws: WebSocket) => void,
  ): void;
  on(event: "headers", listener: (headers: string[], request: NodeRequest) => void): unknown;
  close(): void;
}

/** Options `ws` takes for both its client and its server. */
export interface WsLimits {
  /** The largest message ws buffers before it closes the connection (1009). */
  maxPayload: number;
  /** Off: libzmq does not speak permessage-deflate, and inflating is a memory risk. */
  perMessageDeflate: false;
}

/** The part of the `ws` package the transports use. */
export interface WsModule {
  /** The client: a WHATWG-like `WebSocket` with Node options. */
  readonly WebSocket: new (url: string, protocols: string[], options: WsLimits) => WebSocket;
  /** The server. */
  readonly WebSocketServer: new (
    options: WsLimits & { noServer: true; clientTracking: false },
  ) => NodeWebSocketServer;
}

/** Imports a module whose specifier a bundler must not resolve. */
function importDynamic(specifier: string): Promise<unknown> {
  return import(specifier);
}

let ws: Promise<WsModule> | undefined;
let http: Promise<{ http: NodeHttp; https: NodeHttp }> | undefined;

/** The `ws` package, imported on the first call and shared afterwards. */
export function wsModule(): Promise<WsModule> {
  return ws ??= importDynamic("ws").then(
    (m) => {
      const mod = m as Partial<WsModule> & { default?: Partial<WsModule> };
      const WebSocket = mod.WebSocket ?? mod.default?.WebSocket;
      const WebSocketServer = mod.WebSocketServer ?? mod.default?.WebSocketServer;
      if (WebSocket === undefined || WebSocketServer === undefined) {
        throw new TypeError("The ws package exports no WebSocket or WebSocketServer");
      }
      return { WebSocket, WebSocketServer };
    },
  ).catch((err) => {
    ws = undefined;
    throw new ZmqError(
      "EPROTONOSUPPORT",
      "ws:// needs the npm package ws on this runtime (npm install ws@8)",
      { cause: err },
    );
  });
}

/** `node:http` and `node:https`, imported on the first call and shared afterwards. */
export function httpModules(): Promise<{ http: NodeHttp; https: NodeHttp }> {
  return http ??= Promise.all([importDynamic("node:http"), importDynamic("node:https")]).then(
    ([h, s]) => ({ http: h as NodeHttp, https: s as NodeHttp }),
    (err) => {
      http = undefined;
      throw new ZmqError("EPROTONOSUPPORT", "node:http is not available on this runtime", {
        cause: err,
      });
    },
  );
}
