/**
 * The codec measurement behind the RPC layer's default: MessagePack
 * (`npm:@msgpack/msgpack`) against FlatBuffers (`npm:flatbuffers`) on
 * representative payloads, each encoding a value and decoding it back to a
 * plain object (what a handler receives). The FlatBuffers codec is written
 * the way `flatc --ts` generates builders and accessors, for the schema:
 *
 * ```fbs
 * table Item { id: uint; name: string; score: double; tags: [string]; blob: [ubyte]; }
 * table Batch { items: [Item]; }
 * ```
 *
 * The JavaScript FlatBuffers library has no verifier: its accessors trust
 * every offset and length in the buffer. These readers check each vector's
 * length against the buffer before looping, so a hostile buffer costs at most
 * its own size in work; a service taking FlatBuffers from untrusted peers
 * needs the same care in every reader.
 *
 * @module
 */

import * as fb from "flatbuffers";
import { type Codec, msgpackCodec } from "../rpc/mod.ts";

/** One representative record. */
export interface Item {
  id: number;
  name: string;
  score: number;
  tags: string[];
  blob: Uint8Array;
}

/** A batch of records (the larger payload). */
export interface Batch {
  items: Item[];
}

function buildItem(b: fb.Builder, v: Item): number {
  const name = b.createString(v.name);
  const tagOffsets = v.tags.map((t) => b.createString(t));
  b.startVector(4, tagOffsets.length, 4);
  for (let i = tagOffsets.length - 1; i >= 0; i--) b.addOffset(tagOffsets[i]);
  const tags = b.endVector();
  const blob = b.createByteVector(v.blob);
  b.startObject(5);
  b.addFieldInt32(0, v.id, 0);
  b.addFieldOffset(1, name, 0);
  b.addFieldFloat64(2, v.score, 0);
  b.addFieldOffset(3, tags, 0);
  b.addFieldOffset(4, blob, 0);
  return b.endObject();
}

function vectorLength(bb: fb.ByteBuffer, at: number, elementSize: number): number {
  const n = bb.__vector_len(at);
  if (n < 0 || n * elementSize > bb.capacity()) {
    throw new RangeError("Vector longer than the buffer");
  }
  return n;
}

function readItem(bb: fb.ByteBuffer, pos: number): Item {
  let o = bb.__offset(pos, 4);
  const id = o ? bb.readUint32(pos + o) : 0;
  o = bb.__offset(pos, 6);
  const name = o ? bb.__string(pos + o) as string : "";
  o = bb.__offset(pos, 8);
  const score = o ? bb.readFloat64(pos + o) : 0;
  o = bb.__offset(pos, 10);
  const tags: string[] = [];
  if (o) {
    const n = vectorLength(bb, pos + o, 4);
    const start = bb.__vector(pos + o);
    for (let i = 0; i < n; i++) tags.push(bb.__string(start + i * 4) as string);
  }
  o = bb.__offset(pos, 12);
  let blob: Uint8Array = new Uint8Array(0);
  if (o) {
    const n = vectorLength(bb, pos + o, 1);
    const start = bb.__vector(pos + o);
    blob = bb.bytes().subarray(start, start + n);
  }
  return { id, name, score, tags, blob };
}

/** A FlatBuffers codec for {@linkcode Item}. */
export function flatbuffersItemCodec(): Codec<Item> {
  const b = new fb.Builder(1024);
  return {
    name: "flatbuffers",
    encode(v) {
      b.clear();
      b.finish(buildItem(b, v));
      return b.asUint8Array().slice();
    },
    decode(bytes) {
      const bb = new fb.ByteBuffer(bytes);
      return readItem(bb, bb.readInt32(bb.position()) + bb.position());
    },
  };
}

/** A FlatBuffers codec for {@linkcode Batch}. */
export function flatbuffersBatchCodec(): Codec<Batch> {
  const b = new fb.Builder(64 * 1024);
  return {
    name: "flatbuffers",
    encode(v) {
      b.clear();
      const offsets = v.items.map((item) => buildItem(b, item));
      b.startVector(4, offsets.length, 4);
      for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
      const items = b.endVector();
      b.startObject(1);
      b.addFieldOffset(0, items, 0);
      b.finish(b.endObject());
      return b.asUint8Array().slice();
    },
    decode(bytes) {
      const bb = new fb.ByteBuffer(bytes);
      const pos = bb.readInt32(bb.position()) + bb.position();
      const o = bb.__offset(pos, 4);
      const items: Item[] = [];
      if (o) {
        const n = vectorLength(bb, pos + o, 4);
        const start = bb.__vector(pos + o);
        for (let i = 0; i < n; i++) {
          const at = start + i * 4;
          items.push(readItem(bb, at + bb.readInt32(at)));
        }
      }
      return { items };
    },
  };
}

/** A small record: 16 B of blob, a short name, three tags. */
export function smallItem(i = 7): Item {
  return {
    id: i,
    name: "sensor-" + i,
    score: 0.5 + i,
    tags: ["a", "bb", "ccc"],
    blob: new Uint8Array(16).fill(i & 0xff),
  };
}

/** A 4 KiB blob record. */
export function blobItem(): Item {
  return { ...smallItem(9), blob: new Uint8Array(4096).fill(9) };
}

/** 100 small records. */
export function batch(): Batch {
  return { items: Array.from({ length: 100 }, (_, i) => smallItem(i)) };
}

/** Round trips per second of `codec` on `value`, measured for about `ms`. */
export function roundTripsPerSecond<T>(codec: Codec<T>, value: T, ms = 400): number {
  for (let i = 0; i < 2000; i++) codec.decode(codec.encode(value)); // warm up
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 500; i++) codec.decode(codec.encode(value));
    n += 500;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

/** Measures both codecs on the three payloads; rows of name, payload, bytes, round trips/s. */
export function measureCodecs(): {
  payload: string;
  codec: string;
  bytes: number;
  perSecond: number;
}[] {
  const rows: { payload: string; codec: string; bytes: number; perSecond: number }[] = [];
  const cases: [string, Codec<unknown>, Codec<unknown>, unknown][] = [
    ["small record", msgpackCodec(), flatbuffersItemCodec() as Codec<unknown>, smallItem()],
    ["4 KiB blob record", msgpackCodec(), flatbuffersItemCodec() as Codec<unknown>, blobItem()],
    ["100 records", msgpackCodec(), flatbuffersBatchCodec() as Codec<unknown>, batch()],
  ];
  for (const [payload, mp, fbc, value] of cases) {
    for (const codec of [mp, fbc]) {
      rows.push({
        payload,
        codec: codec.name,
        bytes: codec.encode(value).length,
        perSecond: roundTripsPerSecond(codec, value),
      });
    }
  }
  return rows;
}

if (import.meta.main) {
  for (const r of measureCodecs()) {
    console.log(
      `${r.payload.padEnd(18)} ${r.codec.padEnd(12)} ${String(r.bytes).padStart(6)} B ` +
        `${Math.round(r.perSecond).toLocaleString("en").padStart(12)} round trips/s`,
    );
  }
}
