/**
 * The idiomatic ways to use a socket — `for await`, `readable`, `writable`,
 * unawaited `send()`s — behave as the `receive()`/`send()` calls they stand
 * for: order, state checks, timeouts, close, and no message lost or taken
 * early.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PullSocket, PushSocket, RepSocket, ReqSocket } from "../../mod.ts";
import type { Socket, ZmqError } from "../../mod.ts";
import { coreOf } from "../../src/socket/_core.ts";
import {
  bindAny,
  eachTransport,
  isPending,
  pushPull,
  recvText,
  rejectsWith,
  send,
  text,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

/** Messages waiting in `socket`'s inbox (what the idioms may take without waiting). */
function queued(socket: Socket): number {
  let n = 0;
  for (const pipe of coreOf(socket).pipes) n += pipe.inbox?.size ?? 0;
  return n;
}

/** Resolves once `n` messages wait in `socket`'s inbox, checking after each macrotask. */
async function untilQueued(socket: Socket, n: number): Promise<void> {
  const wait = async () => {
    while (queued(socket) < n) await new Promise((r) => setTimeout(r, 0));
  };
  await withTimeout(wait(), WAIT, `${n} queued messages`);
}

eachTransport("for await over a socket takes queued messages in order, then waits", async (t) => {
  await using s = await pushPull(t);
  for (let i = 0; i < 50; i++) await send(s.push, `m${i}`);
  await untilQueued(s.pull, 50);
  const got: string[] = [];
  const loop = (async () => {
    for await (const [m] of s.pull) {
      got.push(text(m));
      if (got.length === 51) break;
    }
  })();
  await send(s.push, "late");
  await withTimeout(loop, WAIT, "iteration");
  assert.deepEqual(got, [...Array.from({ length: 50 }, (_, i) => `m${i}`), "late"]);
});

eachTransport("break out of for await leaves the next message to receive()", async (t) => {
  await using s = await pushPull(t);
  for (let i = 0; i < 5; i++) await send(s.push, `m${i}`);
  await untilQueued(s.pull, 5);
  for await (const [m] of s.pull) {
    assert.equal(text(m), "m0");
    break;
  }
  assert.deepEqual(await recvText(s.pull), ["m1"]);
  // A new iteration continues where receive() left off.
  const it = s.pull[Symbol.asyncIterator]();
  assert.deepEqual(text((await it.next()).value[0]), "m2");
  assert.deepEqual(await it.return!(), { done: true, value: undefined });
  assert.deepEqual(await it.next(), { done: true, value: undefined }, "done after return()");
  assert.deepEqual(await recvText(s.pull), ["m3"]);
});

eachTransport("for await ends when the socket closes while it waits", async (t) => {
  const pull = new PullSocket();
  await bindAny(pull, t);
  const loop = (async () => {
    for await (const _ of pull) assert.fail("nothing was sent");
    return "ended";
  })();
  assert.equal(await isPending(loop), true);
  await pull.close();
  assert.equal(await withTimeout(loop, WAIT, "iteration"), "ended");
});

eachTransport("for await throws EAGAIN after receiveTimeout, then is done", async (t) => {
  await using pull = new PullSocket({ receiveTimeout: 20 });
  await bindAny(pull, t);
  const it = pull[Symbol.asyncIterator]();
  await rejectsWith(it.next(), "EAGAIN");
  assert.deepEqual(await it.next(), { done: true, value: undefined });
  // Each wait has its own timeout: a fresh iteration waits again.
  await rejectsWith(pull[Symbol.asyncIterator]().next(), "EAGAIN");
});

eachTransport("Concurrent next() calls of one iterator resolve in order", async (t) => {
  await using s = await pushPull(t);
  const it = s.pull[Symbol.asyncIterator]();
  const pending = [it.next(), it.next(), it.next()];
  for (let i = 0; i < 3; i++) await send(s.push, `m${i}`);
  const got = await withTimeout(Promise.all(pending), WAIT, "three next()");
  assert.deepEqual(got.map((r) => text(r.value![0])), ["m0", "m1", "m2"]);
  await it.return!();
});

