/**
 * The ws:// transport (ZWS 2.0) between Monocoque peers and against hostile WebSocket peers:
 * address grammar, limits (connect deadline, origin check, handshake deadline, maximum
 * message size), and input that must drop one connection only (a text message, a frame with
 * bad flags, a message over the limit, a peer that never completes the handshake) while the
 * socket keeps serving its other peers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PubSocket, RepSocket, ReqSocket, SubSocket, WsTransport, ZmqError } from "../../mod.ts";
import { formatWs, wsAddressParser } from "../../src/transport/ws.ts";
import { answerUpgrade } from "../../src/transport/_ws_negotiate.ts";
import { withTimeout } from "../_util/timeout.ts";
import { nextEvents, recv, send, WAIT } from "../socket/_helpers.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const parseWs = wsAddressParser("ws");

Deno.test("ws addresses: host, port, optional path; wildcards only to bind", () => {
  assert.deepEqual(parseWs("127.0.0.1:80", "connect", "ws://127.0.0.1:80"), {
    transport: "ws",
    host: "127.0.0.1",
    port: 80,
    path: "/",
  });
  const v6 = parseWs("[::1]:8080/zmq/a", "connect", "ws://[::1]:8080/zmq/a");
  assert.equal(formatWs(v6), "ws://[::1]:8080/zmq/a");
  assert.equal(parseWs("*:*", "bind", "ws://*:*").port, 0);
  for (const bad of ["127.0.0.1", "127.0.0.1:x", ":80", "[::1:80", "h:80/a b", "h:99999"]) {
    assert.throws(
      () => parseWs(bad, "bind", `ws://${bad}`),
      (e) => (e as ZmqError).code === "EINVAL",
    );
  }
  assert.throws(() => parseWs("*:80", "connect", "ws://*:80"), ZmqError);
  assert.throws(() => parseWs("h:0", "connect", "ws://h:0"), ZmqError);
});

Deno.test("ws:// REQ/REP between Monocoque peers, with a path, multipart and 1 MiB", async () => {
  await using rep = new RepSocket({ receiveTimeout: WAIT });
  await rep.bind("ws://127.0.0.1:0/zmq");
  assert.match(rep.lastEndpoint!, /^ws:\/\/127\.0\.0\.1:\d+\/zmq$/);
  await using req = new ReqSocket({ receiveTimeout: WAIT });
  req.connect(rep.lastEndpoint!);
  const big = new Uint8Array(1 << 20).fill(7);
  await send(req, ["a", new Uint8Array(0), big]);
  const got = await recv(rep);
  assert.deepEqual(got.map((f) => f.length), [1, 0, 1 << 20]);
  await send(rep, got);
  const reply = await recv(req);
  assert.deepEqual(reply[2], big);
});

Deno.test("ws:// PUB/SUB between Monocoque peers filters by prefix", async () => {
  await using pub = new PubSocket();
  await pub.bind("ws://127.0.0.1:0");
  await using sub = new SubSocket({ receiveTimeout: WAIT });
  sub.subscribe("news");
  sub.connect(pub.lastEndpoint!);
  // The subscription travels as a 0x01 message; publish until it has arrived.
  let got: Uint8Array[] | undefined;
  const receiving = recv(sub).then((m) => (got = m));
  while (got === undefined) {
    await pub.send(["sports", "x"]);
    await pub.send(["news", "y"]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([receiving, new Promise((r) => (timer = setTimeout(r, 10)))]);
    clearTimeout(timer);
  }
  assert.deepEqual(got?.map(str), ["news", "y"]);
});

Deno.test("ws:// connect fails with ETIMEDOUT when the server never answers the upgrade", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const ws = new WsTransport({ handshakeTimeout: 200 });
  const attempt = ws.connect(parseWs(`127.0.0.1:${listener.addr.port}`, "connect", "ws://"));
  using _conn = await withTimeout(accepted, WAIT, "accept");
  await assert.rejects(
    withTimeout(attempt, WAIT, "connect"),
    (e) => (e as ZmqError).code === "ETIMEDOUT",
  );
});

Deno.test("A ws:// server refuses an origin its check rejects, and plain HTTP with 426", async () => {
  const seen: (string | null)[] = [];
  const ws = new WsTransport({ checkOrigin: (origin) => (seen.push(origin), false) });
  using listener = await ws.listen(parseWs("127.0.0.1:0", "bind", "ws://"));
  const endpoint = parseWs(new URL(listener.endpoint).host, "connect", listener.endpoint);
  await assert.rejects(ws.connect(endpoint), (e) => (e as ZmqError).code === "ECONNREFUSED");
  assert.equal(seen.length, 1);
  const response = await fetch(`http://${new URL(listener.endpoint).host}/`);
  assert.equal(response.status, 426);
  await response.body?.cancel();
  listener.close();
  await listener.closed;
});

Deno.test("A socket's wsCheckOrigin refuses connections to its ws:// bind; others are served", async () => {
  const seen: (string | null)[] = [];
  let allow = false;
  await using rep = new RepSocket({ wsCheckOrigin: (origin) => (seen.push(origin), allow) });
  await rep.bind("ws://127.0.0.1:0");
  const ws = new WsTransport();
  const endpoint = parseWs(new URL(rep.lastEndpoint!).host, "connect", rep.lastEndpoint!);
  await assert.rejects(ws.connect(endpoint), (e) => (e as ZmqError).code === "ECONNREFUSED");
  assert.deepEqual(seen, [null], "a non-browser client sends no Origin");
  allow = true;
  using _conn = await withTimeout(ws.connect(endpoint), WAIT, "allowed connect");
  assert.equal(seen.length, 2);
});

Deno.test("A ws:// client refuses PLAIN and CURVE: WHATWG WebSocket cannot offer ZWS2.0/PLAIN", async () => {
  const ws = new WsTransport();
  await assert.rejects(
    ws.connect(parseWs("127.0.0.1:1", "connect", "ws://"), { mechanism: "PLAIN" }),
    (e) => (e as ZmqError).code === "EPROTONOSUPPORT",
  );
});

Deno.test("A CURVE or PLAIN socket's connect() to ws:// fails at the call with EPROTONOSUPPORT", async () => {
  await using plain = new ReqSocket({ plainUsername: "u", plainPassword: "p" });
  assert.throws(
    () => plain.connect("ws://127.0.0.1:1/"),
    (e) => e instanceof ZmqError && e.code === "EPROTONOSUPPORT",
  );
  await using nul = new ReqSocket();
  nul.connect("ws://127.0.0.1:1/"); // NULL is fine: it retries until a server comes
});

Deno.test("A ws:// server answers a client offering no ZWS subprotocol with 400", async () => {
  const ws = new WsTransport();
  using listener = await ws.listen(parseWs("127.0.0.1:0", "bind", "ws://"));
  const client = new WebSocket(listener.endpoint, ["chat"]);
  const outcome = await withTimeout(
    new Promise<string>((resolve) => {
      client.onopen = () => resolve("open");
      client.onclose = () => resolve("closed");
    }),
    WAIT,
    "refusal",
  );
  assert.equal(outcome, "closed");
  listener.close();
  await listener.closed;
});

/** A REP bound on ws:// with small limits, and a REQ that keeps working throughout. */
async function guarded() {
  const rep = new RepSocket({ maxMessageSize: 1000, handshakeInterval: 500 });
  await rep.bind("ws://127.0.0.1:0");
  const req = new ReqSocket({ receiveTimeout: WAIT });
  req.connect(rep.lastEndpoint!);
  const roundTrip = async (what: string) => {
    await send(req, what);
    const [got] = await recv(rep);
    await send(rep, got);
    assert.equal(str((await recv(req))[0]), what);
  };
  await roundTrip("before");
  return {
    rep,
    roundTrip,
    async [Symbol.asyncDispose]() {
      await req.close();
      await rep.close();
    },
  };
}

