/**
 * CURVE's data phase (rfc.zeromq.org spec 26 "MESSAGE", as libzmq 4.3.4's
 * curve_mechanism_base.cpp does it): every frame travels as a MESSAGE
 * command, `\x07MESSAGE`, an 8-octet short nonce and a box of the flags
 * octet and the body. libzmq's nonce prefixes are `CurveZMQMESSAGEC` from the
 * client and `CurveZMQMESSAGES` from the server (not the RFC grammar's), and
 * its flags octet carries MORE as 0x01 and COMMAND as 0x02 (msg_t's bits, not
 * the wire's 0x04). Short nonces must strictly increase: a replayed or
 * reordered MESSAGE ends the connection.
 *
 * @module
 */

import { MAC_SIZE, NONCE_SIZE, openAfternm, sealAfternmInPlace } from "./_curve_crypto.ts";
import { ascii, bytesEqualAt, FLAG_COMMAND, FLAG_MORE, ProtocolViolation } from "./_wire.ts";
import type { FrameCodec } from "./mechanism.ts";

const MESSAGE = ascii("\x07MESSAGE");
const HEADER = MESSAGE.length + 8;
const CURVE_MORE = 0x01;
const CURVE_COMMAND = 0x02;

/** libzmq's MESSAGE nonce prefix from the client. */
export const CLIENT_PREFIX: Uint8Array = ascii("CurveZMQMESSAGEC");
/** libzmq's MESSAGE nonce prefix from the server. */
export const SERVER_PREFIX: Uint8Array = ascii("CurveZMQMESSAGES");

/** Writes a 64-bit big-endian counter (exact below 2^53). */
export function putNonce(out: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / 0x100000000);
  const low = value >>> 0;
  out[offset] = high >>> 24;
  out[offset + 1] = (high >>> 16) & 0xff;
  out[offset + 2] = (high >>> 8) & 0xff;
  out[offset + 3] = high & 0xff;
  out[offset + 4] = low >>> 24;
  out[offset + 5] = (low >>> 16) & 0xff;
  out[offset + 6] = (low >>> 8) & 0xff;
  out[offset + 7] = low & 0xff;
}

function word(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3]) >>> 0;
}

/**
 * The last short nonce seen from the peer, as two 32-bit halves so that any
 * 64-bit value compares exactly.
 */
export class PeerNonce {
  #high = 0;
  #low = 0;

  /** Accepts `bytes[offset..offset+8]` if it is above the last one, and remembers it. */
  advance(bytes: Uint8Array, offset: number): boolean {
    const high = word(bytes, offset);
    const low = word(bytes, offset + 4);
    if (high < this.#high || (high === this.#high && low <= this.#low)) return false;
    this.#high = high;
    this.#low = low;
    return true;
  }
}

/** Encrypts and decrypts data-phase frames with the connection's precomputed key. */
export class CurveCodec implements FrameCodec {
  #key: Uint8Array;
  #sendNonce = new Uint8Array(NONCE_SIZE);
  #receiveNonce = new Uint8Array(NONCE_SIZE);
  #next: number;
  #peer: PeerNonce;

  /**
   * @param key The `beforenm` key of the two short-term keys.
   * @param asServer Which prefix we send with.
   * @param next Our next short nonce.
   * @param peer The peer's nonce so far (HELLO/INITIATE or READY).
   */
  constructor(key: Uint8Array, asServer: boolean, next: number, peer: PeerNonce) {
    this.#key = key;
    this.#sendNonce.set(asServer ? SERVER_PREFIX : CLIENT_PREFIX);
    this.#receiveNonce.set(asServer ? CLIENT_PREFIX : SERVER_PREFIX);
    this.#next = next;
    this.#peer = peer;
  }

  wrap(flags: number, body: Uint8Array): Uint8Array {
    // One allocation and one copy of the body: the flags octet and the body are
    // written where the ciphertext goes and sealed in place; the command name
    // and short nonce then overwrite the cipher's zeroed scratch (HEADER is 16).
    const out = new Uint8Array(HEADER + MAC_SIZE + 1 + body.length);
    out[HEADER + MAC_SIZE] = (flags & FLAG_MORE ? CURVE_MORE : 0) |
      (flags & FLAG_COMMAND ? CURVE_COMMAND : 0);
    out.set(body, HEADER + MAC_SIZE + 1);
    const nonce = this.#sendNonce;
    putNonce(nonce, 16, this.#next++);
    sealAfternmInPlace(this.#key, nonce, out);
    out.set(MESSAGE);
    out.set(nonce.subarray(16), MESSAGE.length);
    return out;
  }

  unwrap(_flags: number, body: Uint8Array): Uint8Array {
    if (!bytesEqualAt(body, 0, MESSAGE)) {
      throw new ProtocolViolation("Expected a CURVE MESSAGE command");
    }
    if (body.length < HEADER + MAC_SIZE + 1) {
      throw new ProtocolViolation("Malformed CURVE MESSAGE command");
    }
    if (!this.#peer.advance(body, MESSAGE.length)) {
      throw new ProtocolViolation("CURVE MESSAGE nonce did not increase: replayed or reordered");
    }
    const nonce = this.#receiveNonce;
    nonce.set(body.subarray(MESSAGE.length, HEADER), 16);
    const plain = openAfternm(this.#key, nonce, body.subarray(HEADER));
    if (plain === undefined) {
      throw new ProtocolViolation("CURVE MESSAGE failed authentication: tampered or wrong key");
    }
    const flags = plain[0];
    plain[0] = (flags & CURVE_MORE ? FLAG_MORE : 0) | (flags & CURVE_COMMAND ? FLAG_COMMAND : 0);
    return plain;
  }
}
