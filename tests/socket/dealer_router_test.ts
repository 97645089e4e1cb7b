/**
 * DEALER and ROUTER behaviour over every transport, against libzmq's
 * documented semantics (zmq_socket: ZMQ_DEALER, ZMQ_ROUTER; zmq_setsockopt:
 * ZMQ_ROUTING_ID, ZMQ_CONNECT_ROUTING_ID, ZMQ_ROUTER_MANDATORY,
 * ZMQ_ROUTER_HANDOVER).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DealerSocket, RouterSocket } from "../../mod.ts";
import type { Socket, SocketEvent } from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  handshakes,
  nextEvents,
  recv,
  recvText,
  rejectsWith,
  send,
  text,
} from "./_helpers.ts";

eachTransport("DealerSocket round-robins messages over its peers", async (t) => {
  await using a = new RouterSocket();
  await using b = new RouterSocket();
  const epA = await bindAny(a, t);
  const epB = await bindAny(b, t);
  await using dealer = new DealerSocket();
  const ready = handshakes(dealer, 2);
  dealer.connect(epA);
  dealer.connect(epB);
  await ready;
  for (let i = 0; i < 6; i++) await send(dealer, `m${i}`);
  const gotA = [], gotB = [];
  for (let i = 0; i < 3; i++) gotA.push((await recvText(a))[1]);
  for (let i = 0; i < 3; i++) gotB.push((await recvText(b))[1]);
  const evens = ["m0", "m2", "m4"], odds = ["m1", "m3", "m5"];
  assert.ok(
    JSON.stringify([gotA, gotB]) === JSON.stringify([evens, odds]) ||
      JSON.stringify([gotA, gotB]) === JSON.stringify([odds, evens]),
    `not round-robin: ${JSON.stringify([gotA, gotB])}`,
  );
});

eachTransport("DealerSocket fair-queues messages from its peers in per-peer order", async (t) => {
  await using a = new RouterSocket();
  await using b = new RouterSocket();
  const epA = await bindAny(a, t);
  const epB = await bindAny(b, t);
  await using dealer = new DealerSocket({ routingId: "d" });
  const ready = Promise.all([handshakes(a), handshakes(b)]);
  dealer.connect(epA);
  dealer.connect(epB);
  await ready;
  for (let i = 0; i < 10; i++) {
    await send(a, ["d", `a${i}`]);
    await send(b, ["d", `b${i}`]);
  }
  const got: string[] = [];
  for (let i = 0; i < 20; i++) got.push((await recvText(dealer))[0]);
  assert.deepEqual(got.filter((m) => m[0] === "a"), [...Array(10).keys()].map((i) => `a${i}`));
  assert.deepEqual(got.filter((m) => m[0] === "b"), [...Array(10).keys()].map((i) => `b${i}`));
});

eachTransport("DealerSocket sends multipart messages whole", async (t) => {
  await using router = new RouterSocket();
  const ep = await bindAny(router, t);
  await using dealer = new DealerSocket({ routingId: "d" });
  dealer.connect(ep);
  await send(dealer, ["one", "", "three"]);
  assert.deepEqual(await recvText(router), ["d", "one", "", "three"]);
  await send(router, ["d", "x", "", "z"]);
  assert.deepEqual(await recvText(dealer), ["x", "", "z"]);
});

eachTransport(
  "RouterSocket prefixes a generated 5-byte routing id starting with a zero byte",
  async (t) => {
    await using router = new RouterSocket();
    const ep = await bindAny(router, t);
    await using d1 = new DealerSocket();
    await using d2 = new DealerSocket();
    d1.connect(ep);
    d2.connect(ep);
    await send(d1, "from d1");
    await send(d2, "from d2");
    const m1 = await recv(router);
    const m2 = await recv(router);
    for (const m of [m1, m2]) {
      assert.equal(m.length, 2);
      assert.equal(m[0].length, 5);
      assert.equal(m[0][0], 0);
    }
    assert.notDeepEqual(m1[0], m2[0]);
    // Replies are routed by that id.
    const byBody = new Map([[text(m1[1]), m1[0]], [text(m2[1]), m2[0]]]);
    await send(router, [byBody.get("from d2")!, "to d2"]);
    await send(router, [byBody.get("from d1")!, "to d1"]);
    assert.deepEqual(await recvText(d1), ["to d1"]);
    assert.deepEqual(await recvText(d2), ["to d2"]);
  },
);

eachTransport("RouterSocket uses the peer's routingId option as its identity", async (t) => {
  await using router = new RouterSocket();
  const ep = await bindAny(router, t);
  await using dealer = new DealerSocket({ routingId: "alice" });
  await using binary = new DealerSocket({ routingId: new Uint8Array([1, 2, 3]) });
  dealer.connect(ep);
  binary.connect(ep);
  await send(dealer, "hi");
  assert.deepEqual(await recvText(router), ["alice", "hi"]);
  await send(binary, "hey");
  const [id, body] = await recv(router);
  assert.deepEqual(id, new Uint8Array([1, 2, 3]));
  assert.equal(text(body), "hey");
  await send(router, ["alice", "hello alice"]);
  assert.deepEqual(await recvText(dealer), ["hello alice"]);
});

eachTransport("RouterSocket silently drops a message for an unknown routing id", async (t) => {
  await using router = new RouterSocket();
  const ep = await bindAny(router, t);
  await using dealer = new DealerSocket({ routingId: "known" });
  const ready = handshakes(router);
  dealer.connect(ep);
  await ready;
  await send(router, ["nobody", "lost"]);
  await send(router, ["known", "delivered"]);
  assert.deepEqual(await recvText(dealer), ["delivered"]);
});

eachTransport(
  "RouterSocket with mandatory rejects a message for an unknown routing id with EHOSTUNREACH",
  async (t) => {
    await using router = new RouterSocket({ mandatory: true });
    const ep = await bindAny(router, t);
    await rejectsWith(router.send(["nobody", "lost"]), "EHOSTUNREACH");
    await using dealer = new DealerSocket({ routingId: "known" });
    const ready = handshakes(router);
    dealer.connect(ep);
    await ready;
    await send(router, ["known", "delivered"]);
    assert.deepEqual(await recvText(dealer), ["delivered"]);
    // Once the peer is gone its id is unknown again.
    const gone = nextEvents(router, "disconnected");
    await dealer.close();
    await gone;
    await rejectsWith(router.send(["known", "lost"]), "EHOSTUNREACH");
  },
);

/** Records a socket's events from now on; `stop()` ends the recording. */
function record(socket: Socket): { events: SocketEvent[]; stop(): void } {
  const events: SocketEvent[] = [];
  const it = socket.events();
  (async () => {
    for await (const e of it) events.push(e);
  })();
  return { events, stop: () => void it.return?.() };
}

