/**
 * The CLI's message formats without sockets: every lossless format reads back
 * what it wrote, for frames holding every byte value.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeMessage, type Format, readMessages, unquote } from "../../cli/_format.ts";

async function roundTrip(messages: Uint8Array[][], format: Format): Promise<Uint8Array[][]> {
  // Split the encoded stream at odd places, as a pipe may.
  const bytes = messages.flatMap((m) => [...encodeMessage(m, format)]);
  const chunks = [];
  for (let at = 0; at < bytes.length; at += 7) chunks.push(new Uint8Array(bytes.slice(at, at + 7)));
  const out = [];
  for await (const m of readMessages(ReadableStream.from(chunks), format)) out.push(m);
  return out;
}

const frame = fc.uint8Array({ maxLength: 300 });
const message = fc.array(frame, { minLength: 1, maxLength: 4 });

for (const format of ["quoted", "jsonl", "raw", "msgpack"] as const) {
  Deno.test(`the ${format} format reads back any messages it wrote`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 5 }), async (messages) => {
        // A line format cannot tell one empty frame from no message at all.
        fc.pre(format !== "quoted" || messages.every((m) => m.length > 1 || m[0].length > 0));
        assert.deepEqual(await roundTrip(messages, format), messages);
      }),
      { numRuns: 60 },
    );
  });
}

Deno.test("the ascii format shows unprintable bytes as dots and frames split by tabs", () => {
  const line = encodeMessage([new Uint8Array([0x41, 0x00, 0x0a]), new Uint8Array([0x7e])], "ascii");
  assert.equal(new TextDecoder().decode(line), "A..\t~\n");
});

Deno.test("the jsonl format writes text frames as strings and binary ones as base64", () => {
  const line = encodeMessage([new TextEncoder().encode("héllo"), new Uint8Array([0xff])], "jsonl");
  assert.equal(new TextDecoder().decode(line), '["héllo",{"base64":"/w=="}]\n');
});

Deno.test("unquote() rejects a bad escape", () => {
  assert.throws(() => unquote("\\q"), TypeError);
  assert.throws(() => unquote("\\x4"), TypeError);
});

Deno.test("raw input that ends inside a message is an error", async () => {
  const input = ReadableStream.from([new Uint8Array([0x01, 0x01, 0x41])]);
  await assert.rejects(async () => {
    for await (const _ of readMessages(input, "raw")) { /* drain */ }
  }, /ends inside a message/);
});

Deno.test("raw input announcing a huge frame is refused before buffering it", async () => {
  const header = new Uint8Array([0x02, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  await assert.rejects(async () => {
    for await (const _ of readMessages(ReadableStream.from([header]), "raw")) { /* drain */ }
  }, RangeError);
});
