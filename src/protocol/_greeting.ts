/**
 * The 64-octet ZMTP 3.x greeting (RFC 23/37 "The Greeting"): building ours and
 * checking the peer's incrementally, so that a non-ZMTP or pre-3.0 peer is
 * refused as soon as the deciding octet arrives rather than after 64 octets.
 *
 * @module
 */

import { GREETING_SIZE } from "./_wire.ts";

/** Offset of the major version octet. */
export const MAJOR_OFFSET = 10;
/** Offset of the minor version octet. */
export const MINOR_OFFSET = 11;
/** Offset of the 20-octet mechanism name. */
export const MECHANISM_OFFSET = 12;
/** Length of the mechanism name field. */
export const MECHANISM_SIZE = 20;
/** Offset of the as-server octet. */
export const AS_SERVER_OFFSET = 32;

const MECHANISM_CHAR = /^[A-Z0-9\-_.+]{1,20}$/;

/** Tells whether a mechanism name fits the greeting (RFC 23: 1-20 of A-Z, 0-9, "-_.+"). */
export function isValidMechanismName(name: string): boolean {
  return MECHANISM_CHAR.test(name);
}

/** Builds our greeting: signature, version 3.1, mechanism name, as-server, filler. */
export function encodeGreeting(mechanism: string, asServer: boolean): Uint8Array {
  const greeting = new Uint8Array(GREETING_SIZE);
  greeting[0] = 0xff;
  greeting[9] = 0x7f;
  greeting[MAJOR_OFFSET] = 3;
  greeting[MINOR_OFFSET] = 1;
  for (let i = 0; i < mechanism.length; i++) {
    greeting[MECHANISM_OFFSET + i] = mechanism.charCodeAt(i);
  }
  greeting[AS_SERVER_OFFSET] = asServer ? 1 : 0;
  return greeting;
}

/**
 * Checks the octets of a partly received greeting that arrived in
 * `[from, to)`: the signature octets 0 and 9, and the major version.
 *
 * @returns An error reason, or `undefined` when nothing is wrong so far.
 */
export function checkGreeting(greeting: Uint8Array, from: number, to: number): string | undefined {
  if (from <= 0 && to > 0 && greeting[0] !== 0xff) {
    return "Invalid greeting signature: the peer does not speak ZMTP 3";
  }
  // Bit 0 of octet 9 is zero only for a ZMTP 1.0 peer, whose first frame is its identity.
  if (from <= 9 && to > 9 && (greeting[9] & 0x01) === 0) {
    return "Invalid greeting signature: the peer speaks ZMTP 1.0, ZMTP 3.0 or later is required";
  }
  if (from <= MAJOR_OFFSET && to > MAJOR_OFFSET && greeting[MAJOR_OFFSET] < 3) {
    const major = greeting[MAJOR_OFFSET];
    const version = major === 1 ? "ZMTP 2.0" : `an unknown ZMTP revision ${major}`;
    return `Unsupported protocol version: the peer speaks ${version}, ZMTP 3.0 or later is required`;
  }
  return undefined;
}

const KNOWN_MECHANISMS = ["NULL", "PLAIN", "CURVE"];

function isMechanism(greeting: Uint8Array, name: string): boolean {
  for (let i = 0; i < MECHANISM_SIZE; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0;
    if (greeting[MECHANISM_OFFSET + i] !== c) return false;
    if (c === 0) return true;
  }
  return true;
}

/** Reads the NUL-padded mechanism name from a complete greeting. */
export function greetingMechanism(greeting: Uint8Array): string {
  // The standard names come back as the same strings, not a new one per connection.
  for (const known of KNOWN_MECHANISMS) {
    if (isMechanism(greeting, known)) return known;
  }
  let name = "";
  for (let i = MECHANISM_OFFSET; i < MECHANISM_OFFSET + MECHANISM_SIZE; i++) {
    const c = greeting[i];
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  return name;
}

/**
 * The minor version we run with: 0 for a 3.0 peer, 1 for 3.1 and later (RFC 37
 * "Version Negotiation": a peer with a higher version downgrades to ours).
 */
export function greetingMinorVersion(greeting: Uint8Array): number {
  if (greeting[MAJOR_OFFSET] > 3) return 1;
  return greeting[MINOR_OFFSET] === 0 ? 0 : 1;
}
