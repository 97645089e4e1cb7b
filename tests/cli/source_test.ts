/**
 * What the socket commands send, without sockets: given messages once or
 * cycled to `--count`, stdin records up to `--count`, nothing once aborted.
 */

import assert from "node:assert/strict";
import type { Io } from "../../cli/_io.ts";
import { outgoing, type SourceFlags } from "../../cli/_source.ts";

const td = new TextDecoder();

function io(stdin = "", signal = new AbortController().signal): Io {
  return {
    stdin: () => ReadableStream.from([new TextEncoder().encode(stdin)]),
    write: () => Promise.resolve(true),
    print: () => {},
    log: () => {},
    stderrIsTerminal: false,
    signal,
  };
}

async function sent(flags: Partial<SourceFlags>, terminal: Io = io()): Promise<string[]> {
  const out = [];
  for await (const m of outgoing({ format: "ascii", ...flags }, terminal)) {
    out.push(m.map((f) => td.decode(f)).join("|"));
  }
  return out;
}

Deno.test("given messages are sent once each, in order", async () => {
  assert.deepEqual(await sent({ data: ["a", "b\tc"] }), ["a", "b|c"]);
});

Deno.test("given messages are cycled up to --count", async () => {
  assert.deepEqual(await sent({ data: ["a", "b"], count: 5 }), ["a", "b", "a", "b", "a"]);
});

Deno.test("stdin lines are sent up to --count", async () => {
  assert.deepEqual(await sent({ count: 2 }, io("x\ny\nz\n")), ["x", "y"]);
});

Deno.test("stdin lines in the quoted format keep escaped bytes", async () => {
  const out = [];
  for await (const m of outgoing({ format: "quoted" }, io("\\x00\\t\tb\n"))) out.push(m);
  assert.deepEqual(out, [[new Uint8Array([0, 9]), new Uint8Array([0x62])]]);
});

Deno.test("nothing is sent once the signal aborted during --delay", async () => {
  const stop = new AbortController();
  const run = sent({ data: ["a"], delay: 60 }, io("", stop.signal));
  stop.abort();
  assert.deepEqual(await run, []);
});

Deno.test("--interval paces repeated messages and --count ends them", async () => {
  assert.deepEqual(await sent({ data: ["tick"], interval: 0.001, count: 3 }), [
    "tick",
    "tick",
    "tick",
  ]);
});
