/**
 * Security for sockets: builds each connection's sans-IO mechanism (NULL,
 * PLAIN or CURVE) from the resolved options, and answers a server
 * mechanism's `authenticate` step through the ZAP handler bound at
 * `inproc://zeromq.zap.01`, or as libzmq 4.3.4 does when none is bound:
 *
 * - CURVE accepts the client (curve_server.cpp `process_initiate`: with
 *   `zap_connect` failing and ZMQ_ZAP_ENFORCE_DOMAIN off, the default, it goes
 *   on to READY — the "Stonehouse" pattern, encryption without
 *   authentication).
 * - PLAIN refuses it (plain_server.cpp `process_hello`: `zap_connect` failing
 *   fails the handshake, HANDSHAKE_FAILED_NO_DETAIL, and the connection
 *   closes without an ERROR command) — hence a 300 reply here.
 *
 * @module
 */

import { CurveClientMechanism, CurveServerMechanism } from "../protocol/curve_mechanism.ts";
import type { Mechanism, ZapReply, ZapRequest } from "../protocol/mechanism.ts";
import { NullMechanism } from "../protocol/null_mechanism.ts";
import { PlainClientMechanism, PlainServerMechanism } from "../protocol/plain_mechanism.ts";
import { zapHandlerBound, zapRequest } from "./_zap_client.ts";
import type { ResolvedOptions, SecurityOptions } from "./options.ts";

/** A new mechanism for one connection. */
export function createMechanism(security: SecurityOptions): Mechanism {
  switch (security.mechanism) {
    case "NULL":
      return new NullMechanism();
    case "PLAIN":
      return security.server
        ? new PlainServerMechanism({ authenticate: true })
        : new PlainClientMechanism({ username: security.username, password: security.password });
    case "CURVE":
      return security.server
        ? new CurveServerMechanism({ secretKey: security.secretKey, authenticate: true })
        : new CurveClientMechanism({
          serverKey: security.serverKey,
          publicKey: security.publicKey,
          secretKey: security.secretKey,
        });
  }
}

/**
 * The ZAP address of a peer: its IP address without the port, as libzmq's
 * stream_engine_base.cpp `get_peer_address` gives it. For ipc libzmq sends
 * the peer's credentials (":uid:gid:pid", SO_PEERCRED), which Deno cannot
 * read; ipc and inproc peers have an empty address.
 */
export function zapAddress(remoteEndpoint: string): string {
  const match = /^tcp:\/\/(?:\[([^\]]*)\]|([^:]*)):\d+$/.exec(remoteEndpoint);
  if (match === null) return "";
  return match[1] ?? match[2];
}

/**
 * Asks the ZAP handler about a client, or answers as libzmq does without one.
 * The reply never rejects; `cancel` abandons the request (the connection
 * ended first).
 */
export function authenticate(
  options: ResolvedOptions,
  request: ZapRequest,
  remoteEndpoint: string,
): { reply: Promise<ZapReply>; cancel: () => void } {
  if (!zapHandlerBound()) {
    const reply: ZapReply = request.mechanism === "CURVE" ? { statusCode: 200 } : {
      statusCode: 300,
      statusText: "No ZAP handler is bound at inproc://zeromq.zap.01",
    };
    return { reply: Promise.resolve(reply), cancel: () => {} };
  }
  return zapRequest(request, {
    domain: options.security.zapDomain,
    address: zapAddress(remoteEndpoint),
    identity: options.routingId,
    timeout: options.handshakeInterval,
  });
}
