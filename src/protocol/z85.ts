/**
 * Z85 (rfc.zeromq.org spec 32/Z85): the printable encoding ZeroMQ uses for
 * CURVE keys, 5 characters for every 4 octets. A 32-octet key is 40
 * characters.
 *
 * @module
 */

const ALPHABET =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

// Character code to digit; -1 for characters outside the alphabet.
const DIGITS = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGITS[ALPHABET.charCodeAt(i)] = i;

/**
 * Encodes bytes as Z85 (libzmq `zmq_z85_encode`).
 *
 * @param data The bytes; their length must be a multiple of 4.
 * @returns The Z85 text, 5 characters per 4 octets.
 * @throws {RangeError} If the length is not a multiple of 4.
 *
 * @example The test vector of spec 32
 * ```ts
 * import { z85Encode } from "@monocoque/zmtp";
 * import assert from "node:assert/strict";
 *
 * const bytes = Uint8Array.of(0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b);
 * assert.equal(z85Encode(bytes), "HelloWorld");
 * ```
 */
export function z85Encode(data: Uint8Array): string {
  if (!(data instanceof Uint8Array)) throw new TypeError("Z85 input must be a Uint8Array");
  if (data.length % 4 !== 0) {
    throw new RangeError(`Z85 input length must be a multiple of 4, got ${data.length}`);
  }
  let text = "";
  for (let i = 0; i < data.length; i += 4) {
    let value = (data[i] * 0x1000000) + ((data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]);
    const chars = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      chars[j] = ALPHABET[value % 85];
      value = Math.floor(value / 85);
    }
    text += chars.join("");
  }
  return text;
}

/**
 * Decodes Z85 text (libzmq `zmq_z85_decode`).
 *
 * @param text The Z85 text; its length must be a multiple of 5.
 * @returns The bytes, 4 octets per 5 characters.
 * @throws {RangeError} If the length is not a multiple of 5, or a group of 5
 * characters is larger than 32 bits.
 * @throws {TypeError} If the text is not a string or holds a character outside
 * the Z85 alphabet.
 *
 * @example
 * ```ts
 * import { z85Decode } from "@monocoque/zmtp";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   z85Decode("HelloWorld"),
 *   Uint8Array.of(0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b),
 * );
 * assert.throws(() => z85Decode("#####"), RangeError); // 85^5 - 1 does not fit in 32 bits
 * ```
 */
export function z85Decode(text: string): Uint8Array {
  if (typeof text !== "string") throw new TypeError("Z85 input must be a string");
  if (text.length % 5 !== 0) {
    throw new RangeError(`Z85 input length must be a multiple of 5, got ${text.length}`);
  }
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const digit = code < 128 ? DIGITS[code] : -1;
      if (digit < 0) {
        throw new TypeError(`Invalid Z85 character at position ${i + j}`);
      }
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) {
      throw new RangeError(`Z85 group at position ${i} is larger than 32 bits`);
    }
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}
