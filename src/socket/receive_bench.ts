/**
 * Micro figures for the receive path per message: ZMTP decode → fair-queued
 * inbox → the application's idiom (`receive()` loop, `for await` of the
 * socket, a `readable` reader). The peer is a fake connection that answers
 * the handshake as a PUSH and then returns 16-byte messages as fast as they
 * are read, so no kernel, no second process and no sender cost is in the
 * figure. Each iteration takes 1 000 messages: time per iteration ÷ 1 000 is
 * the cost per message. Run with `deno bench -A src/socket/receive_bench.ts`.
 *
 * @module
 */

import { PullSocket } from "./pull.ts";
import type { Connection, Transport } from "../transport/types.ts";

const PER_ITERATION = 1000;
const PAYLOAD = 16;

/** A NULL-mechanism ZMTP 3.1 greeting and a READY for a PUSH peer (RFC 23, RFC 37). */
function handshake(): Uint8Array {
  const greeting = new Uint8Array(64);
  greeting.set([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1]);
  greeting.set(new TextEncoder().encode("NULL"), 12);
  const body = [5, ..."READY", 11, ..."Socket-Type", 0, 0, 0, 4, ..."PUSH"]
    .map((x) => typeof x === "string" ? x.charCodeAt(0) : x);
  return new Uint8Array([...greeting, 0x04, body.length, ...body]);
}

/** Whole 16-byte message frames, enough to fill any read. */
function frames(bytes: number): Uint8Array {
  const frame = 2 + PAYLOAD;
  const out = new Uint8Array(Math.floor(bytes / frame) * frame);
  for (let at = 0; at < out.length; at += frame) out.set([0, PAYLOAD], at);
  return out;
}

const stream = frames(64 * 1024);

/** A peer that never runs dry: each read gets as many whole frames as fit. */
class EndlessPush implements Connection {
  readonly remoteEndpoint = "tcp://127.0.0.1:1";
  readonly localEndpoint = "tcp://127.0.0.1:2";
  #greeted = false;
  #closed = false;

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.resolve(null);
    if (!this.#greeted) {
      this.#greeted = true;
      const hello = handshake();
      buffer.set(hello);
      return Promise.resolve(hello.length);
    }
    const n = Math.min(buffer.length - buffer.length % (2 + PAYLOAD), stream.length);
    buffer.set(stream.subarray(0, n));
    return Promise.resolve(n);
  }

  write(_buffers: readonly Uint8Array[]): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.#closed = true;
  }
}

const fake: Transport = {
  listen: () => Promise.reject(new Error("Not supported")),
  connect: () => Promise.resolve(new EndlessPush()),
};

function pull(): PullSocket {
  const socket = new PullSocket({ transport: fake, linger: 0 });
  socket.connect("tcp://127.0.0.1:1");
  return socket;
}

const looped = pull();
Deno.bench("receive() loop, 1 000 × 16 B", { group: "receive", baseline: true }, async () => {
  for (let i = 0; i < PER_ITERATION; i++) await looped.receive();
});

const iterated = pull();
const iterator = iterated[Symbol.asyncIterator]();
Deno.bench("for await (msg of socket), 1 000 × 16 B", { group: "receive" }, async () => {
  for (let i = 0; i < PER_ITERATION; i++) await iterator.next();
});

const streamed = pull();
const reader = streamed.readable.getReader();
Deno.bench("socket.readable reader.read(), 1 000 × 16 B", { group: "receive" }, async () => {
  for (let i = 0; i < PER_ITERATION; i++) await reader.read();
});

globalThis.addEventListener("unload", () => {
  for (const s of [looped, iterated, streamed]) s.close();
});
