/**
 * Interop matrix of publish-subscribe against real libzmq peers: PUB/SUB, PUB/XSUB, XPUB/SUB and
 * XPUB/XSUB with Monocoque on either side, either side binding, over tcp and ipc, for every
 * message shape (pyzmq; PUB/SUB also against zeromq.js under Node). Then prefix filtering with
 * several subscribers on either side, subscription messages seen by XPUBs on both sides, and
 * subscription changes reaching a libzmq 4.3.4 PUB.
 *
 * Subscriptions take time to propagate: the tests publish a marker until it arrives (bounded),
 * never sleep.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PubSocket, SubSocket, XPubSocket, XSubSocket } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { TimeoutError } from "../_util/timeout.ts";
import {
  assertFrames,
  b,
  BOUNDED,
  caseName,
  eachShape,
  isMarker,
  link,
  monoReceiveData,
  type PairCase,
  pairCases,
  peerRecvData,
  peerType,
  receive,
  receiveSubscription,
  Scratch,
  syncMonoSubscriber,
  syncPeerSubscriber,
  text,
  TRANSPORTS,
  tryReceive,
} from "./_matrix.ts";

const SUBSCRIBE_ALL = new Uint8Array([1]);
const WHAT = "every message shape is published to the subscriber";

// --- The matrix --------------------------------------------------------------------------------

async function pubSubCase(t: Deno.TestContext, c: PairCase): Promise<void> {
  await using scratch = await Scratch.create();
  const how = { ...c, scratch };
  const publisherIsMono = c.monoIsLeft;
  if (publisherIsMono) {
    const mono = c.left === "XPUB" ? new XPubSocket(BOUNDED) : new PubSocket(BOUNDED);
    await using _mono = mono;
    await using peer = await link(mono, { impl: c.impl, type: peerType(c) }, how);
    await peer.subscribe(""); // a SUB subscribes; an XSUB sends \x01 upstream
    if (mono instanceof XPubSocket) {
      const sub = await receiveSubscription(mono, peer);
      assertFrames(sub, [SUBSCRIBE_ALL], "the subscription at the XPUB");
    } else {
      await syncPeerSubscriber(mono, peer);
    }
    await eachShape(t, async (frames) => {
      await mono.send(frames);
      assertFrames(await peerRecvData(peer), frames, `message at the libzmq ${peer.type}`);
    });
    if (c.right === "XSUB" && c.left === "XPUB") {
      await t.step("an XSUB's upstream message reaches the XPUB", async () => {
        await peer.send(["up", "stream"]);
        assert.deepEqual(text(await receive(mono)), ["up", "stream"]);
      });
    }
  } else {
    const mono = c.right === "XSUB" ? new XSubSocket(BOUNDED) : new SubSocket(BOUNDED);
    await using _mono = mono;
    await using peer = await link(mono, { impl: c.impl, type: peerType(c) }, how);
    if (mono instanceof SubSocket) mono.subscribe("");
    else await mono.send([SUBSCRIBE_ALL]);
    if (c.left === "XPUB") {
      assertFrames(await peer.recv(), [SUBSCRIBE_ALL], "the subscription at the libzmq XPUB");
    } else {
      await syncMonoSubscriber(peer, mono);
    }
    await eachShape(t, async (frames) => {
      await peer.send(frames);
      assertFrames(await monoReceiveData(mono), frames, `message at the Monocoque ${mono.type}`);
    });
    if (c.right === "XSUB" && c.left === "XPUB") {
      await t.step("an XSUB's upstream message reaches the XPUB", async () => {
        await mono.send(["up", "stream"]);
        assert.deepEqual(text(await peer.recv()), ["up", "stream"]);
      });
    }
  }
}

for (
  const c of [
    ...pairCases("PUB", "SUB"),
    ...pairCases("PUB", "SUB", { impls: ["zeromqjs"], transports: ["tcp"] }),
    ...pairCases("PUB", "XSUB"),
    ...pairCases("XPUB", "SUB"),
    ...pairCases("XPUB", "XSUB"),
  ]
) {
  Deno.test(caseName(c, WHAT), (t) => pubSubCase(t, c));
}

// --- Prefix filtering with several subscribers ---------------------------------------------------

/** A publication: topic frame and payload frame. */
type Pub = [string, string];

/** Data published after the sync: matching, non-matching, shorter-than-prefix and nested topics. */
function publications(): Pub[] {
  const out: Pub[] = [];
  for (let r = 0; r < 6; r++) {
    for (const topic of ["a.x", "b.y", "c.z", "d.none", "a", "b", "", "a.b.c", "ab.", "c."]) {
      out.push([topic, `payload-${r}`]);
    }
  }
  return out;
}

