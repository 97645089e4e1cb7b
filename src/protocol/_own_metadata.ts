/**
 * Our READY metadata, encoded once per socket rather than once per
 * connection. A socket's connections all send the same properties; encoding
 * them again for each one made about 1 KiB of handshake garbage per peer.
 * The few most recent encodings are kept and reused while the socket type,
 * routing id and properties are equal in content (compared without
 * allocating), so a caller that changes its options, even in place, gets a
 * fresh encoding. The encoded bytes are shared and never written to.
 *
 * @module
 */

import { encodeMetadata, isValidPropertyName } from "./_metadata.ts";
import { ascii, utf8 } from "./_wire.ts";
import type { SocketType } from "./socket_type.ts";

type Properties = Record<string, string | Uint8Array>;

interface Entry {
  socketType: SocketType;
  /** A copy of the routing id encoded. */
  routingId: Uint8Array | undefined;
  /** Copies of the properties encoded, names and values in order. */
  names: string[];
  values: (string | Uint8Array)[];
  encoded: Uint8Array;
}

/** Sockets whose encodings are kept (most recent first). */
const KEEP = 8;
const cache: Entry[] = [];

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function matches(
  entry: Entry,
  socketType: SocketType,
  routingId: Uint8Array | undefined,
  properties: Properties | undefined,
): boolean {
  if (entry.socketType !== socketType || !sameBytes(entry.routingId, routingId)) return false;
  const { names, values } = entry;
  let i = 0;
  if (properties !== undefined) {
    for (const name in properties) {
      if (!Object.hasOwn(properties, name)) continue;
      if (i >= names.length || names[i] !== name) return false;
      const value = properties[name];
      const kept = values[i];
      if (typeof value === "string" || typeof kept === "string") {
        if (value !== kept) return false;
      } else if (!sameBytes(kept, value)) return false;
      i++;
    }
  }
  return i === names.length;
}

/**
 * The metadata our READY (or INITIATE) carries: `Socket-Type`, `Identity`
 * where libzmq sends one, then `properties`.
 *
 * @throws {RangeError} On a routing id over 255 octets.
 * @throws {TypeError} On an invalid property name or one the session sets.
 */
export function ownMetadata(
  socketType: SocketType,
  routingId: Uint8Array | undefined,
  properties: Properties | undefined,
): Uint8Array {
  for (let i = 0; i < cache.length; i++) {
    const entry = cache[i];
    if (matches(entry, socketType, routingId, properties)) {
      if (i > 0) {
        cache.splice(i, 1);
        cache.unshift(entry);
      }
      return entry.encoded;
    }
  }
  if (routingId !== undefined && routingId.length > 255) {
    throw new RangeError(`Option routingId must be at most 255 octets, got ${routingId.length}`);
  }
  const list: [string, Uint8Array][] = [["Socket-Type", ascii(socketType)]];
  if (
    routingId !== undefined || socketType === "REQ" || socketType === "DEALER" ||
    socketType === "ROUTER"
  ) {
    list.push(["Identity", routingId ?? new Uint8Array(0)]);
  }
  const names: string[] = [];
  const values: (string | Uint8Array)[] = [];
  for (const [name, value] of Object.entries(properties ?? {})) {
    if (!isValidPropertyName(name)) throw new TypeError(`Invalid property name: ${name}`);
    const lower = name.toLowerCase();
    if (lower === "socket-type" || lower === "identity") {
      throw new TypeError(`Property ${name} is set by the session`);
    }
    list.push([name, typeof value === "string" ? utf8(value) : value]);
    names.push(name);
    values.push(typeof value === "string" ? value : value.slice());
  }
  const encoded = encodeMetadata(list);
  cache.unshift({ socketType, routingId: routingId?.slice(), names, values, encoded });
  if (cache.length > KEEP) cache.length = KEEP;
  return encoded;
}
