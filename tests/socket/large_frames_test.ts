/**
 * Frames of 64 KiB and more are handed out as views of the read buffer (see
 * src/protocol/_frame_decoder.ts VIEW_LIMIT), so the pipe must never read over
 * a buffer whose views are still queued. A regression test for a bug where a
 * read that produced no views let the next read start again at the front of
 * the buffer, overwriting earlier large frames still waiting in a paused
 * peer's queue.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PullSocket, PushSocket } from "../../mod.ts";
import { bindAny, eachTransport, handshakes, recv, WAIT, withTimeout } from "./_helpers.ts";

const COUNT = 300;

/** A frame of `size` octets whose every octet depends on `i`. */
function payload(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  const seed = (i * 2654435761) >>> 0;
  for (let k = 0; k < size; k++) b[k] = (seed >>> (k & 24)) + k;
  return b;
}

function intact(frame: Uint8Array, i: number): boolean {
  const seed = (i * 2654435761) >>> 0;
  for (let k = 0; k < frame.length; k++) {
    if (frame[k] !== (((seed >>> (k & 24)) + k) & 0xff)) return false;
  }
  return true;
}

for (const size of [64 * 1024, 100 * 1024, 65536 + 7]) {
  eachTransport(
    `PullSocket keeps ${size}-octet frames intact while reading pauses at a small high-water mark`,
    async (t) => {
      if (t === "inproc") return; // no read buffer to reuse
      await using pull = new PullSocket({ receiveHighWaterMark: 4 });
      const ep = await bindAny(pull, t);
      await using push = new PushSocket({ sendHighWaterMark: 8, linger: 0 });
      const ready = handshakes(push);
      push.connect(ep);
      await ready;
      const sending = (async () => {
        for (let i = 0; i < COUNT; i++) await push.send(payload(i, size));
      })();
      sending.catch(() => {}); // awaited below; if an assertion fails first, close rejects it
      for (let i = 0; i < COUNT; i++) {
        // A macrotask between receives lets the peer's queue fill and reading pause.
        if (i % 3 === 0) await new Promise((r) => setTimeout(r, 0));
        const [frame] = await recv(pull);
        assert.equal(frame.length, size);
        assert.ok(intact(frame, i), `message ${i} of ${size} octets arrived corrupted`);
      }
      await withTimeout(sending, WAIT, "the sender finishing");
    },
  );
}
