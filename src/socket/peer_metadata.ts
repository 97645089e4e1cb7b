/**
 * What a received message knows about the peer that sent it: libzmq's
 * message metadata (`zmq_msg_gets`). One {@linkcode PeerMetadata} is made per
 * connection, when its handshake completes, and every message received on
 * that connection refers to it; nothing is copied per message.
 *
 * @module
 */

import type { SocketType } from "../protocol/socket_type.ts";
import { zapAddress } from "./_security.ts";

/** What a {@linkcode PeerMetadata} is made from. */
export interface PeerMetadataInit {
  /** The peer's socket type. */
  socketType: SocketType;
  /** The address of the peer, e.g. `tcp://127.0.0.1:51234`. */
  address: string;
  /**
   * Every property of the peer: its READY (or CURVE INITIATE) metadata, and
   * the ZAP handler's `User-Id` and metadata taking precedence.
   */
  properties: ReadonlyMap<string, Uint8Array>;
}

const decoder = new TextDecoder();

/**
 * The metadata of the peer a message came from, as libzmq's `zmq_msg_gets`
 * reads it: the properties the peer sent in its handshake (`Socket-Type`,
 * `Identity`, custom `X-...` ones set with libzmq's `ZMQ_METADATA` or our
 * `metadata` option), the `User-Id` and metadata a ZAP handler gave it (for
 * instance the PLAIN username an {@linkcode Authenticator} accepted), and
 * its address (`Peer-Address`).
 *
 * Received messages carry it as `message.peer` on a socket made with the
 * `peerMetadata` option; `receive()`, `for await`, `messages()` and the
 * streams all yield the same message object, so it is there whichever way
 * the application reads.
 *
 * @example Who sent this request?
 * ```ts
 * import { PullSocket, PushSocket } from "@monocoque/zmtp";
 *
 * await using pull = new PullSocket({ peerMetadata: true });
 * await pull.bind("inproc://peer-metadata-doc");
 * await using push = new PushSocket({ metadata: { "X-Tenant": "blue" } });
 * push.connect("inproc://peer-metadata-doc");
 * await push.send("hello");
 *
 * const message = await pull.receive();
 * console.assert(message.peer?.socketType === "PUSH");
 * console.assert(message.peer?.get("X-Tenant") === "blue");
 * console.assert(message.peer?.get("x-tenant") === "blue"); // names are case-insensitive (RFC 23)
 * ```
 */
export class PeerMetadata {
  /** `Socket-Type`: the peer's socket type. */
  readonly socketType: SocketType;
  /** The address of the peer, e.g. `tcp://127.0.0.1:51234` (`inproc://name` for inproc). */
  readonly address: string;
  /** `User-Id`: the user a ZAP handler authenticated the peer as; `undefined` without one. */
  readonly userId: string | undefined;
  /** `Identity` (`Routing-Id`): the routing id the peer announced, if any and not empty. */
  readonly routingId: Uint8Array | undefined;
  /** Every property by the name the peer (or the ZAP handler) gave it, values as sent. */
  readonly properties: ReadonlyMap<string, Uint8Array>;
  #lower: Map<string, Uint8Array> | undefined;

  /**
   * Makes the metadata of one connection; the socket does this when a
   * handshake completes.
   *
   * @param init The peer's socket type, address and properties.
   */
  constructor(init: PeerMetadataInit) {
    this.socketType = init.socketType;
    this.address = init.address;
    this.properties = init.properties;
    const userId = this.#raw("User-Id");
    this.userId = userId === undefined ? undefined : decoder.decode(userId);
    const identity = this.#raw("Identity");
    this.routingId = identity === undefined || identity.length === 0 ? undefined : identity;
  }

  #raw(name: string): Uint8Array | undefined {
    const exact = this.properties.get(name);
    if (exact !== undefined) return exact;
    this.#lower ??= new Map(
      [...this.properties].map(([key, value]) => [key.toLowerCase(), value]),
    );
    return this.#lower.get(name.toLowerCase());
  }

  /**
   * A property as text, as libzmq's `zmq_msg_gets` returns it: any property
   * the peer or the ZAP handler set, by a case-insensitive name (RFC 23),
   * plus `Peer-Address` (the peer's IP address for tcp, as libzmq gives it)
   * and `Routing-Id` (libzmq's name for the `Identity` property).
   *
   * @param name The property name, e.g. `"User-Id"`, `"Socket-Type"`, `"X-Tenant"`.
   * @returns The value decoded as UTF-8, or `undefined` when the peer has no such property.
   */
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    if (lower === "peer-address") {
      const ip = zapAddress(this.address);
      return ip === "" ? undefined : ip;
    }
    const value = this.#raw(lower === "routing-id" ? "Identity" : name);
    return value === undefined ? undefined : decoder.decode(value);
  }
}
