/**
 * The codec seam of the RPC layer: a {@linkcode Codec} turns one request or
 * response value into the payload frame and back. {@linkcode msgpackCodec} is
 * the default (MessagePack through `npm:@msgpack/msgpack`, measured faster
 * than FlatBuffers for whole-value encoding and decoding here: `deno task bench:rpc`), with
 * an optional guard that checks the decoded value against its schema;
 * {@linkcode rawCodec} passes bytes through, for peers that bring their own
 * encoding. A FlatBuffers codec is a {@linkcode Codec} too (bench/_rpc_codecs.ts
 * has one), since FlatBuffers needs per-schema builder code.
 *
 * @module
 */

import { Decoder, Encoder } from "@msgpack/msgpack";

/**
 * Encodes values of one type to bytes and back. `decode` throws on bytes that
 * are not a valid value; the server answers `INVALID_ARGUMENT` for a request
 * that does not decode, the client fails the call with `INTERNAL` for a
 * response that does not.
 *
 * @typeParam T The value type.
 */
export interface Codec<T> {
  /** A name for diagnostics, e.g. `"msgpack"`. */
  readonly name: string;
  /**
   * Encodes a value.
   *
   * @param value The value.
   * @returns Its bytes, owned by the caller: they are queued for sending, so a codec that
   *   reuses a buffer returns a copy of it.
   */
  encode(value: T): Uint8Array;
  /**
   * Decodes a value, throwing when the bytes are not one.
   *
   * @param bytes The bytes.
   * @returns The value.
   */
  decode(bytes: Uint8Array): T;
}

/** Options of {@linkcode msgpackCodec}. */
export interface MsgpackCodecOptions<T> {
  /**
   * The schema check: a type guard run on every decoded value; a value it
   * refuses fails decoding with a `TypeError`. Without one, any MessagePack
   * value is accepted as `T`.
   */
  guard?: (value: unknown) => value is T;
  /** Largest string, binary, array or map length accepted; default 16 MiB. */
  maxLength?: number;
}

/**
 * A MessagePack codec. Decoding is iterative (no recursion an input can drive
 * deep) and refuses lengths beyond `maxLength`.
 *
 * @typeParam T The value type.
 * @param options A schema guard and a length limit.
 * @returns The codec.
 *
 * @example A codec with a schema guard
 * ```ts
 * import { msgpackCodec } from "@monocoque/zmtp/rpc";
 *
 * const point = msgpackCodec<{ x: number; y: number }>({
 *   guard: (v): v is { x: number; y: number } =>
 *     typeof v === "object" && v !== null && typeof (v as { x: unknown }).x === "number" &&
 *     typeof (v as { y: unknown }).y === "number",
 * });
 * const bytes = point.encode({ x: 1, y: 2 });
 * console.assert(point.decode(bytes).y === 2);
 * ```
 */
export function msgpackCodec<T = unknown>(options: MsgpackCodecOptions<T> = {}): Codec<T> {
  const max = options.maxLength ?? 16 * 1024 * 1024;
  const guard = options.guard;
  // One encoder and decoder per codec: they reuse their buffers, which is
  // most of MessagePack's speed on small values.
  const encoder = new Encoder({ ignoreUndefined: true });
  const decoder = new Decoder({
    maxStrLength: max,
    maxBinLength: max,
    maxArrayLength: max,
    maxMapLength: max,
    maxExtLength: max,
  });
  return {
    name: "msgpack",
    encode: (value) => encoder.encode(value),
    decode(bytes) {
      const value = decoder.decode(bytes);
      if (guard !== undefined && !guard(value)) {
        throw new TypeError("Decoded value does not match the schema");
      }
      return value as T;
    },
  };
}

/**
 * The identity codec: payloads are the bytes themselves. It lets a peer with
 * no MessagePack library (a bare pyzmq script) call a method or serve one.
 *
 * @example
 * ```ts
 * import { rawCodec } from "@monocoque/zmtp/rpc";
 *
 * const bytes = new Uint8Array([1, 2, 3]);
 * console.assert(rawCodec.decode(rawCodec.encode(bytes)) === bytes);
 * ```
 */
export const rawCodec: Codec<Uint8Array> = {
  name: "raw",
  encode: (value) => value,
  decode: (bytes) => bytes,
};
