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
 * - NULL asks ZAP only when `zapDomain` is set (mechanism_base.cpp
 *   `zap_required`), and without a handler goes on (null_mechanism.cpp
 *   `next_handshake_command`, ZMQ_ZAP_ENFORCE_DOMAIN off).
 *
 * @module
 */

import { CurveClientMechanism, CurveServerMechanism } from "../protocol/curve_mechanism.ts";
import type {
  Mechanism,
  MechanismHost,
  MechanismStep,
  ZapReply,
  ZapRequest,
} from "../protocol/mechanism.ts";
import { judgeZapReply, withProperties } from "../protocol/_zap.ts";
import { NullMechanism } from "../protocol/null_mechanism.ts";
import { PlainClientMechanism, PlainServerMechanism } from "../protocol/plain_mechanism.ts";
import { zapHandlerBound, zapRequest } from "./_zap_client.ts";
import type { ResolvedOptions, SecurityOptions } from "./options.ts";

/** A new mechanism for one connection. */
export function createMechanism(security: SecurityOptions): Mechanism {
  switch (security.mechanism) {
    case "NULL":
      return security.zapDomain === "" ? new NullMechanism() : new NullZapMechanism();
    case "PLAIN":
      return security.server
        ? new PlainServerMechanism({ authenticate: true })
        : new PlainClientMechanism({ username: security.username, password: security.password });
    case "CURVE":
      return security.server
        ? new CurveServerMechanism({
          publicKey: security.publicKey,
          secretKey: security.secretKey,
          authenticate: true,
        })
        : new CurveClientMechanism({
          serverKey: security.serverKey,
          publicKey: security.publicKey,
          secretKey: security.secretKey,
        });
  }
}

/**
 * NULL with a ZAP domain, as libzmq's null_mechanism.cpp: our READY waits for
 * the ZAP handler's verdict on the peer (mechanism "NULL", no credentials);
 * a refusal sends ERROR with the status code (400, 500) or nothing (300).
 */
class NullZapMechanism implements Mechanism {
  readonly name: string = "NULL";
  readonly asServer: boolean = false;
  #state: "zap" | "ready-sent" | "done" = "zap";
  #peerMetadata: Uint8Array | undefined;
  #properties: Uint8Array = new Uint8Array(0);

  start(_host: MechanismHost): MechanismStep {
    return { type: "authenticate", request: { mechanism: "NULL", credentials: [] } };
  }

  receiveCommand(_host: MechanismHost, name: string, data: Uint8Array): MechanismStep {
    if (name !== "READY" || this.#peerMetadata !== undefined) {
      return {
        type: "error",
        kind: "protocol",
        reason: `Unexpected ${name} command during the NULL handshake`,
      };
    }
    this.#peerMetadata = data.slice();
    return this.#state === "ready-sent" ? this.#ready() : { type: "continue" };
  }

  authenticated(host: MechanismHost, reply: ZapReply): MechanismStep {
    const verdict = judgeZapReply(host, reply);
    if (!verdict.accepted) return verdict.step;
    this.#properties = verdict.properties;
    host.sendCommand("READY", host.metadata);
    this.#state = "ready-sent";
    return this.#peerMetadata === undefined ? { type: "continue" } : this.#ready();
  }

  #ready(): MechanismStep {
    this.#state = "done";
    return { type: "ready", metadata: withProperties(this.#peerMetadata!, this.#properties) };
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
    const reply: ZapReply = request.mechanism !== "PLAIN" ? { statusCode: 200 } : {
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
