/**
 * RADIO/DISH groups (rfc.zeromq.org spec 48): checked and keyed; internal.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * The longest group, in bytes: 15, as spec 48 and the issue that asked for
 * RADIO/DISH say (libzmq's ZMQ_GROUP_MAX_LENGTH before 4.3.3). libzmq 4.3.3
 * and later allow 255: such a libzmq peer's longer groups are refused here
 * (a JOIN drops that peer, a datagram is dropped with an event).
 */
export const GROUP_MAX_LENGTH = 15;

/** A group as bytes; `TypeError` for a non-group, `RangeError` over 15 bytes (libzmq EINVAL). */
export function groupBytes(group: string | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (typeof group === "string") bytes = encoder.encode(group);
  else if (group instanceof Uint8Array) bytes = group;
  else throw new TypeError("A group must be a string or Uint8Array");
  if (bytes.length > GROUP_MAX_LENGTH) {
    throw new RangeError(`A group is at most ${GROUP_MAX_LENGTH} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** A group as a Map/Set key: one char per byte, so groups match exactly, byte for byte. */
export function groupKey(group: Uint8Array): string {
  return String.fromCharCode(...group);
}