eachTransport("Iterating a REQ socket keeps its state checks", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using req = new ReqSocket();
  req.connect(ep);
  // No request sent: the iterator throws EFSM as receive() would.
  await rejectsWith(req[Symbol.asyncIterator]().next(), "EFSM");
  await send(req, "ping");
  const it = rep[Symbol.asyncIterator]();
  const request = await withTimeout(it.next(), WAIT, "request");
  assert.equal(text(request.value![0]), "ping");
  // A REP must reply before it takes the next request.
  await rejectsWith(it.next(), "EFSM");
  await send(rep, "pong");
  assert.deepEqual(await recvText(req), ["pong"]);
  // The reply was taken: receiving again without a request is EFSM.
  await rejectsWith(req[Symbol.asyncIterator]().next(), "EFSM");
});

eachTransport("A REP served with for await answers every request", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using req = new ReqSocket();
  req.connect(ep);
  const serving = (async () => {
    let n = 0;
    for await (const [m] of rep) {
      await rep.send(`re:${text(m)}`);
      if (++n === 20) break;
    }
  })();
  for (let i = 0; i < 20; i++) {
    await send(req, `${i}`);
    assert.deepEqual(await recvText(req), [`re:${i}`]);
  }
  await withTimeout(serving, WAIT, "serving");
});

eachTransport(
  "socket.readable takes one message per read, the rest stay queued",
  async (t) => {
    await using s = await pushPull(t);
    const n = 40;
    for (let i = 0; i < n; i++) await send(s.push, `m${i}`);
    await untilQueued(s.pull, n);
    const reader = s.pull.readable.getReader();
    for (let i = 0; i < 3; i++) {
      assert.equal(text((await withTimeout(reader.read(), WAIT, "read")).value![0]), `m${i}`);
      assert.equal(queued(s.pull), n - i - 1, "nothing taken beyond the read");
    }
    reader.releaseLock();
    assert.deepEqual(await recvText(s.pull), ["m3"]);
    // Reading on through the stream continues in order.
    const rest: string[] = [];
    for await (const [m] of s.pull.readable) {
      rest.push(text(m));
      if (rest.length === n - 4) break;
    }
    assert.deepEqual(rest, Array.from({ length: n - 4 }, (_, i) => `m${4 + i}`));
  },
);

eachTransport("socket.readable takes nothing before a read", async (t) => {
  await using s = await pushPull(t);
  const readable = s.pull.readable;
  await send(s.push, "first");
  await untilQueued(s.pull, 1);
  // Give a stream that pulls on its own a turn to do it.
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(queued(s.pull), 1, "the stream did not pull on its own");
  assert.deepEqual(await recvText(s.pull), ["first"]);
  assert.equal(readable.locked, false);
});

eachTransport("socket.readable closes when the socket closes while a read waits", async (t) => {
  const pull = new PullSocket();
  await bindAny(pull, t);
  const reader = pull.readable.getReader();
  const read = reader.read();
  assert.equal(await isPending(read), true);
  await pull.close();
  assert.deepEqual(await withTimeout(read, WAIT, "read"), { done: true, value: undefined });
});

eachTransport("socket.readable errors with EAGAIN after receiveTimeout", async (t) => {
  await using pull = new PullSocket({ receiveTimeout: 20 });
  await bindAny(pull, t);
  await rejectsWith(pull.readable.getReader().read(), "EAGAIN");
});

eachTransport("socket.readable.pipeTo() delivers every queued message in order", async (t) => {
  await using s = await pushPull(t);
  const n = 500;
  for (let i = 0; i < n; i++) await send(s.push, `${i}`);
  const got: string[] = [];
  const stop = new AbortController();
  const sink = new WritableStream<Uint8Array[]>({
    write([m]) {
      got.push(text(m));
      if (got.length === n) stop.abort();
    },
  });
  await withTimeout(
    s.pull.readable.pipeTo(sink, { signal: stop.signal }).catch(() => {}),
    WAIT,
    "pipeTo",
  );
  assert.deepEqual(got, Array.from({ length: n }, (_, i) => `${i}`));
});

