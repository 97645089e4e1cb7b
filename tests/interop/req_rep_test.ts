/**
 * Interop matrix of the request-reply pairs against real libzmq peers: REQ/REP, REQ/ROUTER and
 * DEALER/REP, with Monocoque in either role, either side binding, over tcp and ipc, for every
 * message shape (pyzmq; REQ/REP also against zeromq.js under Node).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DealerSocket, RepSocket, ReqSocket, RouterSocket } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import {
  assertFrames,
  b,
  BOUNDED,
  caseName,
  eachShape,
  link,
  pairCases,
  peerType,
  receive,
  reply,
  Scratch,
  text,
} from "./_matrix.ts";

const empty = new Uint8Array();
const WHAT = "every message shape makes a request and a reply";

for (
  const c of [
    ...pairCases("REQ", "REP"),
    ...pairCases("REQ", "REP", { impls: ["zeromqjs"], transports: ["tcp"] }),
  ]
) {
  Deno.test(caseName(c, WHAT), async (t) => {
    await using scratch = await Scratch.create();
    const how = { ...c, scratch };
    if (c.monoIsLeft) {
      await using req = new ReqSocket(BOUNDED);
      await using rep = await link(req, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await req.send(frames);
        assertFrames(await rep.recv(), frames, "request at the libzmq REP");
        await rep.send(reply(frames));
        assertFrames(await receive(req), reply(frames), "reply at the Monocoque REQ");
      });
    } else {
      await using rep = new RepSocket(BOUNDED);
      await using req = await link(rep, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await req.send(frames);
        assertFrames(await receive(rep), frames, "request at the Monocoque REP");
        await rep.send(reply(frames));
        assertFrames(await req.recv(), reply(frames), "reply at the libzmq REQ");
      });
    }
  });
}

for (const c of pairCases("REQ", "ROUTER")) {
  Deno.test(caseName(c, WHAT), async (t) => {
    await using scratch = await Scratch.create();
    const how = { ...c, scratch };
    if (c.monoIsLeft) {
      await using req = new ReqSocket(BOUNDED);
      await using router = await link(req, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await req.send(frames);
        const got = await router.recv();
        assert.ok(got && got.length >= 2, "the ROUTER got an envelope");
        const [id, delimiter, ...body] = got;
        assert.ok(id.length > 0, "a routing id");
        assert.equal(delimiter.length, 0, "the REQ's empty delimiter");
        assertFrames(body, frames, "request at the libzmq ROUTER");
        await router.send([id, empty, ...reply(frames)]);
        assertFrames(await receive(req), reply(frames), "reply at the Monocoque REQ");
      });
    } else {
      await using router = new RouterSocket(BOUNDED);
      await using req = await link(router, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await req.send(frames);
        const [id, delimiter, ...body] = await receive(router);
        assert.ok(id.length > 0, "a routing id");
        assert.equal(delimiter?.length, 0, "the REQ's empty delimiter");
        assertFrames(body, frames, "request at the Monocoque ROUTER");
        await router.send([id, empty, ...reply(frames)]);
        assertFrames(await req.recv(), reply(frames), "reply at the libzmq REQ");
      });
    }
  });
}

for (const c of pairCases("DEALER", "REP")) {
  Deno.test(caseName(c, WHAT), async (t) => {
    await using scratch = await Scratch.create();
    const how = { ...c, scratch };
    if (c.monoIsLeft) {
      await using dealer = new DealerSocket(BOUNDED);
      await using rep = await link(dealer, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await dealer.send([empty, ...frames]);
        assertFrames(await rep.recv(), frames, "request at the libzmq REP");
        await rep.send(reply(frames));
        assertFrames(await receive(dealer), [empty, ...reply(frames)], "reply at the DEALER");
      });
    } else {
      await using rep = new RepSocket(BOUNDED);
      await using dealer = await link(rep, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await dealer.send([empty, ...frames]);
        assertFrames(await receive(rep), frames, "request at the Monocoque REP");
        await rep.send(reply(frames));
        assertFrames(await dealer.recv(), [empty, ...reply(frames)], "reply at the DEALER");
      });
    }
  });
}

Deno.test("REQ (monocoque, correlate + relaxed) ↔ ROUTER (pyzmq, binds) over tcp: a resent request gets only its own reply", async () => {
  await using router = await Peer.start({ type: "ROUTER", bind: "tcp://127.0.0.1:0" });
  await using req = new ReqSocket({ ...BOUNDED, correlate: true, relaxed: true });
  req.connect(router.endpoint);
  await req.send("first");
  const [id, rid1, d1, body1] = (await router.recv())!;
  assert.equal(rid1.length, 4, "a 4-byte request id, as libzmq's");
  assert.deepEqual([d1.length, text([body1])], [0, ["first"]]);
  await req.send("second"); // relaxed: no reply needed first
  const [id2, rid2, d2, body2] = (await router.recv())!;
  assert.deepEqual(id2, id);
  assert.notDeepEqual(rid2, rid1, "a new request id");
  assert.deepEqual([d2.length, text([body2])], [0, ["second"]]);
  await router.send([id, rid1, empty, b("stale")]);
  await router.send([id, rid2, empty, b("fresh")]);
  assert.deepEqual(text(await receive(req)), ["fresh"]);
});

Deno.test("REQ (pyzmq, correlate + relaxed) ↔ REP (monocoque, binds) over tcp: REP keeps libzmq's request-id envelope", async () => {
  await using rep = new RepSocket(BOUNDED);
  await rep.bind("tcp://127.0.0.1:0");
  await using req = await Peer.start({
    type: "REQ",
    connect: rep.lastEndpoint,
    options: { reqCorrelate: true, reqRelaxed: true },
  });
  await req.send(["a"]);
  assert.deepEqual(text(await receive(rep)), ["a"]);
  await rep.send("A");
  assert.deepEqual(text(await req.recv()), ["A"]);
  await req.send(["b"]);
  await req.send(["c"]); // relaxed: the reply to b is now stale
  assert.deepEqual(text(await receive(rep)), ["b"]);
  await rep.send("B");
  assert.deepEqual(text(await receive(rep)), ["c"]);
  await rep.send("C");
  assert.deepEqual(text(await req.recv()), ["C"], "libzmq matched the reply to c by request id");
});
