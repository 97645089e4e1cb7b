/**
 * Monitor events (`Socket.events()`, libzmq's zmq_socket_monitor) over every
 * transport: what a binding and a connecting socket report through a
 * connection's life, retries for a refused endpoint, and the end of the
 * iteration.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ClientSocket,
  DealerSocket,
  PullSocket,
  PushSocket,
  RouterSocket,
  ServerSocket,
} from "../../mod.ts";
import type { Socket, SocketEvent } from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  endpoint,
  freeEndpoint,
  handshakes,
  nextEvents,
  recvText,
  send,
  text,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

/** Collects every event of `socket` until its iterator ends (at close). */
function collect(socket: Socket): Promise<SocketEvent[]> {
  const it = socket.events();
  return (async () => {
    const all: SocketEvent[] = [];
    for await (const ev of it) all.push(ev);
    return all;
  })();
}

function types(events: SocketEvent[]): string[] {
  return events.map((e) => e.type);
}

/** Asserts that `expected` occur in `actual` in this order (others may be between). */
function assertSubsequence(actual: string[], expected: string[]): void {
  let i = 0;
  for (const a of actual) if (a === expected[i]) i++;
  assert.equal(i, expected.length, `expected ${expected} in order within ${actual}`);
}

eachTransport("Socket.events() reports the life of a bound socket", async (t) => {
  const pull = new PullSocket();
  const log = collect(pull);
  let ep: string;
  try {
    ep = await bindAny(pull, t);
    const push = new PushSocket();
    try {
      const ready = handshakes(pull);
      push.connect(ep);
      await ready;
      await send(push, "x");
      assert.deepEqual(await recvText(pull), ["x"]);
    } finally {
      const gone = nextEvents(pull, "disconnected");
      await push.close();
      await gone;
    }
  } finally {
    await pull.close();
  }
  const events = await withTimeout(log, WAIT, "the event iterator to end");
  assertSubsequence(types(events), [
    "listening",
    "accepted",
    "handshakeSucceeded",
    "disconnected",
    "closed",
  ]);
  const listening = events.find((e) => e.type === "listening")!;
  assert.equal(listening.endpoint, ep);
  const hs = events.find((e) => e.type === "handshakeSucceeded");
  assert.ok(hs?.type === "handshakeSucceeded");
  assert.equal(hs.peer.socketType, "PUSH");
  assert.equal(hs.endpoint, ep);
  const closed = events.find((e) => e.type === "closed")!;
  assert.equal(closed.endpoint, ep);
});

eachTransport("Socket.events() reports the life of a connecting socket", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  const push = new PushSocket({ reconnectInterval: -1 });
  const log = collect(push);
  try {
    const lost = nextEvents(push, "disconnected");
    const ready = handshakes(push);
    push.connect(ep);
    await ready;
    await pull.close();
    const [ev] = await lost;
    assert.equal(ev.endpoint, ep);
    assert.equal(typeof ev.reason, "string");
  } finally {
    await push.close();
  }
  const events = await withTimeout(log, WAIT, "the event iterator to end");
  assertSubsequence(types(events), ["connected", "handshakeSucceeded", "disconnected"]);
  const hs = events.find((e) => e.type === "handshakeSucceeded");
  assert.ok(hs?.type === "handshakeSucceeded");
  assert.equal(hs.peer.socketType, "PULL");
  assert.equal(hs.endpoint, ep);
  assert.ok(!types(events).includes("listening"));
});

eachTransport(
  "Socket.events() reports the peer's routing id at the handshake",
  async (t) => {
    await using router = new RouterSocket();
    const ep = await bindAny(router, t);
    await using dealer = new DealerSocket({ routingId: "who" });
    const seen = nextEvents(router, "handshakeSucceeded");
    dealer.connect(ep);
    const [ev] = await seen;
    assert.equal(ev.peer.socketType, "DEALER");
    assert.equal(text(ev.peer.routingId!), "who");
  },
);