/**
 * Checks every subscriber receives exactly the publications its prefixes match, in order,
 * nothing else: data, then per-subscriber terminators ordered so each subscriber's own
 * terminator is the last message it matches.
 */
function plan(subs: readonly (readonly string[])[]): { all: Pub[]; expected: Pub[][] } {
  const terminators: Pub[] = [["a.end", "end"], ["c.end", "end"], ["zz.end", "end"]];
  assert.ok(subs.length <= terminators.length);
  const all = [...publications(), ...terminators];
  const matches = (prefixes: readonly string[], [topic]: Pub) =>
    prefixes.some((p) => topic.startsWith(p));
  const expected = subs.map((prefixes, i) => {
    const mine = all.filter((m) => matches(prefixes, m));
    assert.deepEqual(mine.at(-1), terminators[i], "the plan's terminators");
    return mine;
  });
  return { all, expected };
}

// Subscribers and the marker each publishes to know it is subscribed (its last prefix + marker).
const SUBSCRIBERS: readonly (readonly string[])[] = [["a."], ["b.", "c."], [""]];
const markerOf = (prefixes: readonly string[]) => [`${prefixes.at(-1)}marker`];

for (const transport of TRANSPORTS) {
  for (const monoBinds of [true, false]) {
    Deno.test(
      `PUB (monocoque${monoBinds ? ", binds" : ""}) → 3 SUBs (pyzmq${
        monoBinds ? "" : ", bind"
      }) with prefixes a. / b.+c. / everything over ${transport}: each gets exactly its topics`,
      async () => {
        await using scratch = await Scratch.create();
        await using pub = new PubSocket(BOUNDED);
        const subs: Peer[] = [];
        try {
          if (monoBinds) await pub.bind(scratch.endpoint(transport));
          for (const prefixes of SUBSCRIBERS) {
            const options = { subscribe: [...prefixes] };
            if (monoBinds) {
              subs.push(await Peer.start({ type: "SUB", connect: pub.lastEndpoint, options }));
            } else {
              const s = await Peer.start({
                type: "SUB",
                bind: scratch.endpoint(transport),
                options,
              });
              subs.push(s);
              pub.connect(s.endpoint);
            }
          }
          // Sync: publish every subscriber's marker until each has seen its own.
          const synced = new Set<number>();
          const deadline = Date.now() + 10_000;
          while (synced.size < subs.length) {
            if (Date.now() > deadline) throw new TimeoutError("subscriptions never arrived");
            for (const prefixes of SUBSCRIBERS) await pub.send(markerOf(prefixes));
            await Promise.all(subs.map(async (s, i) => {
              const got = await s.recv(40);
              if (got === undefined) return;
              const topic = text(got)![0];
              assert.ok(
                SUBSCRIBERS[i].some((p) => topic.startsWith(p)),
                `SUB ${i} got a marker it did not subscribe to: ${topic}`,
              );
              if (topic === markerOf(SUBSCRIBERS[i])[0]) synced.add(i);
            }));
          }
          const { all, expected } = plan(SUBSCRIBERS);
          for (const m of all) await pub.send(m);
          await Promise.all(subs.map(async (s, i) => {
            const got: string[][] = [];
            for (let n = 0; n < expected[i].length; n++) {
              const m = await peerRecvData(s);
              assert.ok(m, `SUB ${i} got ${n} of ${expected[i].length} messages`);
              got.push(text(m)!);
            }
            assert.deepEqual(got, expected[i], `SUB ${i} (${SUBSCRIBERS[i]}) got its topics`);
            let extra = await s.recv(30);
            while (extra !== undefined && isMarker(extra)) extra = await s.recv(30);
            assert.equal(extra, undefined, `SUB ${i} got nothing more`);
          }));
        } finally {
          for (const s of subs) await s.close();
        }
      },
    );
  }
}

