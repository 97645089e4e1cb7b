/**
 * `proxy()` between Monocoque sockets, against libzmq's zmq_proxy and
 * zmq_proxy_steerable (src/proxy.cpp, doc/zmq_proxy_steerable.adoc): the
 * Guide's queue, forwarder and streamer over every transport, capture,
 * PAUSE/RESUME/TERMINATE/STATISTICS from REP, PAIR and REQ-driven control
 * sockets, ending by signal, rejecting with ETERM when a socket closes, and
 * backpressure: a stalled backend stops the frontend being read.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DealerSocket,
  PairSocket,
  proxy,
  PubSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  type Socket,
  SubSocket,
  XPubSocket,
  XSubSocket,
  ZmqError,
} from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  handshakes,
  isPending,
  recv,
  recvSkippingProbes,
  recvText,
  rejectsWith,
  send,
  syncSubscription,
  texts,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

/** The proxy's promise, kept from being an unhandled rejection when a test fails before awaiting it. */
function started(running: Promise<void>): Promise<void> {
  running.catch(() => {});
  return running;
}

/** The eight STATISTICS values as numbers. */
function statistics(reply: Uint8Array[]): number[] {
  assert.equal(reply.length, 8, "STATISTICS is 8 frames");
  return reply.map((f) => {
    assert.equal(f.byteLength, 8, "each statistic is a uint64");
    return Number(new DataView(f.buffer, f.byteOffset, 8).getBigUint64(0, true));
  });
}

/** Asks a REQ (or PAIR) steering socket for the proxy's statistics. */
async function askStatistics(steer: Socket): Promise<number[]> {
  await send(steer, "STATISTICS");
  return statistics(await recv(steer));
}

/** A REP control socket and the REQ that steers it, over inproc. */
async function repControl(): Promise<{ control: RepSocket; steer: ReqSocket }> {
  const control = new RepSocket();
  const steer = new ReqSocket();
  steer.connect(await bindAny(control, "inproc"));
  return { control, steer };
}

/** Sends a command through a REQ to a REP control socket and checks the empty reply. */
async function command(steer: ReqSocket, name: string): Promise<void> {
  await send(steer, name);
  const reply = await recv(steer);
  assert.deepEqual(reply.map((f) => f.byteLength), [0], `${name} gets an empty reply`);
}

eachTransport("proxy() is a ROUTER/DEALER queue between REQ clients and REP workers", async (t) => {
  await using frontend = new RouterSocket();
  await using backend = new DealerSocket();
  const front = await bindAny(frontend, t);
  const back = await bindAny(backend, t);
  const stop = new AbortController();
  const running = started(proxy(frontend, backend, { signal: stop.signal }));
  const workers = [new RepSocket(), new RepSocket()];
  const clients = [new ReqSocket(), new ReqSocket(), new ReqSocket()];
  try {
    for (const w of workers) w.connect(back);
    for (const c of clients) c.connect(front);
    const served = workers.map(async (w, i) => {
      for (;;) {
        let request;
        try {
          request = await w.receive();
        } catch {
          return; // closed at the end of the test
        }
        await w.send([...request, `worker-${i}`]);
      }
    });
    for (let round = 0; round < 4; round++) {
      await Promise.all(clients.map(async (c, i) => {
        await send(c, `client-${i} round-${round}`);
        const [echoed, worker] = await recvText(c);
        assert.equal(echoed, `client-${i} round-${round}`, "each reply reaches its own client");
        assert.match(worker, /^worker-[01]$/);
      }));
    }
    stop.abort();
    await withTimeout(running, WAIT, "proxy end");
    await Promise.all([...clients, ...workers].map((s) => s.close()));
    await served;
  } finally {
    stop.abort();
    await Promise.all([...clients, ...workers].map((s) => s.close()));
  }
});

