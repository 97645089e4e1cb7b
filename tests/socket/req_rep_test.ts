/**
 * REQ and REP behaviour over every transport, against libzmq's documented
 * semantics (zmq_socket: ZMQ_REQ, ZMQ_REP; zmq_setsockopt: ZMQ_REQ_RELAXED,
 * ZMQ_REQ_CORRELATE), including libzmq's test_req_relaxed scenarios.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DealerSocket, RepSocket, ReqSocket, RouterSocket } from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  handshakes,
  nextEvents,
  recv,
  recvText,
  rejectsWith,
  send,
  serve,
  text,
  texts,
} from "./_helpers.ts";

eachTransport("ReqSocket.send() rejects with EFSM while a reply is pending", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using req = new ReqSocket();
  req.connect(ep);
  await send(req, "first");
  await rejectsWith(req.send("second"), "EFSM");
  // The first request is still answered normally.
  assert.deepEqual(await recvText(rep), ["first"]);
  await send(rep, "reply");
  assert.deepEqual(await recvText(req), ["reply"]);
  await send(req, "third");
  assert.deepEqual(await recvText(rep), ["third"]);
});

eachTransport("ReqSocket.receive() rejects with EFSM before a request was sent", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using req = new ReqSocket();
  req.connect(ep);
  await rejectsWith(req.receive(), "EFSM");
});

eachTransport("ReqSocket round-robins requests over two RepSockets", async (t) => {
  await using a = new RepSocket();
  await using b = new RepSocket();
  const epA = await bindAny(a, t);
  const epB = await bindAny(b, t);
  const served = [
    serve(a, (m) => a.send(["a", ...m])),
    serve(b, (m) => b.send(["b", ...m])),
  ];
  await using req = new ReqSocket();
  const ready = handshakes(req, 2);
  req.connect(epA);
  req.connect(epB);
  await ready;
  const by: string[] = [];
  for (let i = 0; i < 6; i++) {
    await send(req, `r${i}`);
    const [who, body] = await recvText(req);
    assert.equal(body, `r${i}`);
    by.push(who);
  }
  assert.notEqual(by[0], by[1]);
  assert.deepEqual(by, [by[0], by[1], by[0], by[1], by[0], by[1]]);
  await a.close();
  await b.close();
  await Promise.all(served);
});

eachTransport("ReqSocket discards a reply from a peer it did not ask", async (t) => {
  await using r1 = new RouterSocket();
  await using r2 = new RouterSocket();
  const ep1 = await bindAny(r1, t);
  const ep2 = await bindAny(r2, t);
  await using req = new ReqSocket({ routingId: "req" });
  const ready = Promise.all([handshakes(req, 2), handshakes(r1), handshakes(r2)]);
  req.connect(ep1);
  req.connect(ep2);
  await ready;
  await send(req, "question");
  // Whichever router got the request answers; the other one sends a bogus reply first.
  const ac = new AbortController();
  const [target, other, request] = await Promise.race([
    r1.receive({ signal: ac.signal }).then((m) => [r1, r2, m] as const),
    r2.receive({ signal: ac.signal }).then((m) => [r2, r1, m] as const),
  ]);
  ac.abort();
  assert.deepEqual(texts(request), ["req", "", "question"]);
  await send(other, ["req", "", "bogus"]);
  await send(target, ["req", "", "genuine"]);
  assert.deepEqual(await recvText(req), ["genuine"]);
});

eachTransport(
  "ReqSocket with relaxed sends again before the reply and discards the stale reply from the first peer",
  async (t) => {
    // libzmq's test_req_relaxed, case 1 and case 2 (relaxed without correlate).
    await using rep0 = new RepSocket();
    await using rep1 = new RepSocket();
    const ep0 = await bindAny(rep0, t);
    const ep1 = await bindAny(rep1, t);
    await using req = new ReqSocket({ relaxed: true });
    const ready = handshakes(req, 2);
    req.connect(ep0);
    req.connect(ep1);
    await ready;
    // Find which REP is first in the rotation.
    await send(req, "A");
    const ac = new AbortController();
    const [first, second] = await Promise.race([
      rep0.receive({ signal: ac.signal }).then(() => [rep0, rep1] as const),
      rep1.receive({ signal: ac.signal }).then(() => [rep1, rep0] as const),
    ]);
    ac.abort();
    // Case 1: a second request before any reply.
    await send(req, "C");
    assert.deepEqual(await recvText(second), ["C"]);
    await send(first, "WRONG");
    await send(second, "OK");
    assert.deepEqual(await recvText(req), ["OK"]);
    // Case 2: a second request after the first reply already arrived.
    await send(req, "E");
    assert.deepEqual(await recvText(first), ["E"]);
    await send(first, "STALE");
    await send(req, "G");
    assert.deepEqual(await recvText(second), ["G"]);
    await send(second, "FRESH");
    assert.deepEqual(await recvText(req), ["FRESH"]);
  },
);

eachTransport(
  "ReqSocket with relaxed and correlate discards the stale reply from the same peer",
  async (t) => {
    await using rep = new RepSocket();
    const ep = await bindAny(rep, t);
    await using req = new ReqSocket({ relaxed: true, correlate: true });
    req.connect(ep);
    await send(req, "one");
    assert.deepEqual(await recvText(rep), ["one"]);
    await send(req, "two");
    await send(rep, "reply to one");
    assert.deepEqual(await recvText(rep), ["two"]);
    await send(rep, "reply to two");
    assert.deepEqual(await recvText(req), ["reply to two"]);
  },
);

eachTransport(
  "ReqSocket with relaxed only accepts a stale reply from the same peer, as libzmq does",
  async (t) => {
    // Without correlate libzmq cannot tell replies of one peer apart (issue #1690 keeps the pipe).
    await using rep = new RepSocket();
    const ep = await bindAny(rep, t);
    await using req = new ReqSocket({ relaxed: true });
    req.connect(ep);
    await send(req, "one");
    assert.deepEqual(await recvText(rep), ["one"]);
    await send(req, "two");
    await send(rep, "reply to one");
    assert.deepEqual(await recvText(req), ["reply to one"]);
  },
);

eachTransport(
  "ReqSocket with correlate prefixes a request id and drops replies that do not echo it",
  async (t) => {
    await using router = new RouterSocket();
    const ep = await bindAny(router, t);
    await using req = new ReqSocket({ correlate: true, routingId: "req" });
    req.connect(ep);
    await send(req, "hello");
    const [id, requestId, delimiter, body] = await recv(router);
    assert.equal(text(id), "req");
    assert.equal(requestId.length, 4);
    assert.equal(delimiter.length, 0);
    assert.equal(text(body), "hello");
    const wrong = requestId.slice();
    wrong[3] ^= 0xff;
    await send(router, [id, wrong, "", "wrong id"]);
    await send(router, [id, "", "no id"]);
    await send(router, [id, requestId, "", "right id"]);
    assert.deepEqual(await recvText(req), ["right id"]);
    // The next request carries a different id.
    await send(req, "again");
    const [, nextId] = await recv(router);
    assert.notDeepEqual(nextId, requestId);
  },
);

eachTransport("ReqSocket accepts a multipart reply and can send again after it", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using req = new ReqSocket();
  req.connect(ep);
  for (let i = 0; i < 3; i++) {
    await send(req, [`q${i}`, "part"]);
    assert.deepEqual(await recvText(rep), [`q${i}`, "part"]);
    await send(rep, [`a${i}`, "x", "y"]);
    assert.deepEqual(await recvText(req), [`a${i}`, "x", "y"]);
  }
});

eachTransport("RepSocket.send() rejects with EFSM before a request was received", async (t) => {
  await using rep = new RepSocket();
  await bindAny(rep, t);
  await rejectsWith(rep.send("unasked"), "EFSM");
});

eachTransport("RepSocket.receive() rejects with EFSM while a reply is owed", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using req = new ReqSocket();
  req.connect(ep);
  await send(req, "q");
  assert.deepEqual(await recvText(rep), ["q"]);
  await rejectsWith(rep.receive(), "EFSM");
  await send(rep, "a");
  assert.deepEqual(await recvText(req), ["a"]);
});

eachTransport(
  "RepSocket returns the whole envelope of a DealerSocket client's manual request",
  async (t) => {
    // A ROUTER cannot talk to a REP directly (RFC 28; libzmq refuses the handshake), so the
    // envelope a ROUTER would add is written by hand on a DEALER.
    await using rep = new RepSocket();
    const ep = await bindAny(rep, t);
    await using dealer = new DealerSocket();
    dealer.connect(ep);
    await send(dealer, ["", "hello"]);
    assert.deepEqual(await recvText(rep), ["hello"]);
    await send(rep, "world");
    assert.deepEqual(await recvText(dealer), ["", "world"]);
    // Several hops of envelope come back in order.
    await send(dealer, ["hop1", "hop2", "", "body", "more"]);
    assert.deepEqual(await recvText(rep), ["body", "more"]);
    await send(rep, "answer");
    assert.deepEqual(await recvText(dealer), ["hop1", "hop2", "", "answer"]);
  },
);

eachTransport("RepSocket drops a request without an envelope delimiter", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using dealer = new DealerSocket();
  dealer.connect(ep);
  await send(dealer, "no delimiter");
  await send(dealer, ["", "proper"]);
  assert.deepEqual(await recvText(rep), ["proper"]);
});

eachTransport("RepSocket refuses a RouterSocket peer at the handshake", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using router = new RouterSocket({ reconnectInterval: -1 });
  const failed = nextEvents(router, "handshakeFailed");
  router.connect(ep);
  const [ev] = await failed;
  assert.equal(ev.kind, "protocol");
});

eachTransport(
  "RepSocket behind a RouterSocket to DealerSocket proxy answers the ReqSocket client",
  async (t) => {
    await using frontend = new RouterSocket();
    await using backend = new DealerSocket();
    const feEp = await bindAny(frontend, t);
    const beEp = await bindAny(backend, t);
    await using rep = new RepSocket();
    rep.connect(beEp);
    await using req = new ReqSocket({ routingId: "client" });
    req.connect(feEp);
    const proxied = [
      serve(frontend, (m) => backend.send(m)),
      serve(backend, (m) => frontend.send(m)),
      serve(rep, (m) => rep.send(["re: ", ...m])),
    ];
    for (let i = 0; i < 3; i++) {
      await send(req, `q${i}`);
      assert.deepEqual(await recvText(req), ["re: ", `q${i}`]);
    }
    await req.close();
    await rep.close();
    await frontend.close();
    await backend.close();
    await Promise.all(proxied);
  },
);

eachTransport("RepSocket serves requests in a for await loop", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  const loop = (async () => {
    let n = 0;
    for await (const request of rep) {
      await rep.send(request);
      n++;
    }
    return n;
  })();
  await using req = new ReqSocket();
  req.connect(ep);
  for (let i = 0; i < 5; i++) {
    await send(req, ["echo", `${i}`]);
    assert.deepEqual(await recvText(req), ["echo", `${i}`]);
  }
  await rep.close();
  assert.equal(await loop, 5); // the loop ends when the socket closes
});

eachTransport("RepSocket fair-queues requests from several ReqSockets", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  const served = serve(rep, (m) => rep.send(m));
  const reqs = [new ReqSocket(), new ReqSocket(), new ReqSocket()];
  try {
    reqs.forEach((r) => r.connect(ep));
    await Promise.all(reqs.map(async (r, i) => {
      for (let k = 0; k < 5; k++) {
        await send(r, `${i}:${k}`);
        assert.deepEqual(await recvText(r), [`${i}:${k}`]);
      }
    }));
  } finally {
    await Promise.all(reqs.map((r) => r.close()));
  }
  await rep.close();
  await served;
});

eachTransport("ReqSocket can receive again after a receive timed out", async (t) => {
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  await using req = new ReqSocket({ receiveTimeout: 30 });
  req.connect(ep);
  await send(req, "slow question");
  await rejectsWith(req.receive(), "EAGAIN");
  assert.deepEqual(await recvText(rep), ["slow question"]);
  await send(rep, "late answer");
  // receiveTimeout bounds each call; retry until the reply is there.
  const deadline = Date.now() + 5000;
  let reply: string[] | undefined;
  while (reply === undefined) {
    try {
      reply = texts(await req.receive());
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
  assert.deepEqual(reply, ["late answer"]);
});

eachTransport("ReqSocket.send() with no peer times out with EAGAIN, not EFSM, again", async (t) => {
  await using req = new ReqSocket({ sendTimeout: 30 });
  await rejectsWith(req.send("nobody"), "EAGAIN");
  await rejectsWith(req.send("still nobody"), "EAGAIN");
  await rejectsWith(req.receive(), "EFSM");
  // A peer appearing later gets the next request.
  await using rep = new RepSocket();
  const ep = await bindAny(rep, t);
  const ready = handshakes(req);
  req.connect(ep);
  await ready;
  await send(req, "now");
  assert.deepEqual(await recvText(rep), ["now"]);
});
