/**
 * `socket.readableStream()`: one stream per reader over the shared queue, so
 * an aborted `pipeTo()` leaves the socket readable, and cancelling a stream
 * loses nothing — including the REQ/REP state of a message given back.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RepSocket, ReqSocket } from "../../mod.ts";
import type { Message } from "../../mod.ts";
import { coreOf } from "../../src/socket/_core.ts";
import {
  bindAny,
  eachTransport,
  isPending,
  pushPull,
  recvText,
  send,
  text,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

eachTransport("After an aborted pipeTo(), readableStream() gives a fresh stream", async (t) => {
  await using s = await pushPull(t);
  for (const m of ["one", "two", "three"]) await send(s.push, m);
  const stop = new AbortController();
  const first: string[] = [];
  const sink = new WritableStream<Message>({
    write([m]) {
      first.push(text(m));
      stop.abort();
    },
  });
  await withTimeout(
    s.pull.readable.pipeTo(sink, { signal: stop.signal }).catch(() => {}),
    WAIT,
    "pipeTo",
  );
  assert.deepEqual(first, ["one"]);
  // The default stream is closed for good, as any cancelled stream...
  assert.deepEqual(await s.pull.readable.getReader().read(), { done: true, value: undefined });
  // ...but the socket is not: a fresh stream reads on, nothing lost.
  const reader = s.pull.readableStream().getReader();
  assert.equal(text((await withTimeout(reader.read(), WAIT)).value![0]), "two");
  reader.releaseLock();
  assert.deepEqual(await recvText(s.pull), ["three"]);
});

eachTransport("A cancelled stream's waiting read takes no later message", async (t) => {
  await using s = await pushPull(t);
  const reader = s.pull.readableStream().getReader();
  const read = reader.read();
  assert.equal(await isPending(read), true, "the read waits in the socket");
  await reader.cancel();
  assert.deepEqual(await read, { done: true, value: undefined });
  await send(s.push, "after cancel");
  assert.deepEqual(await recvText(s.pull), ["after cancel"], "the message went to receive()");
});

Deno.test("readableStream({ signal }) errors with ECANCELED and takes nothing more", async () => {
  await using s = await pushPull("inproc");
  const ac = new AbortController();
  const reader = s.pull.readableStream({ signal: ac.signal }).getReader();
  const read = reader.read();
  ac.abort(new Error("stop"));
  await assert.rejects(withTimeout(read, WAIT), { name: "ZmqError", code: "ECANCELED" });
  await send(s.push, "kept");
  assert.deepEqual(await recvText(s.pull), ["kept"]);
});

Deno.test("Two streams over one socket share its queue without losing messages", async () => {
  await using s = await pushPull("inproc");
  const a = s.pull.readableStream().getReader();
  const b = s.pull.readableStream().getReader();
  for (let i = 0; i < 6; i++) await send(s.push, `m${i}`);
  const got: string[] = [];
  for (let i = 0; i < 3; i++) {
    got.push(text((await withTimeout(a.read(), WAIT)).value![0]));
    got.push(text((await withTimeout(b.read(), WAIT)).value![0]));
  }
  assert.deepEqual(got, ["m0", "m1", "m2", "m3", "m4", "m5"]);
  a.releaseLock();
  b.releaseLock();
});

Deno.test("A message given back to a PULL is received first, in order", async () => {
  await using s = await pushPull("inproc");
  for (const m of ["a", "b", "c"]) await send(s.push, m);
  const core = coreOf(s.pull);
  const taken = [await withTimeout(core.receive(undefined), WAIT)];
  taken.push(await withTimeout(core.receive(undefined), WAIT));
  core.giveBack(taken);
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await recvText(s.pull))[0]);
  assert.deepEqual(got, ["a", "b", "c"]);
});

eachTransport(
  "A request given back to a REP keeps its envelope: the reply still reaches the REQ",
  async (t) => {
    await using rep = new RepSocket();
    const ep = await bindAny(rep, t);
    await using req = new ReqSocket();
    req.connect(ep);
    await send(req, "question");
    // A stream reader took the request and was cancelled before handing it out.
    const core = coreOf(rep);
    const request = await withTimeout(core.receive(undefined), WAIT);
    core.giveBack([request]);
    assert.deepEqual(await recvText(rep), ["question"]);
    await send(rep, "answer");
    assert.deepEqual(await recvText(req), ["answer"]);
    // And the REP alternates as before.
    await send(req, "second");
    assert.deepEqual(await recvText(rep), ["second"]);
  },
);

Deno.test("A reply given back to a REQ is superseded by the next request", async () => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, "inproc");
  await using req = new ReqSocket();
  req.connect(ep);
  await send(req, "q1");
  await recvText(rep);
  await send(rep, "r1");
  const core = coreOf(req);
  core.giveBack([await withTimeout(core.receive(undefined), WAIT)]);
  await send(req, "q2"); // the REQ counts r1 as received: it may send, and r1 is gone
  await recvText(rep);
  await send(rep, "r2");
  assert.deepEqual(await recvText(req), ["r2"]);
});

eachTransport("A reply given back to a REQ is received next", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using req = new ReqSocket();
  req.connect(ep);
  await send(req, "q");
  await recvText(rep);
  await send(rep, "r");
  const core = coreOf(req);
  const reply = await withTimeout(core.receive(undefined), WAIT);
  core.giveBack([reply]);
  for await (const [m] of req) {
    assert.equal(text(m), "r");
    break;
  }
  await send(req, "q2"); // the REQ is in its "send" state again
  assert.deepEqual(await recvText(rep), ["q2"]);
});
