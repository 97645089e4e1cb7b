/**
 * Security on real sockets, Monocoque on both ends: the PLAIN and CURVE
 * options, ZAP through `inproc://zeromq.zap.01` (an `Authenticator` or the
 * application's own socket), libzmq's behaviour without a handler, and the
 * handshakeFailed events of refused users, wrong keys and lost handshakes.
 */

import assert from "node:assert/strict";
import {
  Authenticator,
  curveKeyPair,
  DealerSocket,
  PairSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  type SocketOptions,
  z85Decode,
} from "../../mod.ts";
import {
  bindAny,
  eachTransport,
  nextEvents,
  recvText,
  send,
  text,
  type TransportName,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

const server = curveKeyPair();
const client = curveKeyPair();

/** A REQ/REP round trip over the given options; returns the server's handshakeSucceeded event. */
async function roundTrip(
  t: TransportName,
  serverOptions: SocketOptions,
  clientOptions: SocketOptions,
) {
  await using rep = new RepSocket(serverOptions);
  const ep = await bindAny(rep, t);
  const accepted = nextEvents(rep, "handshakeSucceeded");
  await using req = new ReqSocket(clientOptions);
  req.connect(ep);
  await send(req, ["hello", "multi"]);
  assert.deepEqual(await recvText(rep), ["hello", "multi"]);
  await send(rep, "world");
  assert.deepEqual(await recvText(req), ["world"]);
  const [ev] = await accepted;
  return ev;
}

/** Starts a refused connection and returns both sides' handshakeFailed events. */
async function refused(serverOptions: SocketOptions, clientOptions: SocketOptions) {
  await using rep = new RepSocket(serverOptions);
  const ep = await bindAny(rep, "tcp");
  const serverFailed = nextEvents(rep, "handshakeFailed");
  await using req = new ReqSocket({ ...clientOptions, reconnectInterval: -1 });
  const clientFailed = nextEvents(req, "handshakeFailed");
  req.connect(ep);
  const [[s], [c]] = await Promise.all([serverFailed, clientFailed]);
  return { server: s, client: c };
}

Deno.test("security options are checked at construction", () => {
  const secret = client.secretKey;
  assert.throws(() => new ReqSocket({ plainServer: true, curveServer: true }), TypeError);
  assert.throws(
    () => new ReqSocket({ plainUsername: "a", curveServerKey: server.publicKey }),
    TypeError,
  );
  assert.throws(() => new ReqSocket({ plainServer: true, plainUsername: "a" }), TypeError);
  assert.throws(() => new ReqSocket({ plainPassword: "p" }), TypeError);
  assert.throws(() => new ReqSocket({ plainUsername: "x".repeat(256) }), RangeError);
  assert.throws(() => new ReqSocket({ plainUsername: 5 as unknown as string }), TypeError);
  assert.throws(() => new RepSocket({ curveServer: true }), TypeError);
  assert.throws(() => new RepSocket({ curveServer: "yes" as unknown as boolean }), TypeError);
  assert.throws(() => new RepSocket({ curveServer: true, curveSecretKey: "short" }), RangeError);
  assert.throws(
    () => new RepSocket({ curveServer: true, curveSecretKey: new Uint8Array(31) }),
    RangeError,
  );
  assert.throws(
    () => new RepSocket({ curveServer: true, curveSecretKey: "~".repeat(40) }),
    TypeError,
  );
  assert.throws(() => new ReqSocket({ curveSecretKey: secret }), TypeError); // no server key
  assert.throws(() => new ReqSocket({ curveServerKey: server.publicKey }), TypeError); // no secret
  assert.throws(
    () =>
      new ReqSocket({
        curveServerKey: server.publicKey,
        curveSecretKey: secret,
        curvePublicKey: server.publicKey, // not ours
      }),
    RangeError,
  );
  assert.throws(
    () => new RepSocket({ curveServer: true, curveSecretKey: secret, curveServerKey: secret }),
    TypeError,
  );
  assert.throws(() => new RepSocket({ zapDomain: "d".repeat(256) }), RangeError);
  assert.throws(() => new RepSocket({ zapDomain: 1 as unknown as string }), TypeError);
  // Keys as Z85 or bytes, public key optional or matching.
  new ReqSocket({
    curveServerKey: z85Decode(server.publicKey),
    curveSecretKey: z85Decode(secret),
    curvePublicKey: client.publicKey,
  }).close();
  new RepSocket({ plainServer: true, zapDomain: "global" }).close();
});

eachTransport(
  "CURVE without a ZAP handler accepts any client that knows the server key",
  async (t) => {
    const ev = await roundTrip(
      t,
      { curveServer: true, curveSecretKey: server.secretKey },
      { curveServerKey: server.publicKey, curveSecretKey: client.secretKey },
    );
    assert.equal(ev.peer.socketType, "REQ");
    assert.equal(ev.peer.userId, undefined);
  },
);

Deno.test("PLAIN without a ZAP handler refuses every client, as libzmq does", async () => {
  const { server: s, client: c } = await refused(
    { plainServer: true },
    { plainUsername: "admin", plainPassword: "secret" },
  );
  assert.equal(s.kind, "authentication");
  assert.match(s.reason, /No ZAP handler/);
  // libzmq closes without an ERROR command: the client only sees the connection go.
  assert.equal(c.kind, "authentication");
  assert.match(c.reason, /Connection lost during the PLAIN handshake/);
});

eachTransport(
  "PLAIN with an Authenticator accepts a known user and reports its User-Id",
  async (t) => {
    await using auth = new Authenticator();
    await auth.start();
    auth.configurePlain({ admin: "secret" });
    const ev = await roundTrip(
      t,
      { plainServer: true },
      { plainUsername: "admin", plainPassword: "secret" },
    );
    assert.equal(ev.peer.userId, "admin");
    assert.equal(text(ev.peer.properties!.get("User-Id")!), "admin");
    assert.equal(text(ev.peer.properties!.get("Socket-Type")!), "REQ");
  },
);

Deno.test("PLAIN with a wrong password fails on both sides with kind authentication", async () => {
  await using auth = new Authenticator();
  await auth.start();
  auth.configurePlain({ admin: "secret" });
  const { server: s, client: c } = await refused(
    { plainServer: true },
    { plainUsername: "admin", plainPassword: "guess" },
  );
  assert.equal(s.kind, "authentication");
  assert.match(s.reason, /400/);
  assert.match(s.reason, /Invalid username or password/);
  assert.equal(c.kind, "authentication");
  assert.match(c.reason, /ERROR command: 400/);
});

eachTransport("CURVE with an Authenticator accepts a configured client key", async (t) => {
  await using auth = new Authenticator();
  await auth.start();
  auth.configureCurve([client.publicKey]);
  const ev = await roundTrip(
    t,
    { curveServer: true, curveSecretKey: server.secretKey },
    { curveServerKey: server.publicKey, curveSecretKey: client.secretKey },
  );
  assert.equal(ev.peer.userId, client.publicKey); // pyzmq's default curve_user_id
});

Deno.test("CURVE with an Authenticator refuses an unknown client key", async () => {
  await using auth = new Authenticator();
  await auth.start();
  auth.configureCurve([curveKeyPair().publicKey]);
  const { server: s, client: c } = await refused(
    { curveServer: true, curveSecretKey: server.secretKey },
    { curveServerKey: server.publicKey, curveSecretKey: client.secretKey },
  );
  assert.equal(s.kind, "authentication");
  assert.match(s.reason, /Unknown key/);
  assert.equal(c.kind, "authentication");
  assert.match(c.reason, /400/);
});

Deno.test("CURVE with a wrong server key fails on both sides, the server sending no ERROR", async () => {
  const { server: s, client: c } = await refused(
    { curveServer: true, curveSecretKey: server.secretKey },
    { curveServerKey: curveKeyPair().publicKey, curveSecretKey: client.secretKey },
  );
  assert.equal(s.kind, "authentication"); // HELLO's box does not open
  assert.equal(c.kind, "authentication");
  assert.match(c.reason, /Connection lost during the CURVE handshake/);
});

Deno.test("an Authenticator refuses a denied address and lets an allowed one through", async () => {
  await using auth = new Authenticator();
  await auth.start();
  auth.configureCurve("any");
  auth.deny("127.0.0.1");
  const curve = { curveServer: true, curveSecretKey: server.secretKey };
  const curveClient = { curveServerKey: server.publicKey, curveSecretKey: client.secretKey };
  const { server: s } = await refused(curve, curveClient);
  assert.match(s.reason, /Address is denied/);
  auth.allow("127.0.0.1"); // an allow list overrides the deny list
  const ev = await roundTrip("tcp", curve, curveClient);
  assert.equal(ev.peer.userId, client.publicKey);
});

Deno.test("an Authenticator handler decides, with a User-Id and metadata for the peer", async () => {
  const seen: string[] = [];
  await using auth = new Authenticator({
    handler: async (request) => {
      await Promise.resolve();
      seen.push(`${request.mechanism} ${request.domain} ${request.address} ${request.username}`);
      return request.password === "open sesame"
        ? { userId: "ali", metadata: { Role: "thief" } }
        : { accept: false, reason: "Wrong words" };
    },
  });
  await auth.start();
  const ev = await roundTrip(
    "tcp",
    { plainServer: true, zapDomain: "cave" },
    { plainUsername: "ali", plainPassword: "open sesame" },
  );
  assert.equal(ev.peer.userId, "ali");
  assert.equal(text(ev.peer.properties!.get("Role")!), "thief");
  const { server: s } = await refused(
    { plainServer: true, zapDomain: "cave" },
    { plainUsername: "ali", plainPassword: "open barley" },
  );
  assert.match(s.reason, /Wrong words/);
  assert.deepEqual(seen, ["PLAIN cave 127.0.0.1 ali", "PLAIN cave 127.0.0.1 ali"]);
});

Deno.test("the application's own REP socket can be the ZAP handler, as in libzmq", async () => {
  await using handler = new RepSocket();
  await handler.bind("inproc://zeromq.zap.01");
  await using rep = new RepSocket({
    curveServer: true,
    curveSecretKey: server.secretKey,
    zapDomain: "global",
    routingId: "server-1",
  });
  const ep = await bindAny(rep, "tcp");
  const accepted = nextEvents(rep, "handshakeSucceeded");
  await using req = new ReqSocket({
    curveServerKey: server.publicKey,
    curveSecretKey: client.secretKey,
  });
  req.connect(ep);
  const request = await withTimeout(handler.receive(), WAIT, "ZAP request");
  assert.deepEqual(request.slice(0, 6).map(text), [
    "1.0",
    text(request[1]), // the request id, echoed below
    "global",
    "127.0.0.1",
    "server-1",
    "CURVE",
  ]);
  assert.deepEqual(request[6], z85Decode(client.publicKey));
  // RFC 23 metadata: name length, name, 4-octet value length, value.
  const metadata = new Uint8Array([4, ...new TextEncoder().encode("Team"), 0, 0, 0, 2, 0x6f, 0x6b]);
  await send(handler, ["1.0", request[1], "200", "OK", "carol", metadata]);
  const [ev] = await accepted;
  assert.equal(ev.peer.userId, "carol");
  assert.equal(text(ev.peer.properties!.get("Team")!), "ok");
  await send(req, "after auth");
  assert.deepEqual(await recvText(rep), ["after auth"]);
});

Deno.test("a ZAP reply 300 closes the connection without an ERROR command", async () => {
  await using handler = new RouterSocket();
  await handler.bind("inproc://zeromq.zap.01");
  const answering = (async () => {
    const [id, empty, version, requestId] = await handler.receive();
    await handler.send([id, empty, version, requestId, "300", "Try later", "", ""]);
  })();
  const { server: s, client: c } = await refused(
    { plainServer: true },
    { plainUsername: "u", plainPassword: "p" },
  );
  await answering;
  assert.match(s.reason, /Temporary authentication failure: Try later/);
  assert.match(c.reason, /Connection lost during the PLAIN handshake/);
});

Deno.test("a ZAP handler that never answers ends in the handshake timeout, other handshakes go on", async () => {
  await using handler = new RouterSocket();
  await handler.bind("inproc://zeromq.zap.01");
  await using rep = new PairSocket({ plainServer: true, handshakeInterval: 300 });
  const ep = await bindAny(rep, "tcp");
  const failed = nextEvents(rep, "handshakeFailed");
  await using req = new PairSocket({
    plainUsername: "u",
    reconnectInterval: -1,
    handshakeInterval: 0,
  });
  req.connect(ep);
  await withTimeout(handler.receive(), WAIT, "ZAP request");
  // Meanwhile a CURVE server of this process is not held up by the pending request.
  await handler.close();
  const ev = await roundTrip(
    "inproc",
    { curveServer: true, curveSecretKey: server.secretKey },
    { curveServerKey: server.publicKey, curveSecretKey: client.secretKey },
  );
  assert.equal(ev.peer.socketType, "REQ");
  const [f] = await failed;
  assert.match(f.reason, /Handshake timed out/);
});

Deno.test("a DEALER and ROUTER talk over CURVE with an Authenticator, multipart and 1 MiB", async () => {
  await using auth = new Authenticator();
  await auth.start();
  auth.configureCurve([client.publicKey]);
  await using router = new RouterSocket({ curveServer: true, curveSecretKey: server.secretKey });
  const ep = await bindAny(router, "tcp");
  await using dealer = new DealerSocket({
    routingId: "d",
    curveServerKey: server.publicKey,
    curveSecretKey: client.secretKey,
  });
  dealer.connect(ep);
  const big = new Uint8Array(1 << 20).map((_, i) => i * 7);
  await send(dealer, ["a", big, "c"]);
  const [id, a, body, c] = await withTimeout(router.receive(), WAIT, "router receive");
  assert.equal(text(id), "d");
  assert.equal(text(a), "a");
  assert.deepEqual(body, big);
  assert.equal(text(c), "c");
  await send(router, [id, body]);
  const [back] = await withTimeout(dealer.receive(), WAIT, "dealer receive");
  assert.deepEqual(back, big);
});

Deno.test("NULL with a zapDomain asks the ZAP handler, as libzmq does", async () => {
  // No handler: NULL goes on (ZMQ_ZAP_ENFORCE_DOMAIN is off by default).
  const open = await roundTrip("tcp", { zapDomain: "lan" }, {});
  assert.equal(open.peer.userId, undefined);
  await using auth = new Authenticator({
    handler: (request) => ({ userId: `${request.mechanism}@${request.domain}` }),
  });
  await auth.start();
  const judged = await roundTrip("tcp", { zapDomain: "lan" }, {});
  assert.equal(judged.peer.userId, "NULL@lan");
  auth.deny("127.0.0.1");
  const { server: s, client: c } = await refused({ zapDomain: "lan" }, {});
  assert.equal(s.kind, "authentication");
  assert.match(s.reason, /Address is denied/);
  assert.match(c.reason, /ERROR command: 400/);
  // Without a zapDomain NULL never asks, as in libzmq.
  const unasked = await roundTrip("inproc", {}, {});
  assert.equal(unasked.peer.userId, undefined);
});
