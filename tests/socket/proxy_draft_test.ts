/**
 * `proxy()` with the draft socket types. libzmq's proxy takes any socket
 * (src/proxy.cpp checks no type) and forwards each msg_t whole, routing id
 * and group included; here a received message carries them as properties,
 * so a GATHER/SCATTER streamer, a DISH/RADIO forwarder that keeps each
 * message's group, and a SERVER proxied to itself (libzmq's
 * frontend == backend: every request goes back to its sender) all work.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ClientSocket,
  DishSocket,
  GatherSocket,
  proxy,
  RadioSocket,
  ScatterSocket,
  ServerSocket,
  text,
} from "../../mod.ts";
import { bindAny, eachTransport, recv, send, WAIT, withTimeout } from "./_helpers.ts";

/** The proxy's promise, kept from being an unhandled rejection when a test fails before awaiting it. */
function started(running: Promise<void>): Promise<void> {
  running.catch(() => {});
  return running;
}

eachTransport("proxy() streams from GATHER to SCATTER", async (t) => {
  await using frontend = new GatherSocket();
  const inEp = await bindAny(frontend, t);
  await using backend = new ScatterSocket();
  const outEp = await bindAny(backend, t);
  const stop = new AbortController();
  const running = started(proxy(frontend, backend, { signal: stop.signal }));

  await using producer = new ScatterSocket();
  producer.connect(inEp);
  await using worker = new GatherSocket();
  worker.connect(outEp);
  for (let i = 0; i < 5; i++) await send(producer, `task ${i}`);
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push(text((await recv(worker))[0]));
  assert.deepEqual(got, ["task 0", "task 1", "task 2", "task 3", "task 4"]);
  stop.abort();
  await withTimeout(running, WAIT, "proxy end");
});

eachTransport("proxy() forwards from DISH to RADIO keeping each message's group", async (t) => {
  await using upstream = new RadioSocket();
  const upEp = await bindAny(upstream, t);
  await using frontend = new DishSocket();
  frontend.join("news", "sport");
  frontend.connect(upEp);
  await using backend = new RadioSocket();
  const downEp = await bindAny(backend, t);
  const stop = new AbortController();
  const running = started(proxy(frontend, backend, { signal: stop.signal }));

  await using subscriber = new DishSocket();
  subscriber.join("news");
  subscriber.connect(downEp);
  // JOINs travel asynchronously at both hops: publish until messages come through.
  const timer = setInterval(() => {
    upstream.send("goal", { group: "sport" }).catch(() => {});
    upstream.send("rain", { group: "news" }).catch(() => {});
  }, 10);
  try {
    for (let i = 0; i < 3; i++) {
      const m = await withTimeout(subscriber.receive(), WAIT, "forwarded message");
      assert.equal(text(m.group), "news");
      assert.equal(text(m[0]), "rain");
    }
  } finally {
    clearInterval(timer);
  }
  stop.abort();
  await withTimeout(running, WAIT, "proxy end");
});

eachTransport(
  "proxy() with one SERVER as frontend and backend returns each request to its sender",
  async (t) => {
    await using server = new ServerSocket();
    const ep = await bindAny(server, t);
    const stop = new AbortController();
    const running = started(proxy(server, server, { signal: stop.signal }));

    await using a = new ClientSocket();
    await using b = new ClientSocket();
    a.connect(ep);
    b.connect(ep);
    await send(a, "from a");
    await send(b, "from b");
    await send(a, "again a");
    assert.equal(text((await recv(a))[0]), "from a");
    assert.equal(text((await recv(a))[0]), "again a");
    assert.equal(text((await recv(b))[0]), "from b");
    stop.abort();
    await withTimeout(running, WAIT, "proxy end");
  },
);