for (const transport of TRANSPORTS) {
  for (const monoBinds of [false, true]) {
    Deno.test(
      `PUB (pyzmq${monoBinds ? "" : ", binds"}) → 3 SUBs (monocoque${
        monoBinds ? ", bind" : ""
      }) with prefixes a. / b.+c. / everything over ${transport}: each gets exactly its topics`,
      async () => {
        await using scratch = await Scratch.create();
        await using sub0 = new SubSocket(BOUNDED);
        await using sub1 = new SubSocket(BOUNDED);
        await using sub2 = new SubSocket(BOUNDED);
        const subs = [sub0, sub1, sub2];
        SUBSCRIBERS.forEach((prefixes, i) => subs[i].subscribe(...prefixes));
        let pubPeer: Peer;
        if (monoBinds) {
          const endpoints: string[] = [];
          for (const s of subs) {
            await s.bind(scratch.endpoint(transport));
            endpoints.push(s.lastEndpoint!);
          }
          pubPeer = await Peer.start({ type: "PUB", connect: endpoints });
        } else {
          pubPeer = await Peer.start({ type: "PUB", bind: scratch.endpoint(transport) });
          for (const s of subs) s.connect(pubPeer.endpoint);
        }
        await using pub = pubPeer;
        const synced = new Set<number>();
        const deadline = Date.now() + 10_000;
        while (synced.size < subs.length) {
          if (Date.now() > deadline) throw new TimeoutError("subscriptions never arrived");
          for (const prefixes of SUBSCRIBERS) await pub.send(markerOf(prefixes));
          await Promise.all(subs.map(async (s, i) => {
            // Drain what arrived; each round publishes one marker per subscriber.
            for (;;) {
              const got = await tryReceive(s, synced.has(i) ? 1 : 40);
              if (got === undefined) return;
              const topic = text(got)![0];
              assert.ok(SUBSCRIBERS[i].some((p) => topic.startsWith(p)), `leak: ${topic}`);
              if (topic === markerOf(SUBSCRIBERS[i])[0]) synced.add(i);
            }
          }));
        }
        const { all, expected } = plan(SUBSCRIBERS);
        for (const m of all) await pub.send(m);
        await Promise.all(subs.map(async (s, i) => {
          const got: string[][] = [];
          for (let n = 0; n < expected[i].length; n++) got.push(text(await monoReceiveData(s))!);
          assert.deepEqual(got, expected[i], `SUB ${i} (${SUBSCRIBERS[i]}) got its topics`);
          let extra = await tryReceive(s, 30);
          while (extra !== undefined && isMarker(extra)) extra = await tryReceive(s, 30);
          assert.equal(extra, undefined, `SUB ${i} got nothing more`);
        }));
      },
    );
  }
}

// --- Subscription messages -------------------------------------------------------------------

for (const verbose of [false, true]) {
  Deno.test(
    `XPUB (monocoque, binds${
      verbose ? ", verbose" : ""
    }) ↔ 2 SUBs (pyzmq) over tcp: receives their subscriptions, ${
      verbose ? "duplicates included" : "each topic once"
    }, and unsubscriptions when the last subscriber goes`,
    async () => {
      await using xpub = new XPubSocket({ ...BOUNDED, verbose });
      await xpub.bind("tcp://127.0.0.1:0");
      await using sub1 = await Peer.start({
        type: "SUB",
        connect: xpub.lastEndpoint,
        options: { subscribe: "x." },
      });
      const next = async () => text(await receive(xpub, 5000, "subscription message"));
      assert.deepEqual(await next(), ["\x01x."]);
      await sub1.subscribe("y.");
      assert.deepEqual(await next(), ["\x01y."]);
      await sub1.unsubscribe("x.");
      assert.deepEqual(await next(), ["\x00x."]);
      const sub2 = await Peer.start({ type: "SUB", connect: xpub.lastEndpoint });
      try {
        await sub2.subscribe("y."); // y. is already wanted: only a verbose XPUB passes it on
        await sub2.subscribe("z.");
        if (verbose) assert.deepEqual(await next(), ["\x01y."]);
        assert.deepEqual(await next(), ["\x01z."]);
        // Filtering per subscriber: z. reaches only sub2, y. both.
        await xpub.send(["z.1", "only sub2"]);
        await xpub.send(["y.1", "both"]);
        assert.deepEqual(text(await sub2.recv()), ["z.1", "only sub2"]);
        assert.deepEqual(text(await sub2.recv()), ["y.1", "both"]);
        assert.deepEqual(text(await sub1.recv()), ["y.1", "both"]);
      } finally {
        await sub2.close();
      }
      // sub2 is gone: z. has no subscriber left, y. still has sub1.
      assert.deepEqual(await next(), ["\x00z."]);
      assert.equal(await tryReceive(xpub, 50), undefined, "y. stays subscribed");
    },
  );
}