eachTransport("A writable writer keeps order with interleaved send() calls", async (t) => {
  await using s = await pushPull(t);
  const writer = s.push.writable.getWriter();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 10; i++) {
    writes.push(writer.write(`w${i}`));
    writes.push(s.push.send(`s${i}`));
  }
  await withTimeout(Promise.all(writes), WAIT, "writes");
  writer.releaseLock();
  const got = new Set<string>();
  for (let i = 0; i < 20; i++) got.add((await recvText(s.pull))[0]);
  // Each source arrives in its own order.
  const ws = [...got].filter((x) => x.startsWith("w"));
  const ss = [...got].filter((x) => x.startsWith("s"));
  assert.deepEqual(ws, Array.from({ length: 10 }, (_, i) => `w${i}`));
  assert.deepEqual(ss, Array.from({ length: 10 }, (_, i) => `s${i}`));
});

Deno.test("200 000 unawaited sends to a PULL over inproc all arrive in order", async () => {
  await using s = await pushPull("inproc");
  const n = 200_000;
  let last: Promise<void> = Promise.resolve();
  for (let i = 0; i < n; i++) last = s.push.send(String(i));
  let expected = 0;
  const receiving = (async () => {
    for await (const [m] of s.pull) {
      assert.equal(text(m), String(expected));
      if (++expected === n) break;
    }
  })();
  await withTimeout(Promise.all([last, receiving]), 60_000, "200 000 messages");
  assert.equal(expected, n);
});

Deno.test("Aborted sends in the middle of the queue leave the others in order", async () => {
  await using push = new PushSocket();
  // No peer yet: every send waits in the queue.
  const aborts = Array.from({ length: 100 }, () => new AbortController());
  const sends = aborts.map((ac, i) => push.send(`${i}`, { signal: ac.signal }));
  const cancelled = new Set([0, 1, 17, 50, 51, 52, 98]);
  const reasons = aborts.map((_, i) => new Error(`stop ${i}`));
  for (const i of cancelled) aborts[i].abort(reasons[i]);
  for (const i of cancelled) {
    await assert.rejects(
      sends[i],
      (e: ZmqError) => e.code === "ECANCELED" && e.cause === reasons[i],
    );
  }
  await using pull = new PullSocket();
  push.connect(await bindAny(pull, "inproc"));
  const kept = sends.filter((_, i) => !cancelled.has(i));
  await withTimeout(Promise.all(kept), WAIT, "sends");
  for (let i = 0; i < 100; i++) {
    if (cancelled.has(i)) continue;
    assert.deepEqual(await recvText(pull), [`${i}`]);
  }
});

Deno.test("Aborted receives in the middle of the queue leave the others in order", async () => {
  await using s = await pushPull("inproc");
  const aborts = Array.from({ length: 10 }, () => new AbortController());
  const receives = aborts.map((ac) => s.pull.receive({ signal: ac.signal }));
  for (const i of [0, 4, 5, 9]) {
    aborts[i].abort(new Error("stop"));
    await assert.rejects(
      receives[i],
      (e: ZmqError) => e.code === "ECANCELED" && (e.cause as Error).message === "stop",
    );
  }
  for (let i = 0; i < 6; i++) await send(s.push, `m${i}`);
  const kept = [1, 2, 3, 6, 7, 8].map((i) => receives[i]);
  const got = await withTimeout(Promise.all(kept), WAIT, "receives");
  assert.deepEqual(got.map(([m]) => text(m)), ["m0", "m1", "m2", "m3", "m4", "m5"]);
});

eachTransport(
  "A REQ receive() with an already aborted signal leaves the socket usable",
  async (t) => {
    await using rep = new RepSocket();
    const ep = await bindAny(rep, t);
    await using req = new ReqSocket();
    req.connect(ep);
    await send(req, "ping");
    const ac = new AbortController();
    ac.abort(new Error("early"));
    await assert.rejects(
      req.receive({ signal: ac.signal }),
      (e: ZmqError) => e.code === "ECANCELED" && (e.cause as Error).message === "early",
    );
    const [m] = await withTimeout(rep.receive(), WAIT, "request");
    await send(rep, m);
    assert.deepEqual(await recvText(req), ["ping"]);
  },
);
