/**
 * Received frames are `Uint8Array<ArrayBuffer>`: they go straight into
 * WebCrypto, whose `BufferSource` refuses the wider `Uint8Array` (backed by
 * an `ArrayBufferLike`, maybe shared) under `deno check`. This file is the
 * type check (`deno test` checks it before it runs); the test checks the
 * runtime half of the promise, and `text()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { merge, PullSocket, PushSocket, text } from "../../mod.ts";
import type { Message } from "../../mod.ts";
import { bindAny, eachTransport, send, WAIT, withTimeout } from "./_helpers.ts";

/** Only compiles while frames are typed `Uint8Array<ArrayBuffer>`. */
function verify(key: CryptoKey, [payload, signature]: Message): Promise<boolean> {
  return crypto.subtle.verify("HMAC", key, signature, payload);
}

/** Why: the wider type does not compile, so this is what the narrowing buys. */
export function wider(frame: Uint8Array): Promise<ArrayBuffer> {
  // @ts-expect-error: a Uint8Array<ArrayBufferLike> is not a BufferSource
  return crypto.subtle.digest("SHA-256", frame);
}

eachTransport("Received frames verify with crypto.subtle and are ArrayBuffer-backed", async (t) => {
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  await using push = new PushSocket();
  push.connect(ep);
  const payload = new TextEncoder().encode("signed payload");
  const signature = await crypto.subtle.sign("HMAC", key, payload);
  await send(push, [payload, signature]);
  await send(push, [new Uint8Array(100_000), signature]); // a large frame: a zero-copy view
  const first = await withTimeout(pull.receive(), WAIT);
  assert.equal(await verify(key, first), true);
  assert.equal(text(first[0]), "signed payload");
  for await (const message of pull) {
    for (const frame of message) assert.ok(frame.buffer instanceof ArrayBuffer);
    const digest: ArrayBuffer = await crypto.subtle.digest("SHA-256", message[0]);
    assert.equal(digest.byteLength, 32);
    break;
  }
  // Every reader hands out the same type.
  const stream: ReadableStream<Uint8Array<ArrayBuffer>[]> = pull.readableStream();
  await stream.cancel();
  const merged: AsyncIterableIterator<{ message: Uint8Array<ArrayBuffer>[] }> = merge([pull]);
  await merged.return!();
});

Deno.test("text() decodes UTF-8, replacing malformed bytes", () => {
  assert.equal(text(new TextEncoder().encode("héllo")), "héllo");
  assert.equal(text(new Uint8Array([0x68, 0xff])), "h\uFFFD");
  assert.equal(text(new Uint8Array(0)), "");
});