Deno.test("SUB (monocoque) ↔ XPUB (pyzmq, binds) over tcp: subscriptions made before and after connecting reach libzmq 4.3.4", async () => {
  await using xpub = await Peer.start({
    type: "XPUB",
    bind: "tcp://127.0.0.1:0",
    options: { xpubVerbose: true },
  });
  assert.equal(xpub.libzmq, "4.3.4");
  await using sub = new SubSocket(BOUNDED);
  sub.subscribe("early.");
  sub.connect(xpub.endpoint);
  assert.deepEqual(text(await xpub.recv()), ["\x01early."]);
  sub.subscribe("weather.", b("\xff binary"));
  assert.deepEqual(text(await xpub.recv()), ["\x01weather."]);
  const bin = await xpub.recv();
  assert.deepEqual(bin, [new Uint8Array([1, ...b("\xff binary")])]);
  sub.unsubscribe("early.");
  assert.deepEqual(text(await xpub.recv()), ["\x00early."]);
  await xpub.send(["weather.today", "sunny"]);
  await xpub.send(["early.bird", "filtered out"]);
  await xpub.send(["weather.end", "done"]);
  assert.deepEqual(text(await receive(sub)), ["weather.today", "sunny"]);
  assert.deepEqual(text(await receive(sub)), ["weather.end", "done"]);
});

Deno.test("SUB (monocoque) ↔ PUB (pyzmq 4.3.4, binds) over tcp: subscribe and unsubscribe change what the PUB sends", async () => {
  await using pub = await Peer.start({ type: "PUB", bind: "tcp://127.0.0.1:0" });
  assert.equal(pub.libzmq, "4.3.4");
  await using sub = new SubSocket(BOUNDED);
  sub.subscribe("keep.");
  sub.connect(pub.endpoint);
  await syncMonoSubscriber(pub, sub, ["keep.marker"]);
  await pub.send(["drop.1", "x"]);
  await pub.send(["keep.1", "x"]);
  assert.deepEqual(text(await monoReceiveData(sub)), ["keep.1", "x"]);

  sub.unsubscribe("keep.");
  sub.subscribe("new.");
  // Publish keep.n, new.n until a new.* arrives: the PUB has then applied both changes.
  let firstNew = -1;
  const seen: string[] = [];
  const deadline = Date.now() + 10_000;
  for (let n = 0; firstNew < 0; n++) {
    if (Date.now() > deadline) throw new TimeoutError("the subscription change never arrived");
    await pub.send([`keep.${n}`, "x"]);
    await pub.send([`new.${n}`, "x"]);
    for (let m = await tryReceive(sub, 40); m; m = await tryReceive(sub, 1)) {
      const topic = text(m)![0];
      if (topic === "keep.marker") continue;
      seen.push(topic);
      if (topic.startsWith("new.") && firstNew < 0) firstNew = Number(topic.slice(4));
    }
  }
  for (let n = firstNew + 1; n < firstNew + 6; n++) {
    await pub.send([`keep.${n}`, "x"]);
    await pub.send([`new.${n}`, "x"]);
  }
  await pub.send(["new.end", "x"]);
  for (;;) {
    const topic = text(await receive(sub))![0];
    if (topic === "keep.marker") continue;
    seen.push(topic);
    if (topic === "new.end") break;
  }
  const late = seen.filter((t) => t.startsWith("keep.") && Number(t.slice(5)) > firstNew);
  assert.deepEqual(late, [], "nothing unsubscribed after the PUB applied the change");
  assert.ok(!seen.some((t) => t.startsWith("drop.")));
  const news = seen.filter((t) => t.startsWith("new.") && t !== "new.end");
  assert.deepEqual(
    news,
    Array.from({ length: 6 }, (_, i) => `new.${firstNew + i}`),
    "every new.* from the first one on, in order",
  );
});

Deno.test("XPUB (monocoque, binds, welcome message) ↔ SUB (pyzmq) over tcp: the SUB gets the welcome message", async () => {
  await using xpub = new XPubSocket({ ...BOUNDED, welcomeMessage: "WELCOME" });
  await xpub.bind("tcp://127.0.0.1:0");
  await using sub = await Peer.start({
    type: "SUB",
    connect: xpub.lastEndpoint,
    options: { subscribe: "WEL" },
  });
  assert.deepEqual(text(await sub.recv()), ["WELCOME"]);
  assert.deepEqual(text(await receive(xpub)), ["\x01WEL"]);
});

Deno.test("XPUB (pyzmq, binds, welcome message) ↔ SUB (monocoque) over tcp: the SUB gets the welcome message", async () => {
  await using xpub = await Peer.start({
    type: "XPUB",
    bind: "tcp://127.0.0.1:0",
    options: { xpubWelcomeMsg: "WELCOME" },
  });
  await using sub = new SubSocket(BOUNDED);
  sub.subscribe("WEL");
  sub.connect(xpub.endpoint);
  // libzmq sends the welcome when its socket attaches the connection, which a bound libzmq
  // socket does only when the application calls into it (here: recv).
  assert.deepEqual(text(await xpub.recv()), ["\x01WEL"]);
  assert.deepEqual(text(await receive(sub)), ["WELCOME"]);
});
