/**
 * Interop matrix of the request-reply pairs against real libzmq peers: REQ/REP, REQ/ROUTER and
 * DEALER/REP, with Monocoque in either role, either side binding, over tcp and ipc, for every
 * message shape (pyzmq; REQ/REP also against zeromq.js under Node).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DealerSocket, RepSocket, ReqSocket, RouterSocket } from "../../mod.ts";
import {
  assertFrames,
  BOUNDED,
  caseName,
  eachShape,
  link,
  pairCases,
  peerType,
  receive,
  reply,
  Scratch,
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
