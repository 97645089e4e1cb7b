import assert from "node:assert/strict";
import { BROKEN, FRAME, FrameDecoder, NEED_MORE, runSize, VIEW_LIMIT } from "./_frame_decoder.ts";

function collect(decoder: FrameDecoder, chunks: Uint8Array[]): [number, number[]][] {
  const frames: [number, number[]][] = [];
  for (const chunk of chunks) {
    decoder.feed(chunk, 0);
    for (let r = decoder.next(); r !== NEED_MORE; r = decoder.next()) {
      assert.equal(r, FRAME, decoder.error);
      frames.push([decoder.flags, [...decoder.body]]);
    }
  }
  return frames;
}

Deno.test("FrameDecoder decodes short and long frames and ignores reserved flag bits", () => {
  const long = new Uint8Array(9 + 300);
  long.set([0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x2c]);
  const stream = Uint8Array.from([0x01, 2, 7, 8, 0xf0, 0, ...long]);
  const frames = collect(new FrameDecoder(Infinity), [stream]);
  assert.deepEqual(frames.map(([flags, body]) => [flags, body.length]), [[1, 2], [0xf0, 0], [
    2,
    300,
  ]]);
});

Deno.test("FrameDecoder reassembles a long header and body split byte by byte", () => {
  const stream = new Uint8Array(9 + 2_000_000);
  stream.set([0x02, 0, 0, 0, 0, 0, 0x1e, 0x84, 0x80]);
  stream[stream.length - 1] = 42;
  const decoder = new FrameDecoder(Infinity);
  for (let i = 0; i < 20; i++) {
    decoder.feed(stream.subarray(i, i + 1), 0);
    assert.equal(decoder.next(), NEED_MORE);
  }
  decoder.feed(stream.subarray(20), 0);
  assert.equal(decoder.next(), FRAME);
  assert.equal(decoder.body.length, 2_000_000);
  assert.equal(decoder.body[1_999_999], 42);
});

Deno.test("FrameDecoder applies maxMessageSize per frame and rejects sizes from 2^53", () => {
  const decoder = new FrameDecoder(10);
  decoder.feed(Uint8Array.of(0, 10, ...new Uint8Array(10), 0, 11), 0);
  assert.equal(decoder.next(), FRAME);
  assert.equal(decoder.next(), BROKEN);
  assert.equal(decoder.errorCode, "EMSGSIZE");
  const huge = new FrameDecoder(Infinity);
  huge.feed(Uint8Array.of(2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0);
  assert.equal(huge.next(), BROKEN);
  assert.match(huge.error, /2\^53/);
});

/** A frame's wire bytes: short or long header, then the body. */
function wire(flags: number, body: Uint8Array): Uint8Array {
  const header = body.length <= 255 ? Uint8Array.of(flags, body.length) : Uint8Array.of(
    flags | 2,
    0,
    0,
    0,
    0,
    ...new Uint8Array(new Uint32Array([body.length]).buffer).reverse(),
  );
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("FrameDecoder copies frames under VIEW_LIMIT, a run at a time, and hands out views of larger ones", () => {
  const sizes = [0, 10, 64, 65, 200, 300, 5000, VIEW_LIMIT - 1, VIEW_LIMIT, 100_000];
  const bodies = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
  const chunk = concat(...bodies.map((b) => wire(0, b)));
  const decoder = new FrameDecoder(Infinity);
  decoder.feed(chunk, 0);
  for (const body of bodies) {
    assert.equal(decoder.next(), FRAME);
    assert.deepEqual(decoder.body, body);
    const run = runSize(body.length);
    if (run === 0) {
      assert.equal(decoder.body.buffer, chunk.buffer, `${body.length} B: a view`);
    } else {
      assert.notEqual(decoder.body.buffer, chunk.buffer, `${body.length} B: a copy`);
      assert.ok(decoder.body.buffer.byteLength <= run, `${body.length} B: pins at most its run`);
    }
  }
  assert.equal(decoder.next(), NEED_MORE);
  assert.equal(decoder.retainsChunk, true);
});

Deno.test("FrameDecoder shares one copy among a run of small frames and retains no chunk for them", () => {
  const chunk = concat(...Array.from({ length: 1000 }, (_, i) => wire(0, Uint8Array.of(i & 0xff))));
  const decoder = new FrameDecoder(Infinity);
  decoder.feed(chunk, 0);
  const buffers = new Set<ArrayBufferLike>();
  for (let i = 0; i < 1000; i++) {
    assert.equal(decoder.next(), FRAME);
    assert.equal(decoder.body[0], i & 0xff);
    buffers.add(decoder.body.buffer);
  }
  assert.equal(buffers.size, 1, "3000 octets fit one 8 KiB run");
  assert.equal(decoder.retainsChunk, false);
  // A small frame followed by a large one is copied alone, into the shared
  // slab: keeping it pins 8 KiB at most, never the chunk or the large frame.
  const alone = new FrameDecoder(Infinity);
  const mixed = concat(wire(0, new Uint8Array(10)), wire(0, new Uint8Array(200_000)));
  alone.feed(mixed, 0);
  assert.equal(alone.next(), FRAME);
  assert.notEqual(alone.body.buffer, mixed.buffer);
  assert.ok(alone.body.buffer.byteLength <= 8192);
});

Deno.test("FrameDecoder copies short runs of successive chunks into one slab and never overwrites them", () => {
  const decoder = new FrameDecoder(Infinity);
  const chunk = new Uint8Array(2 + 16);
  const kept: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    // The caller reuses its read buffer, as the socket layer does.
    chunk.set(wire(0, new Uint8Array(16).fill(i & 0xff)));
    decoder.feed(chunk, 0);
    assert.equal(decoder.next(), FRAME);
    kept.push(decoder.body);
    assert.equal(decoder.next(), NEED_MORE);
    assert.equal(decoder.retainsChunk, false);
  }
  for (let i = 0; i < 1000; i++) assert.deepEqual(kept[i], new Uint8Array(16).fill(i & 0xff));
  const slabs = new Set(kept.map((f) => f.buffer));
  assert.ok(slabs.size <= 4, `${slabs.size} buffers for 1000 frames of 16 octets`);
  for (const b of slabs) assert.ok(b.byteLength <= 8192);
  // Frames over 256 octets (up to 16 KiB a run) share 64 KiB slabs, the bound of their run.
  const big = new Uint8Array(9 + 4096);
  const bigKept: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    big.set(wire(0, new Uint8Array(4096).fill(i)));
    decoder.feed(big, 0);
    assert.equal(decoder.next(), FRAME);
    bigKept.push(decoder.body);
  }
  for (let i = 0; i < 40; i++) assert.deepEqual(bigKept[i], new Uint8Array(4096).fill(i));
  for (const f of bigKept) assert.ok(f.buffer.byteLength <= runSize(4096));
  assert.ok(new Set(bigKept.map((f) => f.buffer)).size <= 3);
});

