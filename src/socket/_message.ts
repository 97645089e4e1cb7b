/**
 * Conversion of what users pass to `send()` into frames; internal.
 *
 * @module
 */

/** One message as received: one `Uint8Array` per frame. */
export type Message = Uint8Array[];

/** One frame as accepted by `send()`. */
export type FrameLike = string | Uint8Array | ArrayBuffer;

/** What `send()` accepts: one frame or an array of frames (multipart). */
export type MessageLike = FrameLike | readonly FrameLike[];

const encoder = new TextEncoder();

function frame(f: FrameLike): Uint8Array {
  if (f instanceof Uint8Array) return f;
  if (typeof f === "string") return encoder.encode(f);
  if (f instanceof ArrayBuffer) return new Uint8Array(f);
  if (ArrayBuffer.isView(f)) {
    const v = f as ArrayBufferView;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  throw new TypeError(
    `A frame must be a string, Uint8Array or ArrayBuffer, got ${f === null ? "null" : typeof f}`,
  );
}

/** Normalises a message; throws `TypeError` on anything else. */
export function toFrames(message: MessageLike): Message {
  if (Array.isArray(message)) {
    const n = message.length;
    if (n === 0) throw new TypeError("A message needs at least one frame");
    const out: Uint8Array[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = frame(message[i]);
    return out;
  }
  return [frame(message as FrameLike)];
}

/** A topic or welcome message as bytes; `TypeError` for anything else. */
export function topicBytes(topic: string | Uint8Array): Uint8Array {
  if (typeof topic === "string") return encoder.encode(topic);
  if (topic instanceof Uint8Array) return topic;
  throw new TypeError("A topic must be a string or Uint8Array");
}
