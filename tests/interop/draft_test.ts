/**
 * Interop of the draft socket types against real libzmq built with drafts
 * (zeromq.js 6.8.0's `zeromq/draft` under Node, libzmq 4.3.5; pyzmq's libzmq
 * 4.3.4 has no drafts): CLIENT/SERVER (spec 41) and SCATTER/GATHER (spec 49)
 * with Monocoque in either role, either side binding, over tcp and ipc, for
 * every single-frame message shape.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ClientSocket, GatherSocket, ScatterSocket, ServerSocket } from "../../mod.ts";
import {
  assertFrames,
  BOUNDED,
  caseName,
  eachShape,
  link,
  pairCases,
  peerType,
  receive,
  Scratch,
  SHAPES,
} from "./_matrix.ts";

const SINGLE = SHAPES.filter((s) => s.frames.length === 1);
const ZEROMQJS = { impls: ["zeromqjs"] } as const;

for (const c of pairCases("CLIENT", "SERVER", ZEROMQJS)) {
  Deno.test(caseName(c, "every single-frame shape is asked and answered"), async (t) => {
    await using scratch = await Scratch.create();
    const how = { ...c, scratch };
    if (c.monoIsLeft) {
      await using client = new ClientSocket(BOUNDED);
      await using server = await link(client, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async ([frame]) => {
        await client.send(frame);
        const request = await server.recv();
        assertFrames(request, [frame], "request at the libzmq SERVER");
        assert.ok(typeof request!.routingId === "number" && request!.routingId !== 0);
        await server.send([frame], { routingId: request!.routingId });
        assertFrames(await receive(client), [frame], "reply at the Monocoque CLIENT");
      }, SINGLE);
    } else {
      await using server = new ServerSocket(BOUNDED);
      await using client = await link(server, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async ([frame]) => {
        await client.send([frame]);
        const request = await server.receive();
        assertFrames(request, [frame], "request at the Monocoque SERVER");
        await server.send(frame, { routingId: request.routingId });
        assertFrames(await client.recv(), [frame], "reply at the libzmq CLIENT");
      }, SINGLE);
    }
  });
}

for (const c of pairCases("SCATTER", "GATHER", ZEROMQJS)) {
  Deno.test(caseName(c, "every single-frame shape is scattered through"), async (t) => {
    await using scratch = await Scratch.create();
    const how = { ...c, scratch };
    if (c.monoIsLeft) {
      await using scatter = new ScatterSocket(BOUNDED);
      await using gather = await link(scatter, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await scatter.send(frames);
        assertFrames(await gather.recv(), frames, "message at the libzmq GATHER");
      }, SINGLE);
    } else {
      await using gather = new GatherSocket(BOUNDED);
      await using scatter = await link(gather, { impl: c.impl, type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await scatter.send(frames);
        assertFrames(await receive(gather), frames, "message at the Monocoque GATHER");
      }, SINGLE);
    }
  });
}
