/**
 * `merge()`: several sockets in one `for await`, fair between them, waiting
 * without polling, and losing nothing when it ends.
 *
 * @module
 */

import assert from "node:assert/strict";
import { merge, PubSocket, PullSocket, ZmqError } from "../../mod.ts";
import type { MergedMessage } from "../../mod.ts";
import { coreOf } from "../../src/socket/_core.ts";
import {
  bindAny,
  eachTransport,
  isPending,
  pushPull,
  recvText,
  send,
  text,
  until,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

eachTransport("merge() alternates between sockets that both have messages", async (t) => {
  const a = await pushPull(t);
  const b = await pushPull(t);
  try {
    for (let i = 0; i < 5; i++) {
      await send(a.push, `a${i}`);
      await send(b.push, `b${i}`);
    }
    // Both queues filled before the merge starts.
    await withTimeout(
      Promise.all([a.pull, b.pull].map(async (p) => {
        while (![...coreOfPipes(p)].some((n) => n >= 5)) await new Promise((r) => setTimeout(r, 1));
      })),
      WAIT,
    );
    const got: string[] = [];
    for await (const { socket, message } of merge([a.pull, b.pull])) {
      got.push(`${socket === a.pull ? "A" : "B"}:${text(message[0])}`);
      if (got.length === 10) break;
    }
    assert.deepEqual(got, [
      "A:a0",
      "B:b0",
      "A:a1",
      "B:b1",
      "A:a2",
      "B:b2",
      "A:a3",
      "B:b3",
      "A:a4",
      "B:b4",
    ]);
  } finally {
    for (const s of [a.push, a.pull, b.push, b.pull]) await s.close();
  }
});

/** The queue length of each of a socket's peers. */
function* coreOfPipes(socket: PullSocket): Generator<number> {
  for (const pipe of coreOf(socket).pipes) yield pipe.inbox?.size ?? 0;
}

eachTransport("merge() waits for whichever socket receives first", async (t) => {
  const a = await pushPull(t);
  const b = await pushPull(t);
  try {
    const it = merge([a.pull, b.pull]);
    const next = it.next();
    assert.equal(await isPending(next), true);
    await send(b.push, "from b");
    const { value } = await withTimeout(next, WAIT);
    assert.equal(value!.socket, b.pull);
    assert.equal(text(value!.message[0]), "from b");
    await it.return!();
  } finally {
    for (const s of [a.push, a.pull, b.push, b.pull]) await s.close();
  }
});

eachTransport("Ending a merge gives back what it took: the next receive() gets it", async (t) => {
  const a = await pushPull(t);
  const b = await pushPull(t);
  try {
    const it = merge([a.pull, b.pull]);
    const first = it.next();
    assert.equal(await isPending(first), true, "both sockets have a receive armed");
    await send(a.push, "a0");
    await send(b.push, "b0");
    await send(a.push, "a1");
    const { value } = await withTimeout(first, WAIT);
    const other = value!.socket === a.pull ? b : a;
    // The other socket's armed receive takes its message into the merge: then it waits no more.
    await until(() => !coreOf(other.pull).receiving, "the other receive taking its message");
    await it.return!();
    const got = [text(value!.message[0]), ...await recvText(other.pull)];
    const rest = await recvText(value!.socket === a.pull ? a.pull : b.pull);
    assert.deepEqual(new Set([...got, ...rest]), new Set(["a0", "b0", "a1"]));
  } finally {
    for (const s of [a.push, a.pull, b.push, b.pull]) await s.close();
  }
});

Deno.test("merge() ignores the sockets' receiveTimeout and stops on its signal with ECANCELED", async () => {
  await using pull = new PullSocket({ receiveTimeout: 1 });
  await bindAny(pull, "inproc");
  const ac = new AbortController();
  const it = merge([pull], { signal: ac.signal });
  const next = it.next();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await isPending(next), true, "no EAGAIN from receiveTimeout");
  ac.abort("done");
  await assert.rejects(
    withTimeout(next, WAIT),
    (e) => e instanceof ZmqError && e.code === "ECANCELED" && e.cause === "done",
  );
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

Deno.test("A socket that closes leaves the merge; the merge ends when all have", async () => {
  const a = await pushPull("inproc");
  const b = await pushPull("inproc");
  const seen: MergedMessage<PullSocket>[] = [];
  const loop = (async () => {
    for await (const m of merge([a.pull, b.pull])) seen.push(m);
  })();
  await a.pull.close();
  await send(b.push, "still here");
  await withTimeout(
    (async () => {
      while (seen.length === 0) await new Promise((r) => setTimeout(r, 1));
    })(),
    WAIT,
  );
  assert.equal(seen[0].socket, b.pull);
  await b.pull.close();
  await withTimeout(loop, WAIT, "merge end");
  await a.push.close();
  await b.push.close();
});

Deno.test("merge() throws a socket's error, e.g. a PUB that cannot receive", async () => {
  await using pub = new PubSocket();
  await using pull = new PullSocket();
  await assert.rejects(merge([pull, pub]).next(), { name: "ZmqError", code: "ENOTSUP" });
  assert.throws(() => merge([pull, pull]), TypeError);
});
