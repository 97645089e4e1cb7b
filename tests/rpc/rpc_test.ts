/**
 * RPC behaviour over every transport: unary calls, many calls multiplexed on
 * one connection, status codes, deadlines and cancellation reaching the
 * server's handler, server streams with early exit, and closing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RpcError } from "../../rpc/mod.ts";
import { TRANSPORTS, WAIT, withTimeout } from "../socket/_helpers.ts";
import { pair, rejectsWith, Test } from "./_service.ts";

for (const transport of TRANSPORTS) {
  Deno.test(`RPC over ${transport}: a unary call returns its typed response`, async () => {
    await using p = await pair(transport);
    const test = p.client.stub(Test);
    assert.equal(await withTimeout(test.add({ a: 2, b: 40 }), WAIT), 42);
    assert.equal(await withTimeout(test.echo("héllo"), WAIT), "héllo");
  });

  Deno.test(`RPC over ${transport}: a server stream yields every item in order`, async () => {
    await using p = await pair(transport, { client: { streamWindow: 4 } });
    const test = p.client.stub(Test);
    const seen: number[] = [];
    await withTimeout(
      (async () => {
        for await (const { n } of test.count({ to: 50 })) seen.push(n);
      })(),
      WAIT,
    );
    assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i + 1));
    assert.equal(p.client.callsInFlight, 0);
  });
}

Deno.test("RPC: 64 concurrent calls on one connection each get their own reply", async () => {
  await using p = await pair("tcp");
  const test = p.client.stub(Test);
  // Replies come back out of order (later calls sleep less); call ids sort them out.
  const calls = Array.from({ length: 64 }, (_, i) => test.sleep(64 - i));
  const replies = await withTimeout(Promise.all(calls), WAIT);
  assert.deepEqual(replies, Array.from({ length: 64 }, (_, i) => `slept ${64 - i}`));
  assert.equal(p.server.callsInFlight, 0);
});

Deno.test("RPC: a handler's RpcError reaches the caller with its code and message", async () => {
  await using p = await pair("inproc");
  const error = await rejectsWith(p.client.stub(Test).fail("user 7"), "NOT_FOUND");
  assert.equal(error.message, "No user 7");
});

Deno.test("RPC: a handler's other error is INTERNAL, its detail stays on the server", async () => {
  await using p = await pair("inproc");
  const events = p.server.events();
  const error = await rejectsWith(p.client.stub(Test).crash(""), "INTERNAL");
  assert.ok(!error.message.includes("secret"));
  const event = await withTimeout(events.next(), WAIT);
  assert.equal(event.value?.type, "handlerFailed");
  await events.return!();
});

Deno.test("RPC: a request its schema guard refuses is INVALID_ARGUMENT", async () => {
  await using p = await pair("inproc");
  // A string where add() wants { a, b }: valid MessagePack, the wrong schema.
  await rejectsWith(
    p.client.call("test/add", Test.methods.echo, "not numbers"),
    "INVALID_ARGUMENT",
  );
  assert.equal(await withTimeout(p.client.stub(Test).add({ a: 1, b: 2 }), WAIT), 3);
});

Deno.test("RPC: an unknown method is UNIMPLEMENTED", async () => {
  await using p = await pair("inproc");
  await rejectsWith(p.client.call("test/nope", Test.methods.echo, "x"), "UNIMPLEMENTED");
  await rejectsWith(p.client.call("other/echo", Test.methods.echo, "x"), "UNIMPLEMENTED");
});

Deno.test("RPC: a deadline fails the call and aborts the server's handler", async () => {
  await using p = await pair("tcp");
  await rejectsWith(p.client.stub(Test).sleep(60_000, { timeout: 50 }), "DEADLINE_EXCEEDED");
  const reason = await withTimeout(p.seen.aborted.promise, WAIT, "handler abort");
  assert.ok(reason instanceof RpcError);
  // The slot is free again once the handler settled.
  assert.equal(await withTimeout(p.client.stub(Test).echo("after"), WAIT), "after");
  assert.equal(p.server.callsInFlight, 0);
});

Deno.test("RPC: an infinite timeout is no deadline", async () => {
  await using p = await pair("inproc", { client: { timeout: Infinity } });
  assert.equal(await withTimeout(p.client.stub(Test).sleep(10), WAIT), "slept 10");
});

Deno.test("RPC: the client's default timeout applies to every call", async () => {
  await using p = await pair("inproc", { client: { timeout: 50 } });
  await rejectsWith(p.client.stub(Test).sleep(60_000), "DEADLINE_EXCEEDED");
});

Deno.test("RPC: aborting a call's signal cancels it on the server", async () => {
  await using p = await pair("tcp");
  const controller = new AbortController();
  const call = p.client.stub(Test).sleep(60_000, { signal: controller.signal });
  // Abort only once the handler is running, so the cancel has something to reach.
  await withTimeout(p.seen.started.promise, WAIT, "handler start");
  controller.abort();
  await rejectsWith(call, "CANCELLED");
  const reason = await withTimeout(p.seen.aborted.promise, WAIT, "handler abort");
  assert.ok(reason instanceof RpcError && reason.code === "CANCELLED");
});

Deno.test("RPC: an already aborted signal fails the call without sending it", async () => {
  await using p = await pair("inproc");
  await rejectsWith(
    p.client.stub(Test).echo("x", { signal: AbortSignal.abort() }),
    "CANCELLED",
  );
  assert.equal(p.client.callsInFlight, 0);
});

Deno.test("RPC: leaving a stream early closes the server's generator", async () => {
  await using p = await pair("tcp", { client: { streamWindow: 8 } });
  let got = 0;
  for await (const item of p.client.stub(Test).forever(16)) {
    assert.equal(item.length, 16);
    if (++got === 20) break;
  }
  const produced = await withTimeout(p.seen.generatorClosed.promise, WAIT, "generator cleanup");
  // The server ran at most one window ahead of the reader.
  assert.ok(produced <= 20 + 8 + 1, `produced ${produced}`);
});

Deno.test("RPC: a stream whose reader aborts fails with CANCELLED", async () => {
  await using p = await pair("inproc", { client: { streamWindow: 4 } });
  const controller = new AbortController();
  const stream = p.client.stub(Test).forever(8, { signal: controller.signal });
  await withTimeout(stream.next(), WAIT);
  controller.abort();
  await rejectsWith(
    (async () => {
      while (!(await stream.next()).done) { /* drain what was granted */ }
    })(),
    "CANCELLED",
  );
  await withTimeout(p.seen.generatorClosed.promise, WAIT, "generator cleanup");
});

