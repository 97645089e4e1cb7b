import assert from "node:assert/strict";
// Text imports need no permission, so `deno test src/protocol` checks these without --allow-read.
import curveCodec from "./_curve_codec.ts" with { type: "text" };
import curveCrypto from "./_curve_crypto.ts" with { type: "text" };
import frameDecoder from "./_frame_decoder.ts" with { type: "text" };
import engine from "./engine.ts" with { type: "text" };
import framing from "./_framing.ts" with { type: "text" };
import greeting from "./_greeting.ts" with { type: "text" };
import messageFraming from "./_message_framing.ts" with { type: "text" };
import metadata from "./_metadata.ts" with { type: "text" };
import ownMetadata from "./_own_metadata.ts" with { type: "text" };
import outputBuffer from "./_output_buffer.ts" with { type: "text" };
import streamFraming from "./_stream_framing.ts" with { type: "text" };
import wire from "./_wire.ts" with { type: "text" };
import zap from "./_zap.ts" with { type: "text" };
import curveKeys from "./curve_keys.ts" with { type: "text" };
import curveMechanism from "./curve_mechanism.ts" with { type: "text" };
import mechanism from "./mechanism.ts" with { type: "text" };
import mod from "./mod.ts" with { type: "text" };
import nullMechanism from "./null_mechanism.ts" with { type: "text" };
import plainMechanism from "./plain_mechanism.ts" with { type: "text" };
import session from "./session.ts" with { type: "text" };
import socketType from "./socket_type.ts" with { type: "text" };
import z85 from "./z85.ts" with { type: "text" };

const KNOWN: Record<string, string> = {
  "_curve_codec.ts": curveCodec,
  "_curve_crypto.ts": curveCrypto,
  "_frame_decoder.ts": frameDecoder,
  "_framing.ts": framing,
  "engine.ts": engine,
  "_greeting.ts": greeting,
  "_message_framing.ts": messageFraming,
  "_metadata.ts": metadata,
  "_output_buffer.ts": outputBuffer,
  "_own_metadata.ts": ownMetadata,
  "_stream_framing.ts": streamFraming,
  "_wire.ts": wire,
  "_zap.ts": zap,
  "curve_keys.ts": curveKeys,
  "curve_mechanism.ts": curveMechanism,
  "mechanism.ts": mechanism,
  "mod.ts": mod,
  "null_mechanism.ts": nullMechanism,
  "plain_mechanism.ts": plainMechanism,
  "session.ts": session,
  "socket_type.ts": socketType,
  "z85.ts": z85,
};

// The kept crypto libraries, mapped in deno.json, reachable only through _curve_crypto.ts.
const CRYPTO_IMPORTS = ["@noble/ciphers/salsa.js", "@noble/curves/ed25519.js"];

const DIR = new URL("./", import.meta.url);
const canRead = Deno.permissions.querySync({ name: "read", path: DIR }).state === "granted";
const IMPORT =
  /(?:^|[^\w.])(?:import|export)\s*(?:type\s+)?(?:[\w*{}\s,$]*?\s*from\s*)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

// With --allow-read every .ts file of the directory is checked; without, the known sources.
async function sources(): Promise<{ name: string; text: string }[]> {
  const files = [];
  if (!canRead) {
    return Object.entries(KNOWN).map(([name, text]) => ({ name, text }));
  }
  for await (const entry of Deno.readDir(DIR)) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      files.push({ name: entry.name, text: await Deno.readTextFile(new URL(entry.name, DIR)) });
    }
  }
  return files;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

Deno.test("protocol sources import nothing outside src/protocol/", async () => {
  for (const { name, text } of await sources()) {
    if (name.endsWith("_test.ts") || name.endsWith("_bench.ts")) continue;
    for (const match of stripComments(text).matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2];
      if (name === "_curve_crypto.ts" && CRYPTO_IMPORTS.includes(specifier)) continue;
      assert.match(specifier, /^\.\/[\w.]+\.ts$/, `${name} imports ${specifier}`);
    }
  }
});

Deno.test("protocol tests reach outside only for node:assert and fast-check", async () => {
  for (const { name, text } of await sources()) {
    if (!name.endsWith("_test.ts") && !name.endsWith("_bench.ts")) continue;
    for (const match of stripComments(text).matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2];
      assert.ok(
        /^\.\/[\w.]+\.ts$/.test(specifier) || specifier === "node:assert/strict" ||
          specifier === "fast-check",
        `${name} imports ${specifier}`,
      );
    }
  }
});

Deno.test("protocol sources use no Deno APIs, timers or promises", async () => {
  for (const { name, text } of await sources()) {
    if (name.endsWith("_test.ts") || name.endsWith("_bench.ts")) continue;
    const code = stripComments(text);
    assert.doesNotMatch(code, /\bDeno\./, `${name} uses Deno.*`);
    assert.doesNotMatch(
      code,
      /\b(setTimeout|setInterval|queueMicrotask|Promise|async|await)\b/,
      `${name} uses timers or promises`,
    );
    assert.doesNotMatch(code, /\benum\s+\w+/, `${name} declares an enum`);
  }
});

Deno.test({
  name: "every protocol source file is in the purity test's list",
  ignore: !canRead,
  fn: async () => {
    for (const { name } of await sources()) {
      if (name.endsWith("_test.ts") || name.endsWith("_bench.ts")) continue;
      assert.ok(name in KNOWN, `add ${name} to KNOWN in purity_test.ts`);
    }
  },
});
