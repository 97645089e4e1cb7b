/**
 * ZMTP metadata (RFC 23 "The READY command", `metadata = *property`): the
 * name/value properties carried by READY (and by PLAIN's and CURVE's
 * INITIATE). Names are 1-255 octets of `[A-Za-z0-9.\-_+]`, values are preceded
 * by a 4-octet big-endian length.
 *
 * @module
 */

import { latin1, ProtocolViolation } from "./_wire.ts";

/** Names every handshake carries: decoded to these strings without building new ones. */
const KNOWN_NAMES = ["Socket-Type", "Identity", "Resource", "User-Id"];

function knownName(bytes: Uint8Array, start: number, length: number): string | undefined {
  outer: for (const name of KNOWN_NAMES) {
    if (name.length !== length) continue;
    for (let i = 0; i < length; i++) {
      if (bytes[start + i] !== name.charCodeAt(i)) continue outer;
    }
    return name;
  }
  return undefined;
}

function isNameChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || c === 0x2e || c === 0x5f || c === 0x2b; // - . _ +
}

/** Tells whether a property name is valid on the wire. */
export function isValidPropertyName(name: string): boolean {
  if (name.length < 1 || name.length > 255) return false;
  for (let i = 0; i < name.length; i++) {
    if (!isNameChar(name.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * Encodes properties in order. Names must be valid (see
 * {@linkcode isValidPropertyName}); the caller checks them.
 */
export function encodeMetadata(
  properties: ReadonlyArray<readonly [string, Uint8Array]>,
): Uint8Array {
  let size = 0;
  for (const [name, value] of properties) size += 1 + name.length + 4 + value.length;
  const out = new Uint8Array(size);
  let p = 0;
  for (const [name, value] of properties) {
    out[p++] = name.length;
    for (let i = 0; i < name.length; i++) out[p++] = name.charCodeAt(i);
    const n = value.length;
    out[p++] = n >>> 24;
    out[p++] = (n >>> 16) & 0xff;
    out[p++] = (n >>> 8) & 0xff;
    out[p++] = n & 0xff;
    out.set(value, p);
    p += n;
  }
  return out;
}

/**
 * Decodes metadata. Values are copied (views of one copy of `bytes`), so
 * the map never pins the receive buffer.
 *
 * @throws {ProtocolViolation} On a truncated or malformed property.
 */
export function decodeMetadata(bytes: Uint8Array): Map<string, Uint8Array> {
  const properties = new Map<string, Uint8Array>();
  // Values are views of one copy: one buffer per peer, not one per property.
  let copy: Uint8Array | undefined;
  let p = 0;
  while (p < bytes.length) {
    const nameLength = bytes[p++];
    if (nameLength === 0) throw new ProtocolViolation("Malformed metadata: empty property name");
    if (p + nameLength > bytes.length) {
      throw new ProtocolViolation("Malformed metadata: truncated property name");
    }
    for (let i = 0; i < nameLength; i++) {
      if (!isNameChar(bytes[p + i])) {
        throw new ProtocolViolation("Malformed metadata: invalid character in property name");
      }
    }
    const name = knownName(bytes, p, nameLength) ?? latin1(bytes.subarray(p, p + nameLength));
    p += nameLength;
    if (p + 4 > bytes.length) {
      throw new ProtocolViolation("Malformed metadata: truncated property value length");
    }
    const valueLength = ((bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) |
      bytes[p + 3]) >>> 0;
    p += 4;
    if (valueLength > bytes.length - p) {
      throw new ProtocolViolation("Malformed metadata: truncated property value");
    }
    properties.set(name, (copy ??= bytes.slice()).subarray(p, p + valueLength));
    p += valueLength;
  }
  return properties;
}

/** Looks a property up by name, ignoring case (RFC 23: names are case-insensitive). */
export function getProperty(
  properties: ReadonlyMap<string, Uint8Array>,
  name: string,
): Uint8Array | undefined {
  const exact = properties.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const [key, value] of properties) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}
