/**
 * Interop matrix of the asynchronous request-reply pairs against real libzmq (pyzmq) peers:
 * DEALER/ROUTER with Monocoque in either role and DEALER/DEALER, either side binding, over tcp
 * and ipc, for every message shape; and a Monocoque ROUTER serving three libzmq DEALERs (with
 * and without routing ids) that routes every reply to the right one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DealerSocket, RouterSocket } from "../../mod.ts";
import { toHex } from "../_util/bytes.ts";
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
  type TransportName,
  TRANSPORTS,
  tryReceive,
} from "./_matrix.ts";

const decoder = new TextDecoder();

for (const c of pairCases("DEALER", "ROUTER")) {
  Deno.test(caseName(c, "every message shape goes out and its reply comes back"), async (t) => {
    await using scratch = await Scratch.create();
    const how = { ...c, scratch };
    if (c.monoIsLeft) {
      await using dealer = new DealerSocket(BOUNDED);
      await using router = await link(dealer, { type: peerType(c) }, how);
      await eachShape(t, async (frames) => {
        await dealer.send(frames);
        const got = await router.recv();
        assert.ok(got && got.length >= 2, "the ROUTER got a routing id and the message");
        const [id, ...body] = got;
        assert.ok(id.length > 0);
        assertFrames(body, frames, "message at the libzmq ROUTER");
        await router.send([id, ...reply(frames)]);
        assertFrames(await receive(dealer), reply(frames), "reply at the Monocoque DEALER");
      });
    } else {
      await using router = new RouterSocket(BOUNDED);
      await using dealer = await link(router, { type: peerType(c), options: {} }, how);
      await eachShape(t, async (frames) => {
        await dealer.send(frames);
        const [id, ...body] = await receive(router);
        assert.ok(id.length > 0);
        assertFrames(body, frames, "message at the Monocoque ROUTER");
        await router.send([id, ...reply(frames)]);
        assertFrames(await dealer.recv(), reply(frames), "reply at the libzmq DEALER");
      });
    }
  });
}

for (const c of pairCases("DEALER", "DEALER")) {
  Deno.test(caseName(c, "every message shape goes both ways"), async (t) => {
    await using scratch = await Scratch.create();
    await using mono = new DealerSocket(BOUNDED);
    await using peer = await link(mono, { type: "DEALER" }, { ...c, scratch });
    await eachShape(t, async (frames) => {
      await mono.send(frames);
      assertFrames(await peer.recv(), frames, "message at the libzmq DEALER");
      await peer.send(reply(frames));
      assertFrames(await receive(mono), reply(frames), "message at the Monocoque DEALER");
    });
  });
}

/**
 * Three DEALERs each send a few requests to a Monocoque ROUTER, interleaved; the ROUTER answers
 * each through its routing id; every DEALER must get exactly its own answers, in order.
 */
async function routeToThreeDealers(
  transport: TransportName,
  ids: readonly (string | undefined)[],
  mode: "dealers connect" | "router connects",
): Promise<void> {
  await using scratch = await Scratch.create();
  await using router = new RouterSocket(BOUNDED);
  const dealers: Peer[] = [];
  try {
    if (mode === "dealers connect") {
      await router.bind(scratch.endpoint(transport));
      for (const id of ids) {
        dealers.push(
          await Peer.start({
            type: "DEALER",
            connect: router.lastEndpoint,
            options: { routingId: id },
          }),
        );
      }
    } else {
      // Monocoque names each connection with connect's routingId (ZMQ_CONNECT_ROUTING_ID).
      for (const id of ids) {
        const d = await Peer.start({ type: "DEALER", bind: scratch.endpoint(transport) });
        dealers.push(d);
        router.connect(d.endpoint, id === undefined ? undefined : { routingId: id });
      }
    }
    const PER_DEALER = 5;
    // Interleave: round r, every dealer sends request r.
    for (let r = 0; r < PER_DEALER; r++) {
      for (const [i, d] of dealers.entries()) await d.send([`dealer-${i}`, `request-${r}`]);
    }
    const seenIds = new Map<number, string>();
    for (let n = 0; n < PER_DEALER * dealers.length; n++) {
      const [id, who, what, ...rest] = await receive(router);
      assert.equal(rest.length, 0);
      const i = Number(decoder.decode(who).slice("dealer-".length));
      if (ids[i] !== undefined) {
        assert.equal(decoder.decode(id), ids[i], `dealer ${i}'s routing id`);
      } else assert.ok(id.length > 0, "a generated routing id");
      const key = toHex(id); // generated ids are binary
      if (seenIds.has(i)) assert.equal(seenIds.get(i), key, `dealer ${i} keeps one id`);
      seenIds.set(i, key);
      await router.send([id, `reply-to-${i}`, what]);
    }
    assert.equal(new Set(seenIds.values()).size, dealers.length, "distinct routing ids");
    for (const [i, d] of dealers.entries()) {
      for (let r = 0; r < PER_DEALER; r++) {
        assert.deepEqual(text(await d.recv()), [`reply-to-${i}`, `request-${r}`]);
      }
      assert.equal(await d.recv(30), undefined, `dealer ${i} got nothing else`);
    }
  } finally {
    for (const d of dealers) await d.close();
  }
}

