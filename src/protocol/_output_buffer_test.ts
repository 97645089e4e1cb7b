import assert from "node:assert/strict";
import { CHUNK_SIZE, OutputBuffer } from "./_output_buffer.ts";

Deno.test("OutputBuffer bump-allocates: later writes continue after what was taken", () => {
  const out = new OutputBuffer();
  out.writeFrame(0, undefined, Uint8Array.of(1));
  const [first] = out.take();
  out.writeFrame(0, undefined, Uint8Array.of(2));
  const [second] = out.take();
  assert.equal(first.buffer, second.buffer);
  assert.equal(second.byteOffset, first.byteOffset + first.length);
  assert.deepEqual([...first, ...second], [0, 1, 1, 0, 1, 2]);
});

Deno.test("OutputBuffer starts a new, larger chunk when the current one is full", () => {
  const out = new OutputBuffer();
  const body = new Uint8Array(8000);
  for (let i = 0; i < 30; i++) out.writeFrame(0, undefined, body);
  const chunks = out.take();
  assert.ok(chunks.length >= 2);
  assert.ok(chunks.every((c) => c.length <= CHUNK_SIZE));
  assert.equal(chunks.reduce((n, c) => n + c.length, 0), 30 * 8009);
  // Chunks grow to full size under load: the last ones are near CHUNK_SIZE.
  assert.ok(chunks[chunks.length - 2].length > CHUNK_SIZE - 8009);
});

Deno.test("OutputBuffer writes a prefix and a long header", () => {
  const out = new OutputBuffer();
  out.writeFrame(4, Uint8Array.of(9, 9), new Uint8Array(254));
  const [chunk] = out.take();
  assert.deepEqual([...chunk.subarray(0, 11)], [6, 0, 0, 0, 0, 0, 0, 1, 0, 9, 9]);
});
