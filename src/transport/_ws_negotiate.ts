/**
 * The answer of a ZWS 2.0 server to an HTTP request, shared by the Deno
 * server (`_ws_server.ts`) and the Node/Bun one (`_ws_node_server.ts`) so
 * that both refuse and accept exactly the same requests: 503 while closing or
 * past {@linkcode MAX_PENDING} unaccepted connections, 426 without an
 * upgrade, 403 when the origin check says no, 400 when the client offers no
 * ZWS 2.0 subprotocol for the socket's mechanism, else the subprotocol to
 * answer with.
 *
 * The offered list is split at every comma ourselves: libzmq's client sends
 * `ZWS2.0/NULL,ZWS2.0` (no space, and `/` is no token character), which both
 * Deno's upgrade and the `ws` package refuse, so both servers take the header
 * out of their hands and answer it themselves.
 *
 * @module
 */

import { chooseSubprotocol } from "./_ws_connection.ts";
import type { WsTransportOptions } from "./ws.ts";

/** Connections accepted by a server but not yet taken by `accept()`. */
export const MAX_PENDING = 1024;

/** What a server needs to know of a request to answer it. */
export interface UpgradeRequest {
  /** The `Upgrade` header, if any. */
  readonly upgrade: string | null | undefined;
  /** The `Origin` header, `null` when absent. */
  readonly origin: string | null;
  /** The `Sec-WebSocket-Protocol` header (all of its values, comma-joined), if any. */
  readonly protocols: string | null | undefined;
}

/** A refusal (an HTTP status and an optional body) or the subprotocol to accept with. */
export type UpgradeAnswer =
  | { readonly status: number; readonly body?: string; readonly protocol?: undefined }
  | { readonly protocol: string; readonly status?: undefined };

/**
 * Decides how a ZWS server answers a request.
 *
 * @param request Its upgrade, origin and subprotocol headers.
 * @param mechanism The listening socket's mechanism (`"NULL"`, `"PLAIN"`, `"CURVE"`).
 * @param options The transport's origin check.
 * @param busy Whether the server is closing or has too many unaccepted connections.
 */
export function answerUpgrade(
  request: UpgradeRequest,
  mechanism: string,
  options: WsTransportOptions,
  busy: boolean,
): UpgradeAnswer {
  if (busy) return { status: 503 };
  if (request.upgrade?.toLowerCase() !== "websocket") {
    return { status: 426, body: "ZWS 2.0 endpoint: WebSocket upgrade required\n" };
  }
  if (options.checkOrigin !== undefined && !originAllowed(options.checkOrigin, request.origin)) {
    return { status: 403 };
  }
  const offered = (request.protocols ?? "").split(",").map((p) => p.trim());
  const protocol = chooseSubprotocol(offered, mechanism);
  if (protocol === undefined) {
    return { status: 400, body: `No ZWS 2.0 subprotocol for mechanism ${mechanism}\n` };
  }
  return { protocol };
}

/**
 * The user's origin check, a throw counting as a refusal: the origin is the
 * peer's, and a check that parses it (`new URL(origin)`) must not turn a
 * garbage header into an exception in a server's request listener, which on
 * Node and Bun would end the process.
 */
function originAllowed(check: (origin: string | null) => boolean, origin: string | null): boolean {
  try {
    return check(origin);
  } catch {
    return false;
  }
}