eachTransport(
  "proxy() is an XSUB/XPUB forwarder: subscriptions go up, messages down",
  async (t) => {
    await using frontend = new XSubSocket();
    await using backend = new XPubSocket();
    const front = await bindAny(frontend, t);
    const back = await bindAny(backend, t);
    const stop = new AbortController();
    const running = started(proxy(frontend, backend, { signal: stop.signal }));
    await using publisher = new PubSocket();
    publisher.connect(front);
    await using weather = new SubSocket();
    weather.subscribe("weather.");
    weather.connect(back);
    await using sports = new SubSocket();
    sports.subscribe("sports.");
    sports.connect(back);
    // The subscription travels SUB → XPUB → proxy → XSUB → PUB.
    // Probes sent before a subscription arrived may still trail in: skipped below.
    await syncSubscription(publisher, weather, "weather.probe");
    await syncSubscription(publisher, sports, "sports.probe");
    await send(publisher, ["weather.paris", "21C"]);
    await send(publisher, ["sports.rugby", "FRA 27 NZL 26"]);
    await send(publisher, ["news.nobody", "unsubscribed"]);
    await send(publisher, ["weather.end", "."]);
    assert.deepEqual(await recvSkippingProbes(weather), ["weather.paris", "21C"]);
    assert.deepEqual(await recvSkippingProbes(weather), ["weather.end", "."]);
    assert.deepEqual(await recvSkippingProbes(sports), ["sports.rugby", "FRA 27 NZL 26"]);
    stop.abort();
    await withTimeout(running, WAIT, "proxy end");
  },
);

eachTransport("proxy() is a PULL/PUSH streamer, in order, shared among workers", async (t) => {
  await using frontend = new PullSocket();
  await using backend = new PushSocket();
  const front = await bindAny(frontend, t);
  const back = await bindAny(backend, t);
  const stop = new AbortController();
  const running = started(proxy(frontend, backend, { signal: stop.signal }));
  await using producer = new PushSocket();
  producer.connect(front);
  await using a = new PullSocket();
  await using b = new PullSocket();
  const ready = handshakes(backend, 2);
  a.connect(back);
  b.connect(back);
  await ready;
  const got: number[][] = [[], []];
  const all = Promise.withResolvers<void>();
  const done = new AbortController();
  const workers = [a, b].map(async (w, i) => {
    try {
      for (;;) {
        const message = await w.receive({ signal: done.signal });
        got[i].push(Number(texts(message)[1]));
        if (got[0].length + got[1].length === 100) all.resolve();
      }
    } catch { /* stopped below */ }
  });
  for (let i = 0; i < 100; i++) await send(producer, ["task", String(i)]);
  await withTimeout(all.promise, WAIT, "100 tasks");
  done.abort();
  await Promise.all(workers);
  stop.abort();
  await withTimeout(running, WAIT, "proxy end");
  assert.deepEqual([...got[0], ...got[1]].sort((x, y) => x - y), [...Array(100).keys()]);
  for (const mine of got) {
    assert.ok(mine.length > 0, "both workers get tasks");
    assert.deepEqual(mine, [...mine].sort((x, y) => x - y), "each worker sees its tasks in order");
  }
});

Deno.test("proxy() sends every forwarded message, both ways and multipart, to the capture socket", async () => {
  await using frontend = new RouterSocket();
  await using backend = new DealerSocket();
  await using capture = new PushSocket();
  await using captured = new PullSocket();
  captured.connect(await bindAny(capture, "inproc"));
  await using client = new ReqSocket({ routingId: "client" });
  client.connect(await bindAny(frontend, "inproc"));
  await using worker = new RepSocket();
  worker.connect(await bindAny(backend, "inproc"));
  const stop = new AbortController();
  const running = started(proxy(frontend, backend, { capture, signal: stop.signal }));
  for (let i = 0; i < 3; i++) {
    await send(client, ["question", String(i)]);
    const request = await recv(worker);
    await send(worker, [...request, "answer"]);
    assert.deepEqual(await recvText(client), ["question", String(i), "answer"]);
  }
  stop.abort();
  await withTimeout(running, WAIT, "proxy end");
  for (let i = 0; i < 3; i++) {
    // What the ROUTER received (its routing id first, then REQ's empty delimiter) ...
    assert.deepEqual(await recvText(captured), ["client", "", "question", String(i)]);
    // ... and what the DEALER received back from the REP.
    assert.deepEqual(await recvText(captured), ["client", "", "question", String(i), "answer"]);
  }
  assert.equal(await isPending(captured.receive({ signal: AbortSignal.timeout(50) })), true);
});

