/**
 * The RPC envelope (rpc/SPEC.md) as pure functions: the kind frames, ASCII
 * decimal numbers written and read without a TextEncoder, and the parse of
 * an incoming call, cancel or credit message with every length bounded. No
 * sockets here.
 *
 * @module
 */

const encoder = new TextEncoder();

/** The kind frames, pre-encoded. */
export const KIND_CALL: Uint8Array<ArrayBuffer> = encoder.encode("call");
export const KIND_CANCEL: Uint8Array<ArrayBuffer> = encoder.encode("cancel");
export const KIND_CREDIT: Uint8Array<ArrayBuffer> = encoder.encode("credit");
export const KIND_DATA: Uint8Array<ArrayBuffer> = encoder.encode("data");
export const KIND_END: Uint8Array<ArrayBuffer> = encoder.encode("end");
/** An empty frame. */
export const EMPTY: Uint8Array<ArrayBuffer> = new Uint8Array(0);

/** Longest call id, in bytes. */
export const MAX_CALL_ID = 32;
/** Longest method name, in bytes (`service/method`). */
export const MAX_METHOD = 201;
/** Most digits of a number frame: up to 10^15 - 1, exact in a double. */
const MAX_DIGITS = 15;

/** The kinds of messages. */
export type Kind = "call" | "cancel" | "credit" | "data" | "end";

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The kind a frame names, or undefined. */
export function kindOf(frame: Uint8Array): Kind | undefined {
  switch (frame.length) {
    case 3:
      return same(frame, KIND_END) ? "end" : undefined;
    case 4:
      return same(frame, KIND_CALL) ? "call" : same(frame, KIND_DATA) ? "data" : undefined;
    case 6:
      return same(frame, KIND_CANCEL) ? "cancel" : same(frame, KIND_CREDIT) ? "credit" : undefined;
    default:
      return undefined;
  }
}

/**
 * Reads an ASCII decimal frame. Returns -1 for an empty frame (absent) and
 * -2 for anything that is not 1 to 15 digits.
 */
export function readDecimal(frame: Uint8Array): number {
  const n = frame.length;
  if (n === 0) return -1;
  if (n > MAX_DIGITS) return -2;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = frame[i] - 48;
    if (d < 0 || d > 9) return -2;
    v = v * 10 + d;
  }
  return v;
}

const SMALL: Uint8Array<ArrayBuffer>[] = Array.from(
  { length: 100 },
  (_, i) => encoder.encode(String(i)),
);

/** Writes a non-negative integer as an ASCII decimal frame. */
export function decimal(n: number): Uint8Array<ArrayBuffer> {
  if (n < 100) return SMALL[n];
  let digits = 3;
  for (let limit = 1000; n >= limit && digits < 16; limit *= 10) digits++;
  const out = new Uint8Array(digits);
  for (let i = digits - 1; i >= 0; i--) {
    const q = Math.floor(n / 10);
    out[i] = 48 + n - q * 10;
    n = q;
  }
  return out;
}

/** A parsed request from a client. */
export type Incoming =
  | {
    kind: "call";
    id: Uint8Array;
    method: Uint8Array;
    /** ms, or -1 for none. */
    timeout: number;
    /** Initial stream credit, or -1 for the default. */
    credit: number;
    payload: Uint8Array;
  }
  | { kind: "cancel"; id: Uint8Array }
  | { kind: "credit"; id: Uint8Array; credit: number };

/**
 * Parses the frames of a client message (after the routing id and an
 * optional empty delimiter). Returns a reason string for a malformed one.
 */
export function parseIncoming(frames: Uint8Array[], start: number): Incoming | string {
  const count = frames.length - start;
  if (count < 2) return "too few frames";
  const kind = kindOf(frames[start]);
  const id = frames[start + 1];
  if (id.length === 0 || id.length > MAX_CALL_ID) return "call id must be 1 to 32 bytes";
  switch (kind) {
    case "call": {
      if (count !== 6) return "a call has 6 frames";
      const method = frames[start + 2];
      if (method.length === 0 || method.length > MAX_METHOD) return "method name too long";
      const timeout = readDecimal(frames[start + 3]);
      if (timeout === -2) return "timeout is not a decimal number";
      const credit = readDecimal(frames[start + 4]);
      if (credit === -2) return "credit is not a decimal number";
      return { kind, id, method, timeout, credit, payload: frames[start + 5] };
    }
    case "cancel":
      return count === 2 ? { kind, id } : "a cancel has 2 frames";
    case "credit": {
      if (count !== 3) return "a credit has 3 frames";
      const credit = readDecimal(frames[start + 2]);
      return credit < 0 ? "credit is not a decimal number" : { kind, id, credit };
    }
    default:
      return "unknown message kind";
  }
}

/** A parsed reply from a server. */
export type Outgoing =
  | { kind: "data"; id: number; payload: Uint8Array }
  | { kind: "end"; id: number; status: number; message: Uint8Array; payload: Uint8Array };

/**
 * Parses the frames of a server message as the client sees them (call ids
 * are this client's decimal counters). Returns undefined for a malformed one.
 */
export function parseOutgoing(frames: Uint8Array[]): Outgoing | undefined {
  if (frames.length < 3) return undefined;
  const id = readDecimal(frames[1]);
  if (id < 0) return undefined;
  const kind = kindOf(frames[0]);
  if (kind === "data" && frames.length === 3) return { kind, id, payload: frames[2] };
  if (kind === "end" && frames.length === 5) {
    const status = readDecimal(frames[2]);
    if (status < 0) return undefined;
    return { kind, id, status, message: frames[3], payload: frames[4] };
  }
  return undefined;
}
