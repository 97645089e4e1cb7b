/**
 * Wire constants and small byte helpers shared by the ZMTP codec: frame flag
 * bits (RFC 23 "Framing"), greeting layout, and the error type the decoders
 * throw for a peer that broke the protocol.
 *
 * @module
 */

/** Frame flag: more frames of this message follow. */
export const FLAG_MORE = 0x01;
/** Frame flag: the size field is 8 octets instead of 1. */
export const FLAG_LONG = 0x02;
/** Frame flag: the frame is a command, not a message frame. */
export const FLAG_COMMAND = 0x04;
/** Size of a ZMTP 3.x greeting. */
export const GREETING_SIZE = 64;
/** Largest integer a frame size may have before it stops being exact in a double. */
export const MAX_SAFE_SIZE = Number.MAX_SAFE_INTEGER;

/** A shared zero-length byte array. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

const encoder = new TextEncoder();

/** Encodes a string as UTF-8. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes bytes as Latin-1, one character per byte (ASCII names never need more). */
/** The data of an ERROR command: a reason of at most 255 octets, length-prefixed (RFC 23). */
export function errorData(reason: string): Uint8Array {
  const text = utf8(reason).subarray(0, 255);
  const data = new Uint8Array(1 + text.length);
  data[0] = text.length;
  data.set(text, 1);
  return data;
}

/** The parts, in order, in a new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** Encodes an ASCII string, one byte per character. */
export function ascii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** Compares `bytes[offset..offset + expected.length]` with `expected`. */
export function bytesEqualAt(bytes: Uint8Array, offset: number, expected: Uint8Array): boolean {
  if (offset + expected.length > bytes.length) return false;
  for (let i = 0; i < expected.length; i++) {
    if (bytes[offset + i] !== expected[i]) return false;
  }
  return true;
}

/** The libzmq error code a protocol violation maps to. */
export type ViolationCode = "EPROTO" | "EMSGSIZE";

/** Thrown by the decoders when the peer sent bytes that break ZMTP. */
export class ProtocolViolation extends Error {
  /** The libzmq error code. */
  readonly code: ViolationCode;
  constructor(reason: string, code: ViolationCode = "EPROTO") {
    super(reason);
    this.name = "ProtocolViolation";
    this.code = code;
  }
}
