/**
 * CURVE key handling: new key pairs (libzmq `zmq_curve_keypair`), the public
 * key of a secret key (`zmq_curve_public`), and the check every API taking a
 * key applies: 32 raw octets or 40 Z85 characters.
 *
 * @module
 */

import { boxKeyPair, KEY_SIZE, publicKeyOf } from "./_curve_crypto.ts";
import { z85Decode, z85Encode } from "./z85.ts";

/**
 * A CURVE key pair as 40-character Z85 strings, the form libzmq's
 * `zmq_curve_keypair` and pyzmq's `zmq.curve_keypair()` produce.
 *
 * @example
 * ```ts
 * import { curveKeyPair, type CurveKeyPair } from "@monocoque/zmtp";
 *
 * const pair: CurveKeyPair = curveKeyPair();
 * ```
 */
export interface CurveKeyPair {
  /** The public key: give it to peers. */
  publicKey: string;
  /** The secret key: keep it to yourself. */
  secretKey: string;
}

/**
 * Generates a CURVE (X25519) key pair from WebCrypto randomness, like
 * libzmq's `zmq_curve_keypair`.
 *
 * @returns The keys as 40-character Z85 strings.
 *
 * @example
 * ```ts
 * import { curveKeyPair } from "@monocoque/zmtp";
 * import assert from "node:assert/strict";
 *
 * const { publicKey, secretKey } = curveKeyPair();
 * assert.equal(publicKey.length, 40);
 * assert.notEqual(publicKey, secretKey);
 * ```
 */
export function curveKeyPair(): CurveKeyPair {
  const { publicKey, secretKey } = boxKeyPair();
  const pair = { publicKey: z85Encode(publicKey), secretKey: z85Encode(secretKey) };
  secretKey.fill(0);
  return pair;
}

/**
 * Derives the public key of a CURVE secret key, like libzmq's `zmq_curve_public`.
 *
 * @param secretKey The secret key: 32 octets or 40 Z85 characters.
 * @returns The public key as a 40-character Z85 string.
 * @throws {TypeError} If the key is neither a `Uint8Array` nor a string, or holds a non-Z85 character.
 * @throws {RangeError} If the key has the wrong length.
 *
 * @example
 * ```ts
 * import { curveKeyPair, curvePublicKey } from "@monocoque/zmtp";
 * import assert from "node:assert/strict";
 *
 * const pair = curveKeyPair();
 * assert.equal(curvePublicKey(pair.secretKey), pair.publicKey);
 * ```
 */
export function curvePublicKey(secretKey: Uint8Array | string): string {
  const secret = toCurveKey(secretKey, "secretKey");
  const publicKey = z85Encode(publicKeyOf(secret));
  secret.fill(0);
  return publicKey;
}

/**
 * Checks a CURVE key and returns a copy of its 32 octets.
 *
 * @param key 32 octets or 40 Z85 characters.
 * @param name The option's name, for the error message.
 * @returns A new 32-octet array.
 * @throws {TypeError} If the key is neither a `Uint8Array` nor a string, or holds a non-Z85 character.
 * @throws {RangeError} If the key has the wrong length.
 *
 * @example
 * ```ts
 * import { curveKeyPair, toCurveKey } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toCurveKey(curveKeyPair().publicKey, "publicKey").length, 32);
 * assert.throws(() => toCurveKey("short", "publicKey"), RangeError);
 * ```
 */
export function toCurveKey(key: Uint8Array | string, name: string): Uint8Array {
  if (typeof key === "string") {
    if (key.length !== 40) {
      throw new RangeError(`Option ${name} must be 40 Z85 characters, got ${key.length}`);
    }
    try {
      return z85Decode(key);
    } catch (error) {
      throw new TypeError(`Option ${name} is not valid Z85: ${(error as Error).message}`);
    }
  }
  if (!(key instanceof Uint8Array)) {
    throw new TypeError(`Option ${name} must be a Uint8Array or a Z85 string`);
  }
  if (key.length !== KEY_SIZE) {
    throw new RangeError(`Option ${name} must be ${KEY_SIZE} octets, got ${key.length}`);
  }
  return key.slice();
}
