/**
 * The RPC server against hostile clients (raw DEALER sockets speaking a bad
 * or greedy envelope): malformed messages are dropped with an event, the
 * per-peer call limit answers RESOURCE_EXHAUSTED, oversized messages cost the
 * sender its connection, and a stream whose client never reads stops at its
 * credit window with server memory bounded.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { DealerSocket, type Message } from "../../mod.ts";
import { RpcClient, type RpcServerEvent } from "../../rpc/mod.ts";
import { liveMemory } from "../_util/memory.ts";
import { WAIT, withTimeout } from "../socket/_helpers.ts";
import { pair, rejectsWith, Test } from "./_service.ts";

const te = new TextEncoder();
const td = new TextDecoder();

async function nextEvent(
  events: AsyncIterableIterator<RpcServerEvent>,
): Promise<RpcServerEvent> {
  const r = await withTimeout(events.next(), WAIT, "server event");
  assert.ok(!r.done);
  return r.value;
}

function text(message: Message): string[] {
  return message.map((f) => td.decode(f));
}

Deno.test("RPC server drops malformed envelopes with an event and keeps serving the peer", async () => {
  await using p = await pair("tcp");
  const events = p.server.events();
  await using raw = new DealerSocket({ linger: 0 });
  raw.connect(p.server.lastEndpoint!);
  const bad: (string | Uint8Array)[][] = [
    ["hello"],
    ["call", "1", "test/echo"],
    ["call", "", "test/echo", "", "", "x"],
    ["call", "1", "test/echo", "tomorrow", "", "x"],
    ["credit", "1", "lots"],
    ["end", "1", "0", "", ""],
    [new Uint8Array([0xff, 0x00]), "1"],
  ];
  for (const frames of bad) {
    await raw.send(frames);
    const event = await nextEvent(events);
    assert.equal(event.type, "malformed", JSON.stringify(frames));
  }
  // Cancels and credits for calls that do not exist are ignored, not errors.
  await raw.send(["cancel", "99"]);
  await raw.send(["credit", "99", "5"]);
  // A deadline longer than a timer can count is no deadline, not an immediate one.
  const far = Test.methods.sleep.request.encode(20);
  await raw.send(["call", "9", "test/sleep", "999999999999999", "", far]);
  assert.deepEqual(text(await withTimeout(raw.receive(), WAIT)).slice(0, 3), ["end", "9", "0"]);
  // The same peer's valid call is still answered.
  const payload = Test.methods.echo.request.encode("still here");
  await raw.send(["call", "1", "test/echo", "", "", payload]);
  const reply = await withTimeout(raw.receive(), WAIT);
  assert.deepEqual(text(reply).slice(0, 4), ["end", "1", "0", ""]);
  assert.equal(Test.methods.echo.response.decode(reply[4]), "still here");
  // A second call under an id still in flight is refused, the first one unharmed. The first
  // sleeps long enough that a loaded machine still reads the second before it ends.
  await raw.send(["call", "2", "test/sleep", "", "", Test.methods.sleep.request.encode(1000)]);
  await raw.send(["call", "2", "test/sleep", "", "", Test.methods.sleep.request.encode(1000)]);
  assert.equal((await nextEvent(events)).type, "malformed");
  const slept = await withTimeout(raw.receive(), WAIT);
  assert.deepEqual(text(slept).slice(0, 3), ["end", "2", "0"]);
  await events.return!();
});

Deno.test("RPC server answers RESOURCE_EXHAUSTED beyond the per-peer call limit, others still served", async () => {
  await using p = await pair("tcp", { server: { maxConcurrentCallsPerPeer: 4 } });
  const events = p.server.events();
  const test = p.client.stub(Test);
  const controller = new AbortController();
  const held = Array.from({ length: 4 }, () => test.sleep(60_000, { signal: controller.signal }));
  for (const h of held) h.catch(() => {});
  const refused = test.echo("one too many");
  await rejectsWith(refused, "RESOURCE_EXHAUSTED");
  assert.equal((await nextEvent(events)).type, "exhausted");
  // Another peer has its own allowance.
  await using other = new RpcClient(p.server.lastEndpoint!);
  assert.equal(await withTimeout(other.stub(Test).echo("fine"), WAIT), "fine");
  controller.abort();
  await Promise.allSettled(held);
  await events.return!();
});

Deno.test("RPC server: a cancelled call holds its slot until its handler settles", async () => {
  await using p = await pair("tcp", { server: { maxConcurrentCallsPerPeer: 2 } });
  const test = p.client.stub(Test);
  // Call and cancel at once, twice: the handlers ignore their signals and keep running.
  for (let i = 0; i < 2; i++) {
    const controller = new AbortController();
    // Long enough to outlast the round trips below on a loaded machine.
    const call = test.stubborn(2000, { signal: controller.signal });
    controller.abort();
    await rejectsWith(call, "CANCELLED");
  }
  // Cancelling did not let the peer start more handlers than its limit.
  await rejectsWith(test.stubborn(0), "RESOURCE_EXHAUSTED");
  // Once they settle, the slots are free again.
  await withTimeout(
    (async () => {
      while (p.server.callsInFlight > 0) await new Promise((r) => setTimeout(r, 20));
    })(),
    2000 + WAIT,
    "stubborn handlers settling",
  );
  assert.equal(await withTimeout(test.stubborn(0), WAIT), "finally");
});

Deno.test("RPC server survives random frames and keeps serving", async () => {
  await using p = await pair("tcp");
  await using raw = new DealerSocket({ linger: 0 });
  raw.connect(p.server.lastEndpoint!);
  const kinds = ["call", "cancel", "credit", "data", "end", ""].map((k) => te.encode(k));
  const frame = fc.oneof(
    fc.constantFrom(...kinds, te.encode("test/echo"), te.encode("1"), te.encode("16")),
    fc.uint8Array({ maxLength: 64 }),
  );
  const messages = fc.sample(fc.array(frame, { minLength: 1, maxLength: 8 }), 500);
  for (const frames of messages) await raw.send(frames);
  // Random calls may have been answered: read until our own call's answer.
  const payload = Test.methods.echo.request.encode("alive");
  await raw.send(["call", "the-last-one", "test/echo", "", "", payload]);
  await withTimeout(
    (async () => {
      while (true) {
        const reply = await raw.receive();
        if (td.decode(reply[1]) === "the-last-one") {
          assert.equal(Test.methods.echo.response.decode(reply[4]), "alive");
          return;
        }
      }
    })(),
    WAIT,
    "the last call's answer",
  );
});

Deno.test("RPC server disconnects a peer whose message exceeds maxMessageSize", async () => {
  await using p = await pair("tcp", { server: { maxMessageSize: 1024 } });
  const big = p.client.stub(Test).echo("x".repeat(4096));
  await rejectsWith(big, "UNAVAILABLE");
  await using other = new RpcClient(p.server.lastEndpoint!);
  assert.equal(await withTimeout(other.stub(Test).echo("small"), WAIT), "small");
});

Deno.test("RPC server answers RESOURCE_EXHAUSTED for a response larger than maxMessageSize", async () => {
  await using p = await pair("inproc", { server: { maxMessageSize: 1024 } });
  const items = p.client.stub(Test).count({ to: 3, size: 4096 });
  await rejectsWith(items.next(), "RESOURCE_EXHAUSTED");
});

Deno.test("RPC server: a stream whose client never reads stops at the window, memory bounded", async () => {
  const window = 8;
  const item = 64 * 1024;
  await using p = await pair("tcp", { server: { maxStreamWindow: window } });
  // A raw client that asks for a million items of credit and never reads a byte.
  await using raw = new DealerSocket({ linger: 0 });
  raw.connect(p.server.lastEndpoint!);
  const before = liveMemory();
  const request = Test.methods.forever.request.encode(item);
  for (let i = 1; i <= 20; i++) {
    await raw.send(["call", String(i), "test/forever", "", "1000000", request]);
  }
  // Each stream's generator is pulled once past the credit it may use, then waits.
  const calls = p.server.callsInFlight;
  await withTimeout(
    (async () => {
      while (p.seen.produced < 20 * window) await new Promise((r) => setTimeout(r, 10));
    })(),
    WAIT,
    "streams filling their windows",
  );
  // Give the server time it could use to run past its windows: it must not.
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(p.seen.produced <= 20 * (window + 1), `produced ${p.seen.produced}`);
  const grown = liveMemory() - before;
  const bound = 20 * (window + 1) * item * 2 + 16 * 1024 * 1024;
  assert.ok(grown < bound, `grew ${grown} bytes, bound ${bound}`);
  assert.ok(calls <= 20);
});

Deno.test("RPC server: a client granting credit it never reads is bounded by the send high-water mark", async () => {
  const item = 64 * 1024;
  const hwm = 50;
  await using p = await pair("tcp", { server: { socket: { sendHighWaterMark: hwm } } });
  await using raw = new DealerSocket({ linger: 0, receiveHighWaterMark: 1 });
  raw.connect(p.server.lastEndpoint!);
  const before = liveMemory();
  await raw.send(["call", "1", "test/forever", "", "8", Test.methods.forever.request.encode(item)]);
  // Credit it will never use: the server believes it, the ROUTER's pipe does not grow past hwm.
  for (let i = 0; i < 800; i++) {
    await raw.send(["credit", "1", "8"]);
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  // The premise: the server produced well past what the pipe holds. Waited for, not assumed:
  // a loaded machine may not have run the generator that far by the time the credits are sent.
  await withTimeout(
    (async () => {
      while (p.seen.produced <= 2 * hwm) await new Promise((r) => setTimeout(r, 10));
    })(),
    WAIT,
    "the server producing past the high-water mark",
  );
  const grown = liveMemory() - before;
  // hwm messages queued on each side of the connection, plus the kernel's socket buffers.
  const bound = 4 * hwm * item + 16 * 1024 * 1024;
  assert.ok(grown < bound, `grew ${grown} bytes, bound ${bound}`);
});

Deno.test("RPC client: a stream the caller stops reading holds at most its window", async () => {
  await using p = await pair("inproc", { client: { streamWindow: 4 } });
  const stream = p.client.stub(Test).forever(1024);
  await withTimeout(stream.next(), WAIT);
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5));
  // One item read, a window granted: the generator ran at most a window and one ahead.
  assert.ok(p.seen.produced <= 1 + 4 + 1, `produced ${p.seen.produced}`);
  await stream.return!();
  await withTimeout(p.seen.generatorClosed.promise, WAIT, "generator cleanup");
});

Deno.test("RPC server: calls from a REQ peer are answered with its delimiter", async () => {
  const { ReqSocket } = await import("../../mod.ts");
  await using p = await pair("inproc");
  await using req = new ReqSocket({ linger: 0 });
  req.connect(p.server.lastEndpoint!);
  await req.send(["call", "1", "test/upper", "", "", te.encode("shout")]);
  const reply = await withTimeout(req.receive(), WAIT);
  assert.deepEqual(text(reply), ["end", "1", "0", "", "SHOUT"]);
});

Deno.test("RPC server cancels the calls of a peer that vanishes, freeing their slots", async () => {
  await using p = await pair("tcp", { server: { maxConcurrentCallsPerPeer: 5 } });
  // Peers that start calls that would run for a minute and leave: without the
  // cancel, each would hold its slots until the handlers ended on their own.
  for (let round = 0; round < 3; round++) {
    const raw = new DealerSocket({ linger: 0 });
    raw.connect(p.server.lastEndpoint!);
    const minute = Test.methods.sleep.request.encode(60_000);
    for (let i = 0; i < 5; i++) await raw.send(["call", String(i), "test/sleep", "", "", minute]);
    await withTimeout(
      (async () => {
        while (p.server.callsInFlight < 5) await new Promise((r) => setTimeout(r, 10));
      })(),
      WAIT,
      "the calls starting",
    );
    await raw.close();
    await withTimeout(
      (async () => {
        while (p.server.callsInFlight > 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      WAIT,
      "the vanished peer's calls cancelled",
    );
  }
  const reason = await withTimeout(p.seen.aborted.promise, WAIT, "a handler's signal");
  assert.equal((reason as { code?: string }).code, "CANCELLED");
  // Everyone else is still served.
  assert.equal(await withTimeout(p.client.stub(Test).echo("still here"), WAIT), "still here");
});