Deno.test("proxy() STATISTICS counts frames and bytes in libzmq's order", async () => {
  await using frontend = new PairSocket();
  await using backend = new PairSocket();
  await using left = new PairSocket();
  left.connect(await bindAny(frontend, "inproc"));
  await using right = new PairSocket();
  right.connect(await bindAny(backend, "inproc"));
  const { control, steer } = await repControl();
  await using _control = control;
  await using _steer = steer;
  const running = started(proxy(frontend, backend, { control }));
  // Two messages of 2 frames (1 + 2 bytes) one way, one of 3 frames (4 + 0 + 5 bytes) back.
  await send(left, ["a", "bb"]);
  await send(left, ["c", "dd"]);
  await send(right, ["eeee", "", "fffff"]);
  assert.deepEqual(await recvText(right), ["a", "bb"]);
  assert.deepEqual(await recvText(right), ["c", "dd"]);
  assert.deepEqual(await recvText(left), ["eeee", "", "fffff"]);
  // frontend received, frontend sent, backend received, backend sent: frames then bytes each.
  assert.deepEqual(await askStatistics(steer), [4, 6, 3, 9, 3, 9, 4, 6]);
  await command(steer, "TERMINATE");
  await withTimeout(running, WAIT, "proxy end");
});

Deno.test("proxy() PAUSE holds messages in the sockets' queues until RESUME", async () => {
  await using frontend = new PullSocket();
  await using backend = new PushSocket();
  await using producer = new PushSocket();
  producer.connect(await bindAny(frontend, "inproc"));
  await using consumer = new PullSocket();
  consumer.connect(await bindAny(backend, "inproc"));
  const { control, steer } = await repControl();
  await using _control = control;
  await using _steer = steer;
  const running = started(proxy(frontend, backend, { control }));
  await send(producer, "before");
  assert.deepEqual(await recvText(consumer), ["before"]);
  await command(steer, "PAUSE");
  await command(steer, "PAUSE"); // idempotent
  for (let i = 0; i < 5; i++) await send(producer, `paused-${i}`);
  const next = consumer.receive();
  // The proxy took nothing while paused: the statistics stay at the first message.
  assert.deepEqual(await askStatistics(steer), [1, 6, 0, 0, 0, 0, 1, 6]);
  assert.equal(await isPending(next), true);
  await command(steer, "RESUME");
  assert.deepEqual(texts(await withTimeout(next, WAIT, "first after resume")), ["paused-0"]);
  for (let i = 1; i < 5; i++) assert.deepEqual(await recvText(consumer), [`paused-${i}`]);
  await command(steer, "NONSENSE"); // ignored, as libzmq 4.3.5 does, with REP's empty reply
  await send(producer, "after");
  assert.deepEqual(await recvText(consumer), ["after"]);
  await command(steer, "TERMINATE");
  await withTimeout(running, WAIT, "proxy end");
});

Deno.test("proxy() takes commands from a PAIR control socket, replying only to STATISTICS", async () => {
  await using frontend = new PullSocket();
  await using backend = new PushSocket();
  await using producer = new PushSocket();
  producer.connect(await bindAny(frontend, "inproc"));
  await using consumer = new PullSocket();
  consumer.connect(await bindAny(backend, "inproc"));
  await using control = new PairSocket();
  await using steer = new PairSocket();
  steer.connect(await bindAny(control, "inproc"));
  const running = started(proxy(frontend, backend, { control }));
  await send(steer, "PAUSE");
  await send(steer, "RESUME");
  await send(producer, "x");
  assert.deepEqual(await recvText(consumer), ["x"]);
  // The first reply on the PAIR is the statistics: PAUSE and RESUME were not answered.
  assert.deepEqual(await askStatistics(steer), [1, 1, 0, 0, 0, 0, 1, 1]);
  await send(steer, "TERMINATE");
  await withTimeout(running, WAIT, "proxy end");
  assert.equal(await isPending(steer.receive({ signal: AbortSignal.timeout(50) })), true);
});

Deno.test("proxy() resolves when its signal is aborted, and at once if already aborted", async () => {
  await using frontend = new PullSocket();
  await using backend = new PushSocket();
  await proxy(frontend, backend, { signal: AbortSignal.abort() });
  const stop = new AbortController();
  const running = started(proxy(frontend, backend, { signal: stop.signal }));
  assert.equal(await isPending(running), true);
  stop.abort();
  await withTimeout(running, WAIT, "proxy end");
  // The proxy withdrew its receive: the socket is free for the application again.
  await using producer = new PushSocket();
  producer.connect(await bindAny(frontend, "inproc"));
  await send(producer, "mine");
  assert.deepEqual(await recvText(frontend), ["mine"]);
});

for (const which of ["frontend", "backend", "control"] as const) {
  Deno.test(`proxy() rejects with ETERM when its ${which} socket is closed`, async () => {
    await using frontend = new RouterSocket();
    await using backend = new DealerSocket();
    await using control = new PairSocket();
    const running = started(proxy(frontend, backend, { control }));
    assert.equal(await isPending(running), true);
    await { frontend, backend, control }[which].close();
    await rejectsWith(running, "ETERM");
  });
}