/** A raw WebSocket to `endpoint` offering bare ZWS2.0, open; `closed` settles when it closes. */
async function rawPeer(endpoint: string) {
  const ws = new WebSocket(endpoint, ["ZWS2.0"]);
  ws.binaryType = "arraybuffer";
  const closed = new Promise<void>((resolve) => (ws.onclose = () => resolve()));
  await withTimeout(new Promise((resolve) => (ws.onopen = resolve)), WAIT, "open");
  return { ws, closed };
}

const hostile: [string, (ws: WebSocket) => void, string][] = [
  ["a text message", (ws) => ws.send("hello"), "EPROTO"],
  ["a frame with COMMAND and MORE", (ws) => {
    ws.send(Uint8Array.of(0x00)); // routing id
    ws.send(Uint8Array.of(0x03, 4, ...text("PING"), 0, 0));
  }, "EPROTO"],
  ["an empty message", (ws) => ws.send(new Uint8Array(0)), "EPROTO"],
  ["a message over maxMessageSize", (ws) => {
    ws.send(Uint8Array.of(0x00));
    ws.send(new Uint8Array(1002));
  }, "EMSGSIZE"],
];

for (const [what, attack, code] of hostile) {
  Deno.test(`A ws:// peer sending ${what} is dropped, the other peers are served`, async () => {
    await using g = await guarded();
    const dropped = nextEvents(g.rep, "disconnected", 1, (e) => e.error.code === code);
    const peer = await rawPeer(g.rep.lastEndpoint!);
    attack(peer.ws);
    const [event] = await dropped;
    assert.equal(event.error.code, code);
    await withTimeout(peer.closed, WAIT, "the server closing the connection");
    await g.roundTrip("after");
  });
}

Deno.test("A ws:// peer that never sends its handshake is dropped when handshakeInterval passes", async () => {
  await using g = await guarded();
  const failed = nextEvents(g.rep, "handshakeFailed", 1, (e) => e.error.code === "ETIMEDOUT");
  const peer = await rawPeer(g.rep.lastEndpoint!);
  await failed;
  await withTimeout(peer.closed, WAIT, "the server closing the connection");
  await g.roundTrip("after");
});

Deno.test("A TCP peer that never completes the HTTP upgrade does not stop a ws:// server", async () => {
  await using g = await guarded();
  const port = Number(new URL(g.rep.lastEndpoint!).port);
  using stalled = await Deno.connect({ hostname: "127.0.0.1", port });
  await stalled.write(text("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"));
  using silent = await Deno.connect({ hostname: "127.0.0.1", port });
  await g.roundTrip("meanwhile");
  assert.ok(silent);
});

Deno.test("An origin check that throws on a peer's Origin refuses the request (403)", () => {
  const checkOrigin = (origin: string | null) => new URL(origin!).hostname === "app.example";
  const request = { upgrade: "websocket", protocols: "ZWS2.0" };
  assert.deepEqual(
    answerUpgrade({ ...request, origin: "not a url" }, "NULL", { checkOrigin }, false),
    { status: 403 },
  );
  assert.deepEqual(
    answerUpgrade({ ...request, origin: "https://app.example" }, "NULL", { checkOrigin }, false),
    { protocol: "ZWS2.0" },
  );
});