const count = (events: SocketEvent[], type: SocketEvent["type"]) =>
  events.filter((e) => e.type === type).length;

eachTransport(
  "RouterSocket refuses a second peer with a routing id in use, keeps its connection open and unused, and keeps the first",
  async (t) => {
    await using router = new RouterSocket();
    const ep = await bindAny(router, t);
    const log = record(router);
    await using first = new DealerSocket({ routingId: "same" });
    const ready = handshakes(router);
    first.connect(ep);
    await ready;
    await using second = new DealerSocket({ routingId: "same", reconnectInterval: 10 });
    const secondLog = record(second);
    const [conflict] = await (() => {
      const p = nextEvents(router, "routingIdConflict");
      second.connect(ep);
      return p;
    })();
    assert.equal(conflict.action, "refused");
    assert.deepEqual(text(conflict.routingId), "same");
    const accepted = log.events.filter((e) => e.type === "accepted");
    if (t !== "inproc") {
      assert.equal(conflict.remote, (accepted.at(-1) as { remote: string }).remote);
    }
    await send(second, "from the refused peer"); // read and dropped, never delivered
    for (let i = 0; i < 20; i++) {
      await send(first, `ping ${i}`);
      assert.deepEqual(await recvText(router), ["same", `ping ${i}`], "only the first is heard");
      await send(router, ["same", `pong ${i}`]);
      assert.deepEqual(await recvText(first), [`pong ${i}`]);
    }
    assert.equal(count(log.events, "disconnected"), 0, "the refused connection stays open");
    assert.equal(count(secondLog.events, "connected"), 1, "the refused peer connected once");
    assert.equal(count(secondLog.events, "disconnected"), 0, "and was never dropped");
    assert.equal(
      await second.receive({ signal: AbortSignal.timeout(20) }).catch((e) => e.code),
      "EAGAIN",
    );
    // When the parked connection closes, it is cleaned up like any other.
    const gone = nextEvents(router, "disconnected");
    await second.close();
    const [ev] = await gone;
    assert.equal(ev.remote, conflict.remote);
    assert.equal(ev.error.code, "ECONNRESET");
    log.stop();
    secondLog.stop();
  },
);

