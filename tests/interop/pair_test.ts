/**
 * Interop matrix of PAIR/PAIR against real libzmq (pyzmq) peers: either side binding, over tcp
 * and ipc, every message shape in both directions, and a burst each way that keeps its order.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PairSocket } from "../../mod.ts";
import { MessageDigest, sequenceMessage } from "../_util/bytes.ts";
import {
  assertFrames,
  BOUNDED,
  caseName,
  eachShape,
  link,
  pairCases,
  receive,
  reply,
  Scratch,
} from "./_matrix.ts";

for (const c of pairCases("PAIR", "PAIR")) {
  Deno.test(caseName(c, "every message shape goes both ways"), async (t) => {
    await using scratch = await Scratch.create();
    await using mono = new PairSocket(BOUNDED);
    await using peer = await link(mono, { type: "PAIR" }, { ...c, scratch });
    await eachShape(t, async (frames) => {
      await mono.send(frames);
      assertFrames(await peer.recv(), frames, "message at the libzmq PAIR");
      await peer.send(reply(frames));
      assertFrames(await receive(mono), reply(frames), "message at the Monocoque PAIR");
    });
    await t.step("2000 messages each way, in order", async () => {
      const N = 2000;
      const prefix = new Uint8Array([0x70]);
      // The peer runs one command at a time: first it counts, then it sends.
      const counting = peer.recvCount(N);
      for (let i = 0; i < N; i++) await mono.send(sequenceMessage(i, 32, prefix));
      const got = await counting;
      assert.equal(got.count, N);
      assert.equal(got.digest, MessageDigest.ofSequence(N, 32, prefix), "at the libzmq PAIR");
      const sending = peer.sendMany(N, { size: 32, prefix });
      const digest = new MessageDigest();
      for (let i = 0; i < N; i++) digest.add(await receive(mono));
      assert.equal(digest.hex(), (await sending).digest, "at the Monocoque PAIR");
    });
  });
}
