/**
 * A peer that sends one burst and then goes quiet must not keep the socket's
 * big read buffer (256 KiB) or a run copied from it alive: libzmq reads into
 * a fixed 8 KiB batch, so a thousand such peers cost it megabytes, not a
 * quarter of a gigabyte. Memory is heap plus external after a full collection.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RouterSocket } from "../../mod.ts";
import { pooledReadBytes } from "../../src/socket/_pipe.ts";
import { liveMemory } from "../_util/memory.ts";
import { withTimeout } from "../_util/timeout.ts";
import { cat, greeting, message, RawPeer, ready, WAIT } from "./_helpers.ts";

const PEERS = 40;
const KiB = 1024;

Deno.test("Peers that each sent a 1 MiB burst and went quiet hold no big read buffer", async () => {
  await using router = new RouterSocket({ linger: 0 });
  await router.bind("tcp://127.0.0.1:0");
  const endpoint = router.lastEndpoint!;
  // 1 MiB of 1000-byte messages, then a short one that marks the end.
  const one = message(new Uint8Array(1000).fill(7));
  const burst = new Uint8Array(one.length * 1048);
  for (let i = 0; i < 1048; i++) burst.set(one, i * one.length);
  const end = message("end");

  const before = liveMemory() - pooledReadBytes();
  const peers: RawPeer[] = [];
  try {
    for (let i = 0; i < PEERS; i++) {
      const peer = await RawPeer.connect(endpoint);
      peers.push(peer);
      await peer.write(cat(greeting(), ready("DEALER")));
    }
    let ends = 0;
    const received = (async () => {
      while (ends < PEERS) if ((await router.receive()).at(-1)!.length === 3) ends++;
    })();
    await Promise.all(peers.map(async (p) => {
      assert.ok(await p.write(burst), "the burst was written");
      assert.ok(await p.write(end), "the end marker was written");
    }));
    await withTimeout(received, WAIT, "every burst received");
    // The process-wide pool of idle read chunks is bounded (2 MiB) and not per peer.
    const perPeer = (liveMemory() - pooledReadBytes() - before) / PEERS;
    // Measured: 30 KiB (raw peer included); 282 KiB before the read chunk and the last
    // run were let go.
    assert.ok(perPeer < 64 * KiB, `a quiet peer costs ${(perPeer / KiB).toFixed(1)} KiB`);
  } finally {
    for (const p of peers) await p[Symbol.asyncDispose]();
  }
});
