/**
 * SCATTER and GATHER (rfc.zeromq.org spec 49) over every transport, against
 * libzmq's src/scatter.cpp and src/gather.cpp: PUSH/PULL for single-frame
 * messages, multipart refused at the call and dropped on receipt.
 *
 * @module
 */

import assert from "node:assert/strict";
import { GatherSocket, ScatterSocket } from "../../mod.ts";
import { greeting, message, RawPeer, ready } from "../reliability/_helpers.ts";
import {
  bindAny,
  eachTransport,
  handshakes,
  recvText,
  rejectsWith,
  send,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

eachTransport(
  "ScatterSocket delivers each message once, round-robin, to two GatherSockets",
  async (t) => {
    await using scatter = new ScatterSocket();
    const ep = await bindAny(scatter, t);
    await using g1 = new GatherSocket();
    await using g2 = new GatherSocket();
    const ready = handshakes(scatter, 2);
    g1.connect(ep);
    g2.connect(ep);
    await withTimeout(ready, WAIT, "handshakes");
    for (let i = 0; i < 10; i++) await send(scatter, `m${i}`);
    const got: string[][] = [[], []];
    for (let i = 0; i < 5; i++) {
      got[0].push((await recvText(g1))[0]);
      got[1].push((await recvText(g2))[0]);
    }
    assert.deepEqual(got.flat().sort(), [...Array(10).keys()].map((i) => `m${i}`).sort());
    for (const mine of got) {
      const idx = mine.map((m) => Number(m.slice(1)));
      for (let k = 1; k < idx.length; k++) assert.equal(idx[k] - idx[k - 1], 2);
    }
  },
);

eachTransport("GatherSocket fair-queues from two ScatterSockets", async (t) => {
  await using gather = new GatherSocket();
  const ep = await bindAny(gather, t);
  await using a = new ScatterSocket();
  await using b = new ScatterSocket();
  a.connect(ep);
  b.connect(ep);
  for (let i = 0; i < 3; i++) {
    await send(a, `a${i}`);
    await send(b, `b${i}`);
  }
  const got: string[] = [];
  for (let i = 0; i < 6; i++) got.push((await recvText(gather))[0]);
  assert.deepEqual(got.filter((m) => m[0] === "a"), ["a0", "a1", "a2"]);
  assert.deepEqual(got.filter((m) => m[0] === "b"), ["b0", "b1", "b2"]);
});

Deno.test("ScatterSocket rejects a multipart send with EINVAL and cannot receive", async () => {
  await using scatter = new ScatterSocket();
  await rejectsWith(scatter.send(["a", "b"]), "EINVAL");
  await rejectsWith(scatter.receive(), "ENOTSUP");
});

Deno.test("GatherSocket cannot send", async () => {
  await using gather = new GatherSocket();
  await rejectsWith(gather.send("x"), "ENOTSUP");
});

Deno.test("GatherSocket drops a multipart message from a SCATTER peer and keeps the peer", async () => {
  await using gather = new GatherSocket();
  await gather.bind("tcp://127.0.0.1:0");
  await using raw = await RawPeer.connect(gather.lastEndpoint!);
  await raw.write(greeting());
  await raw.readExactly(64);
  await raw.write(ready("SCATTER"));
  await raw.write(message("multi", "part"));
  await raw.write(message("after"));
  await raw.write(message("x", "y", "z"));
  await raw.write(message("last"));
  assert.deepEqual(await recvText(gather), ["after"]);
  assert.deepEqual(await recvText(gather), ["last"]);
});
