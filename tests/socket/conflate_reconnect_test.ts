/**
 * ZMQ_CONFLATE (only the newest message is kept) and ZMQ_RECONNECT_IVL_MAX
 * (the reconnect interval doubles up to the maximum), observed on real
 * sockets.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PullSocket, PushSocket } from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  freeEndpoint,
  handshakes,
  nextEvents,
  recv,
  text,
} from "./_helpers.ts";

eachTransport(
  "PullSocket with conflate keeps only the newest of the messages it holds",
  async (t) => {
    await using pull = new PullSocket({ conflate: true });
    const ep = await bindAny(pull, t);
    await using push = new PushSocket();
    const ready = handshakes(push);
    push.connect(ep);
    await ready;
    for (let i = 1; i <= 200; i++) await push.send(String(i));
    // Receive until the last message: conflation must have skipped some, in order.
    const got: number[] = [];
    while (got.at(-1) !== 200) got.push(Number(text((await recv(pull))[0])));
    assert.ok(got.length < 200, `all ${got.length} messages were kept`);
    assert.deepEqual(got, [...got].sort((a, b) => a - b), "conflated messages keep their order");
  },
);

eachTransport(
  "PushSocket with conflate sends only the newest message queued while no peer is there",
  async (t) => {
    const ep = freeEndpoint(t);
    await using push = new PushSocket({ conflate: true });
    push.connect(ep);
    for (let i = 1; i <= 5; i++) await push.send(String(i));
    await using pull = new PullSocket();
    await pull.bind(ep);
    // The reconnect takes its interval plus jitter, slower under load: wait
    // with the helper's long bound, then only briefly for a message too many.
    assert.deepEqual(text((await recv(pull))[0]), "5");
    pull.receiveTimeout = 200;
    await assert.rejects(pull.receive(), (e) => (e as { code?: string }).code === "EAGAIN");
  },
  ["tcp", "ipc"],
);

Deno.test("Socket reconnect intervals double from reconnectInterval up to reconnectMaxInterval", async () => {
  await using push = new PushSocket({ reconnectInterval: 10, reconnectMaxInterval: 80 });
  const retries = nextEvents(push, "connectRetried", 6);
  push.connect(freeEndpoint("tcp"));
  const intervals = (await retries).map((e) => e.interval);
  // libzmq adds a random jitter below the base interval to each wait.
  intervals.forEach((interval, attempt) => {
    const base = Math.min(80, 10 * 2 ** attempt);
    assert.ok(
      interval >= base && interval < base + 10,
      `retry ${attempt} waited ${interval} ms, expected ${base}..${base + 9}: ${intervals}`,
    );
  });
});
