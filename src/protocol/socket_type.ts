/**
 * ZeroMQ socket types as they appear in the `Socket-Type` READY property, and
 * the compatibility table that decides which pairs may talk (RFC 23 "Socket
 * Semantics", extended with XPUB/XSUB as libzmq does, and the draft types
 * CLIENT/SERVER, rfc.zeromq.org spec 41, and SCATTER/GATHER, spec 49, RADIO/DISH, spec 48, PEER, spec 51, and CHANNEL, spec 52).
 *
 * @module
 */

/**
 * A ZeroMQ socket type name, spelled as on the wire (RFC 23, `Socket-Type`).
 *
 * @example Narrowing a string
 * ```ts
 * import { isSocketType, type SocketType } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * const name: string = "DEALER";
 * const type: SocketType | undefined = isSocketType(name) ? name : undefined;
 * assert.equal(type, "DEALER");
 * ```
 */
export type SocketType =
  | "PAIR"
  | "PUB"
  | "SUB"
  | "REQ"
  | "REP"
  | "DEALER"
  | "ROUTER"
  | "PULL"
  | "PUSH"
  | "XPUB"
  | "XSUB"
  | "CLIENT"
  | "SERVER"
  | "SCATTER"
  | "GATHER"
  | "RADIO"
  | "DISH"
  | "PEER"
  | "CHANNEL"
  | "STREAM";

const PEERS: Readonly<Record<SocketType, readonly SocketType[]>> = {
  PAIR: ["PAIR"],
  PUB: ["SUB", "XSUB"],
  SUB: ["PUB", "XPUB"],
  REQ: ["REP", "ROUTER"],
  REP: ["REQ", "DEALER"],
  DEALER: ["REP", "DEALER", "ROUTER"],
  ROUTER: ["REQ", "DEALER", "ROUTER"],
  PULL: ["PUSH"],
  PUSH: ["PULL"],
  XPUB: ["SUB", "XSUB"],
  XSUB: ["PUB", "XPUB"],
  // Draft types: libzmq admits only these pairs (src/mechanism.cpp check_socket_type).
  CLIENT: ["SERVER"],
  SERVER: ["CLIENT"],
  SCATTER: ["GATHER"],
  GATHER: ["SCATTER"],
  RADIO: ["DISH"],
  DISH: ["RADIO"],
  PEER: ["PEER"],
  CHANNEL: ["CHANNEL"],
  // ZMQ_STREAM speaks raw bytes, never ZMTP: a peer announcing it fits no socket.
  STREAM: [],
};

/**
 * Tells whether a string names a known socket type (exact, upper case, as the
 * RFC spells it).
 *
 * @param name The candidate name, e.g. a `Socket-Type` property value.
 * @returns `true` when `name` is one of the known socket types.
 *
 * @example
 * ```ts
 * import { isSocketType } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isSocketType("ROUTER"), true);
 * assert.equal(isSocketType("router"), false);
 * ```
 */
export function isSocketType(name: string): name is SocketType {
  return Object.hasOwn(PEERS, name);
}

/**
 * Tells whether a socket of type `ours` may talk to a peer announcing the
 * socket type `theirs` (RFC 23 "Socket Semantics": REQ with REP or ROUTER, PUB
 * with SUB or XSUB, and so on).
 *
 * @param ours Our socket type.
 * @param theirs The peer's `Socket-Type` property, as received.
 * @returns `true` when the pair is valid; `false` for invalid or unknown types.
 *
 * @example
 * ```ts
 * import { isCompatible } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isCompatible("REQ", "ROUTER"), true);
 * assert.equal(isCompatible("REQ", "PUB"), false);
 * assert.equal(isCompatible("PUB", "NOPE"), false);
 * ```
 */
export function isCompatible(ours: SocketType, theirs: string): boolean {
  return isSocketType(theirs) && PEERS[ours].includes(theirs);
}
