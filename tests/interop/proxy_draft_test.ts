/**
 * `proxy()` with draft sockets against real libzmq built with drafts (zeromq.js 6.8.0's
 * `zeromq/draft` under Node, libzmq 4.3.5): libzmq's proxy takes any socket (src/proxy.cpp checks
 * no type) and forwards each message with its routing id and group, so a Monocoque SERVER proxied
 * to itself answers libzmq CLIENTs with their own requests, and a DISH/RADIO forwarder takes
 * libzmq RADIO traffic to a libzmq DISH, each message in its group.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DishSocket, proxy, RadioSocket, ServerSocket } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";
import { b, text, WAIT_MS } from "./_matrix.ts";

function started(running: Promise<void>): Promise<void> {
  running.catch(() => {});
  return running;
}

Deno.test("proxy(server, server) returns each libzmq CLIENT's requests to it", async () => {
  await using server = new ServerSocket();
  await server.bind("tcp://127.0.0.1:0");
  const stop = new AbortController();
  const running = started(proxy(server, server, { signal: stop.signal }));
  await using a = await Peer.start({
    impl: "zeromqjs",
    type: "CLIENT",
    connect: server.lastEndpoint!,
  });
  await using c = await Peer.start({
    impl: "zeromqjs",
    type: "CLIENT",
    connect: server.lastEndpoint!,
  });
  await a.send([b("from a")]);
  await c.send([b("from c")]);
  assert.deepEqual(text(await a.recv(WAIT_MS)), ["from a"]);
  assert.deepEqual(text(await c.recv(WAIT_MS)), ["from c"]);
  stop.abort();
  await withTimeout(running, WAIT_MS, "proxy end");
});

Deno.test("a DISH/RADIO proxy forwards libzmq RADIO traffic to a libzmq DISH by group", async () => {
  await using upstream = await Peer.start({
    impl: "zeromqjs",
    type: "RADIO",
    bind: "tcp://127.0.0.1:0",
  });
  await using frontend = new DishSocket();
  frontend.join("news", "sport");
  frontend.connect(upstream.endpoint);
  await using backend = new RadioSocket();
  await backend.bind("tcp://127.0.0.1:0");
  const stop = new AbortController();
  const running = started(proxy(frontend, backend, { signal: stop.signal }));
  await using downstream = await Peer.start({
    impl: "zeromqjs",
    type: "DISH",
    connect: backend.lastEndpoint!,
    options: { join: "news" },
  });
  // JOINs cross two hops asynchronously: publish until the DISH hears the news.
  let got: (Uint8Array[] & { group?: Uint8Array }) | undefined;
  const deadline = Date.now() + WAIT_MS * 2;
  while (got === undefined && Date.now() < deadline) {
    await upstream.send([b("goal")], { group: "sport" });
    await upstream.send([b("rain")], { group: "news" });
    got = await downstream.recv(50);
  }
  assert.ok(got !== undefined, "nothing crossed the proxy");
  assert.deepEqual(text(got), ["rain"]);
  assert.equal(new TextDecoder().decode(got.group), "news");
  stop.abort();
  await withTimeout(running, WAIT_MS, "proxy end");
});