Deno.test("proxy() reads nothing from a socket that cannot receive, and nothing towards one that cannot send", async () => {
  // A PUSH frontend and a PULL backend: only backend → frontend flows.
  await using frontend = new PushSocket();
  await using backend = new PullSocket();
  await using consumer = new PullSocket();
  consumer.connect(await bindAny(frontend, "inproc"));
  await using producer = new PushSocket();
  producer.connect(await bindAny(backend, "inproc"));
  const { control, steer } = await repControl();
  await using _control = control;
  await using _steer = steer;
  const running = started(proxy(frontend, backend, { control }));
  await send(producer, "upstream");
  assert.deepEqual(await recvText(consumer), ["upstream"]);
  assert.deepEqual(await askStatistics(steer), [0, 0, 1, 8, 1, 8, 0, 0]);
  await command(steer, "TERMINATE");
  await withTimeout(running, WAIT, "proxy end");
  await using pub = new PubSocket();
  await using sub = new SubSocket();
  await assert.rejects(proxy(pub, frontend), TypeError);
  await assert.rejects(proxy(backend, sub), TypeError);
  await assert.rejects(proxy({} as Socket, backend), TypeError);
  await assert.rejects(proxy(frontend, backend, { control: "x" as unknown as Socket }), TypeError);
});

Deno.test("proxy() with the same ROUTER as frontend and backend returns each request", async () => {
  await using router = new RouterSocket();
  await using req = new ReqSocket();
  req.connect(await bindAny(router, "inproc"));
  const stop = new AbortController();
  const running = started(proxy(router, router, { signal: stop.signal }));
  await send(req, "echo me");
  assert.deepEqual(await recvText(req), ["echo me"]);
  stop.abort();
  await withTimeout(running, WAIT, "proxy end");
});

Deno.test("proxy() holds the frontend back while the backend is at its high-water mark", async () => {
  const hwm = 5;
  const total = 1000;
  await using frontend = new PullSocket({ receiveHighWaterMark: hwm });
  await using backend = new PushSocket({ sendHighWaterMark: hwm });
  // The producer gives up on a send that found no room for a while: the pipeline has stalled.
  await using producer = new PushSocket({ sendHighWaterMark: hwm, sendTimeout: 200 });
  producer.connect(await bindAny(frontend, "inproc"));
  await using consumer = new PullSocket({ receiveHighWaterMark: hwm });
  consumer.connect(await bindAny(backend, "inproc"));
  const { control, steer } = await repControl();
  await using _control = control;
  await using _steer = steer;
  const running = started(proxy(frontend, backend, { control }));
  let sent = 0;
  try {
    // 16 KiB each, well over what the inproc transport buffers between two sockets.
    for (; sent < total; sent++) await producer.send([String(sent), new Uint8Array(16384)]);
  } catch (e) {
    assert.ok(e instanceof ZmqError && e.code === "EAGAIN", String(e));
  }
  const [frontendFrames] = await askStatistics(steer);
  const frontendIn = frontendFrames / 2;
  // Each queue on the way holds about hwm messages, the proxy one: nothing piles up in between.
  assert.ok(sent < total, `the producer was held back (sent ${sent})`);
  assert.ok(frontendIn <= 4 * hwm + 5, `the proxy took ${frontendIn} messages`);
  // Once the consumer reads, everything flows, in order.
  for (let i = 0; i < sent; i++) assert.equal((await recvText(consumer))[0], String(i));
  await command(steer, "TERMINATE");
  await withTimeout(running, WAIT, "proxy end");
});

Deno.test("proxy() forwards both directions of a busy PAIR bridge fairly", async () => {
  await using frontend = new PairSocket();
  await using backend = new PairSocket();
  await using left = new PairSocket();
  left.connect(await bindAny(frontend, "inproc"));
  await using right = new PairSocket();
  right.connect(await bindAny(backend, "inproc"));
  const stop = new AbortController();
  const running = started(proxy(frontend, backend, { signal: stop.signal }));
  const n = 5000;
  const pump = async (from: Socket, to: Socket) => {
    const sending = (async () => {
      for (let i = 0; i < n; i++) await from.send(String(i));
    })();
    for (let i = 0; i < n; i++) assert.equal(texts(await to.receive())[0], String(i));
    await sending;
  };
  await withTimeout(Promise.all([pump(left, right), pump(right, left)]), 4 * WAIT, "both ways");
  stop.abort();
  await withTimeout(running, WAIT, "proxy end");
});