Deno.test("RPC: a stream that fails mid-way delivers its items, then the error", async () => {
  await using p = await pair("tcp");
  const seen: number[] = [];
  const error = await rejectsWith(
    (async () => {
      for await (const n of p.client.stub(Test).brittle(null)) seen.push(n);
    })(),
    "NOT_FOUND",
  );
  assert.deepEqual(seen, [1, 2]);
  assert.equal(error.message, "Ran out");
});

Deno.test("RPC: a stream left without credit ends CANCELLED after streamStallTimeout", async () => {
  await using p = await pair("tcp", {
    server: { streamStallTimeout: 100 },
    client: { streamWindow: 2 },
  });
  const stream = p.client.stub(Test).forever(8);
  // Read nothing more after the first item: the server waits for credit, then gives up.
  await withTimeout(stream.next(), WAIT);
  const produced = await withTimeout(p.seen.generatorClosed.promise, WAIT, "stall timeout");
  assert.ok(produced <= 3, `produced ${produced}`);
  await rejectsWith(
    (async () => {
      while (!(await stream.next()).done) { /* the items granted before the stall */ }
    })(),
    "CANCELLED",
  );
});

Deno.test("RPC: closing the client fails its calls with UNAVAILABLE", async () => {
  await using p = await pair("inproc");
  const call = p.client.stub(Test).sleep(60_000);
  await withTimeout(p.seen.started.promise, WAIT, "handler start");
  await p.client.close();
  await rejectsWith(call, "UNAVAILABLE");
  await rejectsWith(p.client.stub(Test).echo("late"), "UNAVAILABLE");
  await withTimeout(p.seen.aborted.promise, WAIT, "handler abort on the client's cancel");
});

Deno.test("RPC: closing the server fails the client's calls in flight", async () => {
  await using p = await pair("tcp");
  const call = p.client.stub(Test).sleep(60_000);
  await withTimeout(p.seen.started.promise, WAIT, "handler start");
  await p.server.close();
  await rejectsWith(call, "UNAVAILABLE");
  await withTimeout(p.seen.aborted.promise, WAIT, "handler abort on close");
});

Deno.test("RPC: a negative or NaN per-call timeout is a RangeError, nothing sent", async () => {
  await using p = await pair("inproc");
  const test = p.client.stub(Test);
  assert.throws(() => test.echo("x", { timeout: -5 }), RangeError);
  assert.throws(() => test.echo("x", { timeout: NaN }), RangeError);
  assert.throws(() => test.forever(1, { timeout: -1 }), RangeError);
  assert.equal(p.client.callsInFlight, 0);
  assert.equal(await withTimeout(test.echo("fine", { timeout: 0x7fff_ffff }), WAIT), "fine");
});