eachTransport(
  "Socket.events() reports connectDelayed and connectRetried for a refused endpoint",
  async (t) => {
    await using push = new PushSocket({ reconnectInterval: 10 });
    const ep = freeEndpoint(t);
    const delayed = nextEvents(push, "connectDelayed", 2);
    const retried = nextEvents(push, "connectRetried", 2);
    push.connect(ep);
    const [d] = await delayed;
    const [r] = await retried;
    assert.equal(d.endpoint, ep);
    assert.ok(d.error instanceof Error);
    assert.equal(r.endpoint, ep);
    assert.ok(r.interval >= 0);
    // Once something listens there, the retries connect.
    await using pull = new PullSocket();
    const ready = handshakes(push);
    await withTimeout(pull.bind(ep), WAIT);
    await ready;
  },
  ["tcp", "ipc"],
);

eachTransport("Socket.events() iterators end when the socket closes", async (t) => {
  const pull = new PullSocket();
  await bindAny(pull, t);
  const a = pull.events();
  const b = pull.events();
  const ending = Promise.all([
    (async () => {
      for await (const _ of a) { /* drain */ }
    })(),
    (async () => {
      for await (const _ of b) { /* drain */ }
    })(),
  ]);
  await pull.close();
  await withTimeout(ending, WAIT, "iterators to end");
  // An iterator made after close ends at once.
  const late = await withTimeout(pull.events().next(), WAIT);
  assert.equal(late.done, true);
});

eachTransport("Socket.events() ends when its signal aborts", async (t) => {
  await using pull = new PullSocket();
  const ac = new AbortController();
  const it = pull.events({ signal: ac.signal });
  const next = it.next();
  ac.abort();
  assert.equal((await withTimeout(next, WAIT)).done, true);
  // Events after the abort are not seen by it; others still are.
  const listening = nextEvents(pull, "listening");
  await pull.bind(endpoint(t));
  await listening;
  assert.equal((await withTimeout(it.next(), WAIT)).done, true);
});

eachTransport("Socket.events() reports unbind as closed for that endpoint", async (t) => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, t);
  const closed = nextEvents(pull, "closed");
  await pull.unbind(ep);
  const [ev] = await closed;
  assert.equal(ev.endpoint, ep);
});

Deno.test("Socket.events() reports bindFailed for an endpoint in use", async () => {
  await using a = new PullSocket();
  const ep = await bindAny(a, "tcp");
  await using b = new PullSocket();
  const failed = nextEvents(b, "bindFailed");
  await assert.rejects(b.bind(ep));
  const [ev] = await failed;
  assert.equal(ev.endpoint, ep);
});

eachTransport(
  "disconnected names the routing id on ROUTER and SERVER, not on others",
  async (t) => {
    await using router = new RouterSocket();
    const ep = await bindAny(router, t);
    const dealer = new DealerSocket({ routingId: "dealer-7", linger: 0 });
    const hello = handshakes(router);
    dealer.connect(ep);
    await hello;
    const gone = nextEvents(router, "disconnected");
    await dealer.close();
    const [ev] = await gone;
    assert.deepEqual(ev.routingId, new TextEncoder().encode("dealer-7"));

    await using server = new ServerSocket();
    const sep = await bindAny(server, t);
    const client = new ClientSocket({ linger: 0 });
    client.connect(sep);
    await client.send("hi");
    const hi = await withTimeout(server.receive(), WAIT);
    const left = nextEvents(server, "disconnected");
    await client.close();
    const [sev] = await left;
    assert.equal(sev.routingId, hi.routingId);
    assert.equal(typeof sev.routingId, "number");

    await using pull = new PullSocket();
    const pep = await bindAny(pull, t);
    const push = new PushSocket({ linger: 0 });
    const joined = handshakes(pull);
    push.connect(pep);
    await joined;
    const ended = nextEvents(pull, "disconnected");
    await push.close();
    const [pev] = await ended;
    assert.equal("routingId" in pev, false);
  },
);
