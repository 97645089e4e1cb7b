import assert from "node:assert/strict";
import { CHUNK_SIZE, KEEP_SIZE, OutputBuffer } from "./_output_buffer.ts";

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

/** Bytes of backing store a view pins beyond its own. */
function slack(view: Uint8Array): number {
  return view.buffer.byteLength - view.length;
}

Deno.test("OutputBuffer lets go of a large chunk after a batch: idle sessions hold little", () => {
  const out = new OutputBuffer();
  const body = new Uint8Array(4000);
  for (let i = 0; i < 40; i++) out.writeFrame(0, undefined, body);
  out.take();
  assert.ok(out.retained <= KEEP_SIZE, `retained ${out.retained}`);
  // A small batch afterwards starts small again, not at the old peak.
  out.writeFrame(0, undefined, Uint8Array.of(1));
  out.take();
  assert.ok(out.retained <= KEEP_SIZE);
});

Deno.test("OutputBuffer hands out views that pin at most about their own size", () => {
  const out = new OutputBuffer();
  const sizes = [7000, 100, 20_000, 3, 8000, 60_000, 50, 1000];
  for (const n of sizes) {
    // One batch of n bytes of small frames, then one of a few bytes.
    for (let left = n; left > 0; left -= 1000) {
      out.writeFrame(0, undefined, new Uint8Array(Math.min(1000, left)));
    }
    for (const view of out.take()) {
      assert.ok(
        slack(view) <= Math.max(8 * 1024, view.length),
        `${view.length} in ${view.buffer.byteLength}`,
      );
    }
    out.writeFrame(0, undefined, Uint8Array.of(1));
    for (const view of out.take()) {
      assert.ok(slack(view) <= 8 * 1024, `${view.length} in ${view.buffer.byteLength}`);
    }
  }
});

Deno.test("OutputBuffer sizes the next batch's chunk to the last batch: one view per steady batch", () => {
  const out = new OutputBuffer();
  const body = new Uint8Array(100);
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 200; i++) out.writeFrame(0, undefined, body);
    const views = out.take();
    if (round > 0) assert.equal(views.length, 1);
    assert.equal(views.reduce((n, v) => n + v.length, 0), 200 * 102);
  }
});
