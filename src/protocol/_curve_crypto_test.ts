import assert from "node:assert/strict";
import {
  boxBeforenm,
  boxKeyPair,
  open,
  openAfternm,
  publicKeyOf,
  seal,
  sealAfternm,
  sealAfternmInPlace,
} from "./_curve_crypto.ts";

const hex = (text: string) => Uint8Array.from(text.match(/../g)!, (h) => parseInt(h, 16));
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

// Produced with libsodium 1.0.18 (the one libzmq 4.3.4 links here) through ctypes:
// secret keys 0..31 and 32..63, crypto_scalarmult_base, crypto_box_beforenm, and
// crypto_box_easy_afternm of "\x00hello" under "CurveZMQMESSAGEC" + short nonce 3.
const SECRET_A = Uint8Array.from({ length: 32 }, (_, i) => i);
const SECRET_B = Uint8Array.from({ length: 32 }, (_, i) => 32 + i);
const PUBLIC_A = hex("8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f");
const PUBLIC_B = hex("358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254");
const BEFORENM = hex("429b61f5d96e37268dfc5114849d599c9ceabffdb68c1f52cd0499af30f5b377");
const NONCE = Uint8Array.of(...ascii("CurveZMQMESSAGEC"), 0, 0, 0, 0, 0, 0, 0, 3);
const BOX = hex("a0e86db7f5d3259b3f9b59337addd0c5cf0031d8c2f9");

Deno.test("X25519 public keys match libsodium's crypto_scalarmult_base", () => {
  assert.deepEqual(publicKeyOf(SECRET_A), PUBLIC_A);
  assert.deepEqual(publicKeyOf(SECRET_B), PUBLIC_B);
});

Deno.test("boxBeforenm matches libsodium's crypto_box_beforenm from both sides", () => {
  assert.deepEqual(boxBeforenm(PUBLIC_B, SECRET_A), BEFORENM);
  assert.deepEqual(boxBeforenm(PUBLIC_A, SECRET_B), BEFORENM);
});

Deno.test("sealAfternm matches libsodium's crypto_box_easy_afternm, and opens", () => {
  const plain = Uint8Array.of(0, ...ascii("hello"));
  assert.deepEqual(sealAfternm(BEFORENM, NONCE, plain), BOX);
  assert.deepEqual(openAfternm(BEFORENM, NONCE, BOX), plain);
  assert.deepEqual(seal(PUBLIC_B, SECRET_A, NONCE, plain), BOX);
  assert.deepEqual(open(PUBLIC_A, SECRET_B, NONCE, BOX), plain);
});

Deno.test("sealAfternmInPlace leaves libsodium's box after 16 zeroed octets", () => {
  const plain = Uint8Array.of(0, ...ascii("hello"));
  const buffer = new Uint8Array(32 + plain.length).fill(0xee);
  buffer.set(plain, 32);
  sealAfternmInPlace(BEFORENM, NONCE, buffer);
  assert.deepEqual(buffer.subarray(16), BOX);
  assert.deepEqual(buffer.subarray(0, 16), new Uint8Array(16));
});

Deno.test("a tampered or short box does not open", () => {
  for (let i = 0; i < BOX.length; i++) {
    const bad = BOX.slice();
    bad[i] ^= 1;
    assert.equal(openAfternm(BEFORENM, NONCE, bad), undefined);
  }
  assert.equal(openAfternm(BEFORENM, NONCE, BOX.subarray(0, 15)), undefined);
});

Deno.test("a low-order public key yields no box key", () => {
  assert.equal(boxBeforenm(new Uint8Array(32), boxKeyPair().secretKey), undefined);
  assert.equal(seal(new Uint8Array(32), SECRET_A, NONCE, new Uint8Array(1)), undefined);
});
