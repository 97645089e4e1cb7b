/**
 * The only door to cryptography in Monocoque: NaCl's `crypto_box`
 * (X25519 + XSalsa20-Poly1305) with libsodium's `beforenm`/`afternm`
 * precomputation, built from kept libraries and never hand-rolled: X25519
 * from `@noble/curves`, HSalsa20 and XSalsa20-Poly1305 from `@noble/ciphers`.
 * Randomness comes from WebCrypto's `crypto.getRandomValues`, which browsers
 * have too. Boxes use libsodium's "easy" layout (16-octet MAC, then the
 * ciphertext), which is also what libzmq puts on the wire.
 *
 * @module
 */

import { hsalsa, xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { x25519 } from "@noble/curves/ed25519.js";

/** Octets in a public or secret key. */
export const KEY_SIZE = 32;
/** Octets in a full nonce. */
export const NONCE_SIZE = 24;
/** Octets a box adds to its plaintext (the Poly1305 tag). */
export const MAC_SIZE = 16;

// "expand 32-byte k" as native-endian words, as hsalsa expects them.
const SIGMA = new Uint32Array(
  Uint8Array.from("expand 32-byte k", (c) => c.charCodeAt(0)).buffer,
);
const ZERO_NONCE = new Uint32Array(4);

/** Fills a new array with `size` random octets (WebCrypto). */
export function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  crypto.getRandomValues(bytes);
  return bytes;
}

/** A new X25519 key pair, as raw 32-octet keys. */
export function boxKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const secretKey = randomBytes(KEY_SIZE);
  return { publicKey: x25519.getPublicKey(secretKey), secretKey };
}

/** The X25519 public key of a secret key. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

/**
 * libsodium's `crypto_box_beforenm`: HSalsa20 of the X25519 shared secret,
 * the key every box between these two keys uses.
 *
 * @returns The 32-octet key, or `undefined` when the peer's key is a
 * low-order point (libsodium refuses those too).
 */
export function boxBeforenm(publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | undefined {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secretKey, publicKey);
  } catch {
    return undefined;
  }
  const key = new Uint8Array(KEY_SIZE);
  hsalsa(SIGMA, u32(shared), ZERO_NONCE, u32(key));
  shared.fill(0);
  return key;
}

// A word view of the bytes (of a copy when they are not word-aligned).
function u32(bytes: Uint8Array): Uint32Array {
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
}

/** libsodium's `crypto_box_easy_afternm` (also `crypto_secretbox_easy`): MAC then ciphertext. */
export function sealAfternm(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return xsalsa20poly1305(key, nonce).encrypt(plaintext);
}

/**
 * {@link sealAfternm} in place: `buffer[32..]` holds the plaintext; on return
 * `buffer[16..32]` holds the MAC, `buffer[32..]` the ciphertext, and
 * `buffer[0..16]` is zeroed scratch the caller may then overwrite. Saves the
 * copies and allocations of a separate plaintext, box and frame (noble's
 * secretbox needs exactly this 32-octet scratch area before its output).
 */
export function sealAfternmInPlace(key: Uint8Array, nonce: Uint8Array, buffer: Uint8Array): void {
  xsalsa20poly1305(key, nonce).encrypt(buffer.subarray(2 * MAC_SIZE), buffer);
}

/**
 * libsodium's `crypto_box_open_easy_afternm` (also `crypto_secretbox_open_easy`).
 *
 * @returns The plaintext, or `undefined` when the box is too short or its tag is wrong.
 */
export function openAfternm(
  key: Uint8Array,
  nonce: Uint8Array,
  box: Uint8Array,
): Uint8Array | undefined {
  if (box.length < MAC_SIZE) return undefined;
  try {
    return xsalsa20poly1305(key, nonce).decrypt(box);
  } catch {
    return undefined;
  }
}

/**
 * libsodium's `crypto_box_easy`: a box from `secretKey` to `publicKey`.
 *
 * @returns The box, or `undefined` when `publicKey` is a low-order point.
 */
export function seal(
  publicKey: Uint8Array,
  secretKey: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array | undefined {
  const key = boxBeforenm(publicKey, secretKey);
  if (key === undefined) return undefined;
  const box = sealAfternm(key, nonce, plaintext);
  key.fill(0);
  return box;
}

/**
 * libsodium's `crypto_box_open_easy`.
 *
 * @returns The plaintext, or `undefined` when the box does not open.
 */
export function open(
  publicKey: Uint8Array,
  secretKey: Uint8Array,
  nonce: Uint8Array,
  box: Uint8Array,
): Uint8Array | undefined {
  const key = boxBeforenm(publicKey, secretKey);
  if (key === undefined) return undefined;
  const plaintext = openAfternm(key, nonce, box);
  key.fill(0);
  return plaintext;
}