eachTransport(
  "RouterSocket with handover gives a routing id in use to the new peer and keeps the old connection open and unused",
  async (t) => {
    await using router = new RouterSocket({ handover: true });
    const ep = await bindAny(router, t);
    const log = record(router);
    await using first = new DealerSocket({ routingId: "same", reconnectInterval: 10 });
    const firstLog = record(first);
    const ready1 = handshakes(router);
    first.connect(ep);
    await ready1;
    const firstRemote = (log.events.find((e) => e.type === "accepted") as { remote: string })
      ?.remote;
    await send(first, "from the first");
    assert.deepEqual(await recvText(router), ["same", "from the first"]);
    await using second = new DealerSocket({ routingId: "same" });
    const displaced = nextEvents(router, "routingIdConflict");
    second.connect(ep);
    const [conflict] = await displaced;
    assert.equal(conflict.action, "displaced");
    assert.deepEqual(text(conflict.routingId), "same");
    if (t !== "inproc") assert.equal(conflict.remote, firstRemote);
    await send(first, "from the displaced peer"); // read and dropped
    for (let i = 0; i < 20; i++) {
      await send(second, `ping ${i}`);
      assert.deepEqual(await recvText(router), ["same", `ping ${i}`], "only the second is heard");
      await send(router, ["same", `pong ${i}`]);
      assert.deepEqual(await recvText(second), [`pong ${i}`]);
    }
    assert.equal(count(log.events, "disconnected"), 0, "the displaced connection stays open");
    assert.equal(count(firstLog.events, "connected"), 1, "the displaced peer connected once");
    assert.equal(count(firstLog.events, "disconnected"), 0, "and was never dropped");
    assert.equal(
      await first.receive({ signal: AbortSignal.timeout(20) }).catch((e) => e.code),
      "EAGAIN",
    );
    const gone = nextEvents(router, "disconnected");
    await first.close();
    const [ev] = await gone;
    assert.equal(ev.remote, conflict.remote);
    log.stop();
    firstLog.stop();
  },
);

eachTransport(
  "RouterSocket.connect() with routingId names the peer it connects to",
  async (t) => {
    await using server = new DealerSocket();
    const ep = await bindAny(server, t);
    await using router = new RouterSocket({ mandatory: true });
    const ready = handshakes(router);
    router.connect(ep, { routingId: "server" });
    await ready;
    await send(router, ["server", "hello"]);
    assert.deepEqual(await recvText(server), ["hello"]);
    await send(server, "back");
    assert.deepEqual(await recvText(router), ["server", "back"]);
  },
);

eachTransport("RouterSocket talks to RouterSocket by connect routing ids", async (t) => {
  await using a = new RouterSocket({ routingId: "A", mandatory: true });
  const ep = await bindAny(a, t);
  await using b = new RouterSocket({ routingId: "B", mandatory: true });
  const ready = Promise.all([handshakes(a), handshakes(b)]);
  b.connect(ep, { routingId: "A" });
  await ready;
  await send(b, ["A", "b to a"]);
  assert.deepEqual(await recvText(a), ["B", "b to a"]);
  await send(a, ["B", "a to b"]);
  assert.deepEqual(await recvText(b), ["A", "a to b"]);
});
