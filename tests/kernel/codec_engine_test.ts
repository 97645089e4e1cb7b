/**
 * The codec seam without sockets: a CodecEngine driven as the pipe drives
 * it, over the two example protocols. `ready` comes first, any split of the
 * same bytes yields the same messages, flow control pauses and resumes at
 * message boundaries, and hostile input ends the connection with an error
 * event instead of growing: an endless line, a length prefix over the limit,
 * a message that never ends, a codec that throws, a message over
 * `maxMessageSize`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CodecEngine } from "../../src/kernel/_codec_engine.ts";
import type { Codec } from "../../src/kernel/mod.ts";
import type { SessionEvent } from "../../src/protocol/mod.ts";
import { LineCodec } from "../../examples/line_server.ts";
import { LengthPrefixedCodec } from "../../examples/length_prefixed.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function engine(
  codec: Codec,
  options: { maxBuffered?: number; maxMessageSize?: number; canDeliver?: () => boolean } = {},
): CodecEngine {
  return new CodecEngine(
    { now: 0, maxMessageSize: options.maxMessageSize ?? -1, canDeliver: options.canDeliver },
    { codec, name: "test", peerType: "PAIR", maxBuffered: options.maxBuffered },
  );
}

/** Messages of the events, as strings joined by "|" per frame. */
function messages(events: SessionEvent[]): string[] {
  return events.flatMap((e) =>
    e.type === "message" ? [e.frames.map((f) => decoder.decode(f)).join("|")] : []
  );
}

function errorOf(events: SessionEvent[]): SessionEvent | undefined {
  return events.find((e) => e.type === "error");
}

Deno.test("CodecEngine reports ready at its first tick, then never needs a timer", () => {
  const e = engine(new LineCodec());
  assert.equal(e.phase, "handshake");
  assert.equal(e.nextTimeout(), 0);
  e.tick(0);
  const [ready] = e.takeEvents();
  assert.equal(ready.type, "ready");
  assert.equal(e.phase, "ready");
  assert.equal(e.peer?.socketType, "PAIR");
  assert.equal(e.nextTimeout(), Infinity);
});

Deno.test("CodecEngine: bytes before the first tick come after ready", () => {
  const e = engine(new LineCodec());
  e.receive(encoder.encode("a\nb\n"), 0);
  const events = e.takeEvents();
  assert.deepEqual(events.map((x) => x.type), ["ready", "message", "message"]);
});

Deno.test("any split of the same bytes yields the same messages (both example codecs)", () => {
  const lineBytes = encoder.encode("one\r\ntwo\n\nthree and more\nfour\n");
  const lp = new LengthPrefixedCodec();
  const lpBytes = concat(
    lp.encode([encoder.encode("a"), encoder.encode("bc")]).concat(
      lp.encode([encoder.encode("")]),
      lp.encode([encoder.encode("x".repeat(300))]),
    ),
  );
  const cases: [() => Codec, Uint8Array][] = [
    [() => new LineCodec(), lineBytes],
    [() => new LengthPrefixedCodec(), lpBytes],
  ];
  for (const [make, bytes] of cases) {
    const whole = engine(make());
    whole.receive(bytes, 0);
    const expected = messages(whole.takeEvents());
    assert.ok(expected.length >= 3);
    for (let seed = 1; seed <= 50; seed++) {
      const e = engine(make());
      let at = 0;
      let rnd = seed;
      while (at < bytes.length) {
        rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
        const n = 1 + (rnd % 17);
        // The host reuses its buffer: hand a copy, then scribble over it.
        const chunk = bytes.slice(at, at + n);
        e.receive(chunk, 0);
        chunk.fill(0x58);
        at += n;
      }
      assert.deepEqual(messages(e.takeEvents()), expected, `seed ${seed}`);
    }
  }
});

Deno.test("CodecEngine pauses at a message boundary while the host is full, and resumes", () => {
  let room = 1;
  const delivered: string[] = [];
  const e = new CodecEngine({
    now: 0,
    maxMessageSize: -1,
    canDeliver: () => room > 0,
    onMessage: (frames) => {
      room--;
      delivered.push(decoder.decode(frames[0]));
    },
  }, { codec: new LineCodec(), name: "line", peerType: "PAIR" });
  e.tick(0);
  e.takeEvents();
  e.receive(encoder.encode("a\nb\nc\n"), 0);
  assert.deepEqual(delivered, ["a"]);
  assert.equal(e.paused, true);
  assert.equal(e.retainsInput, true, "the chunk is still being read");
  assert.throws(() => e.receive(encoder.encode("d\n"), 0));
  room = 5;
  e.resume(0);
  assert.deepEqual(delivered, ["a", "b", "c"]);
  assert.equal(e.paused, false);
  assert.equal(e.retainsInput, false);
});

Deno.test("an endless line ends the connection with EMSGSIZE once over maxBuffered", () => {
  const e = engine(new LineCodec(), { maxBuffered: 1024 });
  const junk = new Uint8Array(300).fill(0x61);
  let error: SessionEvent | undefined;
  for (let i = 0; i < 100 && error === undefined; i++) {
    e.receive(junk, 0);
    error = errorOf(e.takeEvents());
  }
  assert.equal(error?.type === "error" && error.code, "EMSGSIZE");
  assert.equal(e.phase, "closed");
  e.receive(junk, 0); // ignored once closed
  assert.deepEqual(e.takeEvents(), []);
});

Deno.test("a length prefix over the limit is refused before anything is buffered", () => {
  const e = engine(new LengthPrefixedCodec(1024));
  e.receive(Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 1, 2, 3), 0);
  const error = errorOf(e.takeEvents());
  assert.equal(error?.type === "error" && error.code, "EPROTO");
  assert.match(error?.type === "error" ? error.reason : "", /over the limit/);
});

Deno.test("a message whose frames never end is bounded by maxBuffered", () => {
  const codec = new LengthPrefixedCodec();
  const e = engine(codec, { maxBuffered: 4096 });
  const frame = codec.encode([new Uint8Array(500), new Uint8Array(0)]).slice(0, 2);
  let error: SessionEvent | undefined;
  for (let i = 0; i < 100 && error === undefined; i++) {
    for (const part of frame) e.receive(part, 0); // MORE, MORE, MORE, ...
    error = errorOf(e.takeEvents());
  }
  assert.equal(error?.type === "error" && error.code, "EMSGSIZE");
});

Deno.test("a codec that throws ends the connection with EPROTO, and maxMessageSize applies", () => {
  const throwing: Codec = {
    buffered: 0,
    push() {},
    next() {
      throw new Error("Not my protocol");
    },
    encode: (m) => [...m],
  };
  const e = engine(throwing);
  e.receive(Uint8Array.of(1), 0);
  const error = errorOf(e.takeEvents());
  assert.equal(error?.type === "error" && error.reason, "Not my protocol");

  const small = engine(new LineCodec(), { maxMessageSize: 3 });
  small.receive(encoder.encode("abc\nabcd\n"), 0);
  const events = small.takeEvents();
  assert.deepEqual(messages(events), ["abc"]);
  const tooBig = errorOf(events);
  assert.equal(tooBig?.type === "error" && tooBig.code, "EMSGSIZE");
});

Deno.test("CodecEngine.send() encodes through the codec; nothing before ready", () => {
  const e = engine(new LineCodec());
  assert.throws(() => e.send([encoder.encode("early")]));
  e.tick(0);
  e.send([encoder.encode("a"), encoder.encode("b")]);
  assert.equal(e.outputSize, 4);
  assert.equal(decoder.decode(concat(e.takeOutput())), "a\nb\n");
  assert.equal(e.outputSize, 0);
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