Deno.test("FrameDecoder copies a chunk fed again afresh: a run never outlives its chunk", () => {
  const decoder = new FrameDecoder(Infinity);
  const chunk = concat(wire(0, text3("abc")), wire(0, text3("def")));
  decoder.feed(chunk, 0);
  assert.equal(decoder.next(), FRAME);
  const first = decoder.body;
  assert.equal(decoder.next(), FRAME);
  assert.equal(decoder.next(), NEED_MORE);
  assert.equal(decoder.retainsChunk, false);
  // Nothing was retained, so the caller may read into the same array again.
  chunk.set(concat(wire(0, text3("uvw")), wire(0, text3("xyz"))));
  decoder.feed(chunk, 0);
  assert.equal(decoder.next(), FRAME);
  assert.deepEqual([...decoder.body], [...text3("uvw")]);
  assert.equal(decoder.next(), FRAME);
  assert.deepEqual([...decoder.body], [...text3("xyz")]);
  assert.deepEqual([...first], [...text3("abc")]);
});

function text3(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

Deno.test("FrameDecoder keeps a large frame's first pieces and allocates its declared size once", () => {
  const size = 64 << 20;
  const head = Uint8Array.of(2, 0, 0, 0, 0, 0x04, 0, 0, 0);
  const piece = 256 * 1024;
  // Chunks made up front, so the measure below sees only what the decoder allocates.
  const chunks = Array.from({ length: size / piece / 4 }, () => new Uint8Array(piece).fill(7));
  const reused = new Uint8Array(piece).fill(7);
  const decoder = new FrameDecoder(Infinity);
  decoder.feed(head, 0);
  assert.equal(decoder.next(), NEED_MORE);
  const base = Deno.memoryUsage().external;
  let peak = 0;
  for (let i = 0; i * piece < size; i++) {
    const chunk = i < chunks.length ? chunks[i] : reused;
    decoder.feed(chunk, 0);
    const result = decoder.next();
    peak = Math.max(peak, Deno.memoryUsage().external - base);
    if (i < chunks.length - 1) {
      assert.equal(decoder.retainsChunk, true, "a piece kept as a view, not copied");
      assert.ok(peak < size / 8, "nothing allocated before a quarter arrived");
    }
    if (i >= chunks.length) assert.equal(decoder.retainsChunk, false, "later chunks copied in");
    assert.equal(result, (i + 1) * piece < size ? NEED_MORE : FRAME);
  }
  assert.equal(decoder.body.length, size);
  assert.equal(decoder.body.buffer.byteLength, size, "one buffer of the declared size");
  assert.equal(decoder.body[size - 1], 7);
  // Doubling peaked at 2x (and copied up to twice); the pieces' views add nothing.
  assert.ok(peak <= size * 1.1, `peak ${peak} octets for a ${size}-octet frame`);
});

Deno.test("FrameDecoder never allocates a declared size before a quarter of it arrived", () => {
  const head = Uint8Array.of(2, 0, 0, 0, 0x40, 0, 0, 0, 0); // 1 GiB declared
  const chunks = Array.from({ length: 16 }, () => new Uint8Array(256 * 1024));
  const decoder = new FrameDecoder(Infinity);
  decoder.feed(head, 0);
  decoder.next();
  const base = Deno.memoryUsage().external;
  for (const chunk of chunks) {
    decoder.feed(chunk, 0);
    assert.equal(decoder.next(), NEED_MORE);
  }
  const grown = Deno.memoryUsage().external - base;
  assert.ok(grown < 1 << 20, `${grown} octets allocated for 4 MiB received`);
});
