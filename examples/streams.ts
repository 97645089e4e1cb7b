/**
 * Sockets as WHATWG streams: `socket.readable` is a `ReadableStream` of
 * received messages and `socket.writable` a `WritableStream` of messages to
 * send, so sockets compose with `pipeThrough()`, `pipeTo()` and any
 * `TransformStream` — with backpressure: a slow consumer slows the producer
 * down instead of letting queues grow.
 *
 * Here a relay reads lines of text from one PULL socket, turns each into a
 * shouted version with a TransformStream, and sends it on through a PUSH
 * socket:
 *
 *   producer PUSH ──▶ PULL relay ─ TransformStream ─ PUSH relay ──▶ PULL consumer
 *
 * Run: `deno run -A examples/streams.ts`
 *
 * @module
 */

import { PullSocket, PushSocket } from "../mod.ts";
import type { Message } from "../mod.ts";

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);
const LINES = ["the quick brown fox", "jumps over", "the lazy dog"];

// inproc:// endpoints are in-memory: sockets of the same process, no network.
await using relayIn = new PullSocket();
await relayIn.bind("inproc://relay-in");
await using consumer = new PullSocket();
await consumer.bind("inproc://relay-out");
await using relayOut = new PushSocket();
relayOut.connect("inproc://relay-out");

// A message is an array of frames; this transform maps each message to a new
// one with a sequence number frame in front and the text upper-cased.
let sequence = 0;
const shout = new TransformStream<Message, string[]>({
  transform([line], controller) {
    controller.enqueue([String(++sequence), text(line).toUpperCase() + "!"]);
  },
});

// The relay is one line. It runs until relayIn closes, which ends its
// readable stream, which closes the pipe.
const relay = relayIn.readable.pipeThrough(shout).pipeTo(relayOut.writable);

// Produce: a writer on the producer's writable stream.
await using producer = new PushSocket();
producer.connect("inproc://relay-in");
const writer = producer.writable.getWriter();
for (const line of LINES) await writer.write(line);
writer.releaseLock();

// Consume: read the consumer's readable stream until we have every line.
const reader = consumer.readable.getReader();
for (let i = 0; i < LINES.length; i++) {
  const { value: [seq, shouted] } = await reader.read() as { value: Message };
  console.log(`consumer <- #${text(seq)} ${text(shouted)}`);
}
reader.releaseLock();

await relayIn.close();
await relay;
console.log(`streams: ${LINES.length} messages relayed through a TransformStream`);