for (const transport of TRANSPORTS) {
  Deno.test(
    `ROUTER (monocoque, binds) ↔ 3 DEALERs (pyzmq) without routing ids over ${transport}: replies reach the right DEALER`,
    () => routeToThreeDealers(transport, [undefined, undefined, undefined], "dealers connect"),
  );
  Deno.test(
    `ROUTER (monocoque, binds) ↔ 3 DEALERs (pyzmq) with routing ids over ${transport}: replies reach the right DEALER`,
    () => routeToThreeDealers(transport, ["alpha", "beta", "gamma"], "dealers connect"),
  );
  Deno.test(
    `ROUTER (monocoque) ↔ 3 DEALERs (pyzmq, bind) named by connect routing ids over ${transport}: replies reach the right DEALER`,
    () => routeToThreeDealers(transport, ["east", "west", "north"], "router connects"),
  );
}

Deno.test("ROUTER (monocoque, binds) ↔ DEALER (pyzmq) over tcp: a binary routing id round trips", async () => {
  await using router = new RouterSocket(BOUNDED);
  await router.bind("tcp://127.0.0.1:0");
  const id = new Uint8Array([0, 1, 0xfe, 0xff, 0x80]);
  await using dealer = await Peer.start({
    type: "DEALER",
    connect: router.lastEndpoint,
    options: { routingIdHex: "0001feff80" },
  });
  await dealer.send(["hi"]);
  const [gotId, body] = await receive(router);
  assert.deepEqual(gotId, id);
  assert.deepEqual(text([body]), ["hi"]);
  await router.send([id, b("back")]);
  assert.deepEqual(text(await dealer.recv()), ["back"]);
});

Deno.test("ROUTER (monocoque, binds) ↔ DEALER (pyzmq, probe router) over tcp: the probe arrives as an empty message", async () => {
  await using router = new RouterSocket(BOUNDED);
  await router.bind("tcp://127.0.0.1:0");
  await using dealer = await Peer.start({
    type: "DEALER",
    connect: router.lastEndpoint,
    options: { probeRouter: true, routingId: "prober" },
  });
  const [id, probe, ...rest] = await receive(router);
  assert.deepEqual(text([id]), ["prober"]);
  assert.deepEqual([probe?.length, rest.length], [0, 0], "one empty frame");
  await router.send(["prober", "seen"]);
  assert.deepEqual(text(await dealer.recv()), ["seen"]);
});

for (const handover of [true, false]) {
  Deno.test(
    `ROUTER (monocoque, binds${
      handover ? ", handover" : ""
    }) ↔ 2 DEALERs (pyzmq) with the same routing id over tcp: ${
      handover
        ? "the newcomer takes the id over"
        : "the first keeps the id, the newcomer is refused"
    }`,
    async () => {
      await using router = new RouterSocket({ ...BOUNDED, handover });
      await router.bind("tcp://127.0.0.1:0");
      const options = { routingId: "same" };
      await using a = await Peer.start({ type: "DEALER", connect: router.lastEndpoint, options });
      await a.send(["from a"]);
      assert.deepEqual(text(await receive(router)), ["same", "from a"]);
      await using bb = await Peer.start({ type: "DEALER", connect: router.lastEndpoint, options });
      await bb.send(["from b"]);
      if (handover) {
        assert.deepEqual(text(await receive(router)), ["same", "from b"]);
        await router.send(["same", "to b"]);
        assert.deepEqual(text(await bb.recv()), ["to b"]);
        assert.equal(await a.recv(100), undefined, "the old connection gets nothing");
      } else {
        await router.send(["same", "to a"]);
        assert.deepEqual(text(await a.recv()), ["to a"]);
        assert.equal(await tryReceive(router, 200), undefined, "the duplicate is not accepted");
        assert.equal(await bb.recv(50), undefined);
      }
    },
  );
}
