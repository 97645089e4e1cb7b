/**
 * Options changed after construction (zmq_setsockopt): the same validation
 * as at construction, effects on later calls and on existing peers, the
 * Guide's `linger = 0` before `close()`, and unknown option names refused.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DealerSocket, PubSocket, PullSocket, PushSocket, RouterSocket } from "../../mod.ts";
import type { SocketOptions } from "../../mod.ts";
import { coreOf } from "../../src/socket/_core.ts";
import {
  bindAny,
  eachTransport,
  freeEndpoint,
  handshakes,
  isPending,
  recvText,
  rejectsWith,
  send,
  throwsWith,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

Deno.test("Unknown option names are a TypeError naming them", () => {
  assert.throws(
    () => new PushSocket({ sndhwm: 10, linger: 0 } as SocketOptions),
    { name: "TypeError", message: "Unknown option sndhwm for a PUSH socket" },
  );
  assert.throws(
    () => new PullSocket({ rcvhwm: 1, recvTimeout: 5 } as SocketOptions),
    { name: "TypeError", message: "Unknown options rcvhwm, recvTimeout for a PULL socket" },
  );
  // Another type's option is unknown too.
  assert.throws(() => new PubSocket({ mandatory: true } as SocketOptions), TypeError);
});

Deno.test("Option getters report the construction values and libzmq's defaults", async () => {
  await using push = new PushSocket({ sendHighWaterMark: 7, linger: 250 });
  assert.equal(push.sendHighWaterMark, 7);
  assert.equal(push.linger, 250);
  assert.equal(push.receiveTimeout, -1);
  assert.equal(push.receiveHighWaterMark, 1000);
  assert.equal(push.immediate, false);
  assert.equal(push.routingId, undefined);
  push.heartbeatInterval = 500; // heartbeatTimeout was not given: it follows, as at construction
  assert.equal(push.heartbeatTimeout, 500);
});

Deno.test("Option setters validate as the constructor does", async () => {
  await using push = new PushSocket();
  assert.throws(() => (push.linger = -2), { name: "RangeError", message: /linger/ });
  assert.throws(() => (push.sendTimeout = 1.5), { name: "TypeError", message: /sendTimeout/ });
  assert.throws(() => (push.sendHighWaterMark = "10" as unknown as number), TypeError);
  assert.equal(push.linger, -1, "a refused value changes nothing");
  // Construction-only options have no setter.
  assert.throws(() => ((push as unknown as { immediate: boolean }).immediate = true), TypeError);
  assert.throws(() => (push.routingId = ""), RangeError);
});

Deno.test("routingId can be set before bind/connect, not after (EINVAL)", async () => {
  await using router = new RouterSocket();
  const ep = await bindAny(router, "inproc");
  await using dealer = new DealerSocket();
  dealer.routingId = "late-name";
  assert.deepEqual(dealer.routingId, new TextEncoder().encode("late-name"));
  dealer.connect(ep);
  throwsWith(() => (dealer.routingId = "other"), "EINVAL");
  await send(dealer, "hi");
  assert.deepEqual(await recvText(router), ["late-name", "hi"]);
});

eachTransport("Changing receiveTimeout affects later receive() calls", async (t) => {
  await using pull = new PullSocket({ receiveTimeout: 20 });
  const ep = await bindAny(pull, t);
  await rejectsWith(pull.receive(), "EAGAIN");
  pull.receiveTimeout = -1;
  const waiting = pull.receive();
  assert.equal(await isPending(waiting), true);
  await using push = new PushSocket();
  push.connect(ep);
  await send(push, "in time");
  assert.equal(new TextDecoder().decode((await withTimeout(waiting, WAIT))[0]), "in time");
  pull.receiveTimeout = 0;
  await rejectsWith(pull.receive(), "EAGAIN");
});

Deno.test("Changing sendTimeout affects later send() calls", async () => {
  await using push = new PushSocket({ sendHighWaterMark: 1 });
  push.connect(freeEndpoint("tcp")); // nobody there: one message queues, then sends wait
  await send(push, "queued");
  push.sendTimeout = 0;
  await rejectsWith(push.send("now or never"), "EAGAIN");
  push.sendTimeout = 20;
  await rejectsWith(push.send("soon or never"), "EAGAIN");
});

Deno.test("A raised sendHighWaterMark applies to existing peers and wakes waiting sends", async () => {
  await using push = new PushSocket({ sendHighWaterMark: 1 });
  push.connect(freeEndpoint("tcp"));
  await send(push, "first");
  const second = push.send("second");
  assert.equal(await isPending(second), true);
  push.sendHighWaterMark = 2;
  await withTimeout(second, WAIT, "the waiting send");
  assert.equal(await isPending(push.send("third")), true);
});

Deno.test("linger = 0 set just before close() lets close() end with messages pending", async () => {
  await using pull = new PullSocket({ receiveHighWaterMark: 1 });
  const ep = await bindAny(pull, "tcp");
  await using push = new PushSocket();
  const ready = handshakes(push);
  push.connect(ep);
  await withTimeout(ready, WAIT, "handshake");
  // More than the kernel buffers hold: a PULL that does not read leaves them queued.
  const big = new Uint8Array(1 << 20);
  for (let i = 0; i < 48; i++) await send(push, big);
  const pending = () => [...coreOf(push).pipes].some((p) => p.pending);
  const deadline = Date.now() + WAIT;
  while (!pending() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.ok(pending(), "messages wait to be written");
  push.linger = 0; // the Guide's idiom; with the default -1 close() would wait for the reader
  await withTimeout(push.close(), WAIT, "close with linger 0");
});
