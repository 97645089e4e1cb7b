/**
 * One shape for every call that times out or is cancelled: `ZmqError`
 * `EAGAIN` for timeouts (`receiveTimeout`, `sendTimeout`,
 * `AbortSignal.timeout()`), `ECANCELED` for other aborts, the abort reason as
 * `cause`; `socket.messages({ signal })` for `for await`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PullSocket, PushSocket, ReqSocket, ZmqError } from "../../mod.ts";
import type { ZmqErrorCode } from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  isPending,
  recvText,
  send,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

async function rejectsWithCause(
  promise: Promise<unknown>,
  code: ZmqErrorCode,
  cause: (c: unknown) => boolean,
): Promise<void> {
  await assert.rejects(withTimeout(promise, WAIT), (e: unknown) => {
    assert.ok(e instanceof ZmqError, `expected a ZmqError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.ok(cause(e.cause), `unexpected cause ${String(e.cause)}`);
    return true;
  });
}

const isTimeout = (c: unknown) => c instanceof DOMException && c.name === "TimeoutError";

Deno.test("receive() aborted by AbortSignal.timeout() rejects with EAGAIN, the DOMException as cause", async () => {
  await using pull = new PullSocket();
  await bindAny(pull, "inproc");
  await rejectsWithCause(pull.receive({ signal: AbortSignal.timeout(10) }), "EAGAIN", isTimeout);
  // receiveTimeout gives the same code, without a cause.
  pull.receiveTimeout = 10;
  await assert.rejects(pull.receive(), { name: "ZmqError", code: "EAGAIN" });
});

Deno.test("send() aborted by AbortSignal.timeout() rejects with EAGAIN", async () => {
  await using push = new PushSocket(); // no peer: sends wait
  await rejectsWithCause(push.send("x", { signal: AbortSignal.timeout(10) }), "EAGAIN", isTimeout);
});

Deno.test("Other aborts reject with ECANCELED, the reason as cause, pending or already aborted", async () => {
  await using pull = new PullSocket();
  await bindAny(pull, "inproc");
  const reason = new Error("shutting down");
  const ac = new AbortController();
  const waiting = pull.receive({ signal: ac.signal });
  ac.abort(reason);
  await rejectsWithCause(waiting, "ECANCELED", (c) => c === reason);
  await rejectsWithCause(
    pull.receive({ signal: AbortSignal.abort(reason) }),
    "ECANCELED",
    (c) => c === reason,
  );
  // abort() without a reason: the cause is the DOMException "AbortError".
  await rejectsWithCause(
    pull.receive({ signal: AbortSignal.abort() }),
    "ECANCELED",
    (c) => c instanceof DOMException && c.name === "AbortError",
  );
});

eachTransport("socket.messages({ signal }) ends a for-await with ECANCELED on abort", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  await using push = new PushSocket();
  push.connect(ep);
  const ac = new AbortController();
  const got: string[] = [];
  const loop = (async () => {
    for await (const [m] of pull.messages({ signal: ac.signal })) {
      got.push(new TextDecoder().decode(m));
      if (got.length === 2) ac.abort("enough waiting");
    }
  })();
  await send(push, "a");
  await send(push, "b");
  await rejectsWithCause(loop, "ECANCELED", (c) => c === "enough waiting");
  assert.deepEqual(got, ["a", "b"]);
  // The socket is untouched: the aborted wait took nothing.
  await send(push, "c");
  assert.deepEqual(await recvText(pull), ["c"]);
});

Deno.test("socket.messages() with AbortSignal.timeout() rejects a waiting next() with EAGAIN", async () => {
  await using pull = new PullSocket();
  await bindAny(pull, "inproc");
  const it = pull.messages({ signal: AbortSignal.timeout(10) });
  await rejectsWithCause(it.next(), "EAGAIN", isTimeout);
  assert.deepEqual(await it.next(), { done: true, value: undefined }, "then it is done");
});

Deno.test("An aborted REQ receive leaves the REQ waiting for its reply", async () => {
  await using req = new ReqSocket();
  req.connect("inproc://cancellation-req-nobody");
  await send(req, "ping");
  await assert.rejects(req.receive({ signal: AbortSignal.timeout(10) }), { code: "EAGAIN" });
  // As after receiveTimeout: still in the "receive" state (the Lazy Pirate's problem).
  await assert.rejects(req.send("again"), { code: "EFSM" });
  assert.equal(await isPending(req.receive({ signal: AbortSignal.timeout(WAIT) })), true);
});
