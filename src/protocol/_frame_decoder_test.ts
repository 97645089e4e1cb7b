import assert from "node:assert/strict";
import { BROKEN, FRAME, FrameDecoder, NEED_MORE } from "./_frame_decoder.ts";

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
