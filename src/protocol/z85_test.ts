import assert from "node:assert/strict";
import { z85Decode, z85Encode } from "./z85.ts";

const HELLO = Uint8Array.of(0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b);

Deno.test("z85Encode() encodes the spec 32 test vector as HelloWorld", () => {
  assert.equal(z85Encode(HELLO), "HelloWorld");
});

Deno.test("z85Decode() decodes HelloWorld to the spec 32 test vector", () => {
  assert.deepEqual(z85Decode("HelloWorld"), HELLO);
});

Deno.test("z85Encode() rejects lengths that are not a multiple of 4 (test_base85: 1, 42)", () => {
  assert.throws(() => z85Encode(new Uint8Array(1)), RangeError);
  assert.throws(() => z85Encode(new Uint8Array(42)), RangeError);
  assert.throws(() => z85Encode("abcd" as unknown as Uint8Array), TypeError);
});

Deno.test("z85Decode() rejects lengths that are not a multiple of 5 (test_base85)", () => {
  assert.throws(() => z85Decode("01234567"), RangeError);
  assert.throws(() => z85Decode("0"), RangeError);
});

Deno.test("z85Decode() rejects groups above 2^32 - 1 (test_base85: max, above_limit)", () => {
  assert.throws(() => z85Decode("#####"), RangeError);
  assert.throws(() => z85Decode("%nSc1"), RangeError);
  assert.deepEqual(z85Decode("%nSc0"), Uint8Array.of(0xff, 0xff, 0xff, 0xff));
});

Deno.test("z85Decode() rejects test_base85's invalid-character strings", () => {
  // C's "####\0047" is 6 characters ('#' x4, \004, '7'): libzmq fails them with EINVAL.
  for (const text of ["####\x047", "####\x100", "####\x037"]) {
    assert.throws(() => z85Decode(text), JSON.stringify(text));
  }
});

Deno.test("z85Decode() rejects characters outside the alphabet with a TypeError", () => {
  for (
    const text of ["####\x04", "####\x10", "####\x03", "####\x7f", "####\u00e9", "####~", '####"']
  ) {
    assert.throws(() => z85Decode(text), TypeError, JSON.stringify(text));
  }
  assert.throws(() => z85Decode(5 as unknown as string), TypeError);
});

Deno.test("Z85 round trips the minimum, the maximum and libzmq's regular key", () => {
  for (const bytes of [new Uint8Array(4), Uint8Array.of(0xff, 0xff, 0xff, 0xff)]) {
    assert.deepEqual(z85Decode(z85Encode(bytes)), bytes);
  }
  const regular = "r^/rM9M=rMToK)63O8dCvd9D<PY<7iGlC+{BiSnG";
  assert.equal(z85Decode(regular).length, 32);
  assert.equal(z85Encode(z85Decode(regular)), regular);
  assert.equal(z85Encode(new Uint8Array(0)), "");
  assert.deepEqual(z85Decode(""), new Uint8Array(0));
});

Deno.test("Z85 round trips random bytes", () => {
  for (let n = 0; n < 200; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(4 * (n % 17)));
    assert.deepEqual(z85Decode(z85Encode(bytes)), bytes);
  }
});
