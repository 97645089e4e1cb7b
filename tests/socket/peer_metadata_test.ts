/**
 * Message metadata (libzmq's `zmq_msg_gets`): with `peerMetadata`, every
 * received message carries its sender's `PeerMetadata` as `message.peer`,
 * the same through `receive()`, `for await`, `messages()` and the streams,
 * and on every socket type that receives; `metadata` sends custom
 * properties; a PLAIN login judged by an `Authenticator` arrives as the
 * User-Id. Without the option messages stay plain arrays.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  Authenticator,
  ClientSocket,
  DealerSocket,
  DishSocket,
  type Message,
  PeerMetadata,
  PullSocket,
  PushSocket,
  RadioSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  ServerSocket,
} from "../../mod.ts";
import {
  bindAny,
  bytes,
  eachTransport,
  recv,
  send,
  text,
  texts,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

eachTransport("messages carry the sender's metadata with peerMetadata", async (t) => {
  await using pull = new PullSocket({ peerMetadata: true });
  const ep = await bindAny(pull, t);
  await using push = new PushSocket({
    routingId: "pusher",
    metadata: { "X-Tenant": "blue", "X-Raw": Uint8Array.of(0, 1, 2) },
  });
  push.connect(ep);
  await send(push, "one");
  const message = await recv(pull);
  assert.deepEqual(texts(message), ["one"]);
  const peer = message.peer!;
  assert.ok(peer instanceof PeerMetadata);
  assert.equal(peer.socketType, "PUSH");
  assert.equal(peer.get("Socket-Type"), "PUSH");
  assert.equal(text(peer.routingId!), "pusher");
  assert.equal(peer.get("Identity"), "pusher");
  assert.equal(peer.get("Routing-Id"), "pusher");
  assert.equal(peer.get("X-Tenant"), "blue");
  assert.equal(peer.get("x-TENANT"), "blue", "names are case-insensitive (RFC 23)");
  assert.deepEqual(peer.properties.get("X-Raw"), Uint8Array.of(0, 1, 2));
  assert.equal(peer.get("X-Missing"), undefined);
  assert.equal(peer.userId, undefined, "no ZAP handler, no User-Id");
  assert.equal(peer.address.startsWith(`${t}://`), true, peer.address);
  if (t === "tcp") assert.equal(peer.get("Peer-Address"), "127.0.0.1");
  else assert.equal(peer.get("Peer-Address"), undefined);
});

Deno.test("one metadata object per connection, shared by its messages, whichever way they are read", async () => {
  await using pull = new PullSocket({ peerMetadata: true });
  const ep = await bindAny(pull, "tcp");
  await using push = new PushSocket();
  push.connect(ep);
  for (const m of ["a", "b", "c", "d"]) await send(push, m);

  const viaReceive = await recv(pull);
  const iterator = pull.messages({ signal: AbortSignal.timeout(WAIT) });
  const viaMessages = (await iterator.next()).value as Message;
  const reader = pull.readableStream().getReader();
  const viaStream = (await withTimeout(reader.read(), WAIT, "read")).value!;
  await reader.cancel();
  let viaForAwait: Message | undefined;
  for await (const m of pull) {
    viaForAwait = m;
    break;
  }
  const all = [viaReceive, viaMessages, viaStream, viaForAwait!];
  assert.deepEqual(all.map((m) => text(m[0])), ["a", "b", "c", "d"]);
  for (const m of all) assert.equal(m.peer, viaReceive.peer);
  assert.equal(viaReceive.peer?.socketType, "PUSH");
});

Deno.test("without peerMetadata a message is a plain array", async () => {
  await using pull = new PullSocket();
  const ep = await bindAny(pull, "inproc");
  await using push = new PushSocket({ metadata: { "X-Ignored": "yes" } });
  push.connect(ep);
  await send(push, "plain");
  const message = await recv(pull);
  assert.equal(Object.hasOwn(message, "peer"), false);
  assert.deepEqual(message, [bytes("plain")]);
});

Deno.test("each peer's messages carry that peer's metadata", async () => {
  await using pull = new PullSocket({ peerMetadata: true });
  const ep = await bindAny(pull, "tcp");
  await using a = new PushSocket({ metadata: { "X-Name": "a" } });
  await using b = new PushSocket({ metadata: { "X-Name": "b" } });
  a.connect(ep);
  b.connect(ep);
  for (let i = 0; i < 3; i++) {
    await send(a, "from a");
    await send(b, "from b");
  }
  for (let i = 0; i < 6; i++) {
    const m = await recv(pull);
    assert.equal(m.peer?.get("X-Name"), text(m[0]).slice(-1));
  }
});

Deno.test("REQ, REP, DEALER and ROUTER messages carry metadata", async () => {
  await using rep = new RepSocket({ peerMetadata: true });
  const ep = await bindAny(rep, "tcp");
  await using req = new ReqSocket({ peerMetadata: true, metadata: { "X-Side": "req" } });
  req.connect(ep);
  await send(req, "question");
  const request = await recv(rep);
  assert.equal(request.peer?.get("X-Side"), "req");
  assert.equal(request.peer?.socketType, "REQ");
  await send(rep, "answer");
  const reply = await recv(req);
  assert.deepEqual(texts(reply), ["answer"]);
  assert.equal(reply.peer?.socketType, "REP");

  await using router = new RouterSocket({ peerMetadata: true });
  const rep2 = await bindAny(router, "inproc");
  await using dealer = new DealerSocket({ peerMetadata: true, routingId: "d-1" });
  dealer.connect(rep2);
  await send(dealer, "hi");
  const [id, body] = await recv(router).then((m) => {
    assert.equal(m.peer?.socketType, "DEALER");
    assert.equal(m.peer?.get("Identity"), "d-1");
    return m;
  });
  assert.equal(text(body), "hi");
  await send(router, [id, "back"]);
  assert.equal((await recv(dealer)).peer?.socketType, "ROUTER");
});

Deno.test("SERVER and DISH messages carry metadata beside routingId and group", async () => {
  await using server = new ServerSocket({ peerMetadata: true });
  const ep = await bindAny(server, "tcp");
  await using client = new ClientSocket({ metadata: { "X-Client": "c1" } });
  client.connect(ep);
  await send(client, "ping");
  const request = await server.receive();
  assert.equal(typeof request.routingId, "number");
  assert.equal(request.peer?.get("X-Client"), "c1");
  await server.send("pong", { routingId: request.routingId });
  assert.equal(text((await recv(client))[0]), "pong");

  await using dish = new DishSocket({ peerMetadata: true });
  dish.join("g");
  const dishEp = await bindAny(dish, "inproc");
  await using radio = new RadioSocket({ metadata: { "X-Station": "r1" } });
  radio.connect(dishEp);
  const timer = setInterval(() => radio.send("on air", { group: "g" }), 10);
  try {
    const m = await dish.receive({ signal: AbortSignal.timeout(WAIT) });
    assert.equal(text(m.group), "g");
    assert.equal(m.peer?.get("X-Station"), "r1");
    assert.equal(m.peer?.socketType, "RADIO");
  } finally {
    clearInterval(timer);
  }
});

Deno.test("a PLAIN login accepted by the Authenticator arrives as the User-Id", async () => {
  await using auth = new Authenticator();
  await auth.start();
  auth.configurePlain({ alice: "wonderland" });
  await using pull = new PullSocket({ plainServer: true, peerMetadata: true });
  const ep = await bindAny(pull, "tcp");
  await using push = new PushSocket({ plainUsername: "alice", plainPassword: "wonderland" });
  push.connect(ep);
  await send(push, "signed");
  const message = await recv(pull);
  assert.equal(message.peer?.userId, "alice");
  assert.equal(message.peer?.get("User-Id"), "alice");
});

Deno.test("a ZAP handler's User-Id and metadata become the peer's properties", async () => {
  await using auth = new Authenticator({
    handler: (r) => ({ userId: `user:${r.username}`, metadata: { "X-Role": "admin" } }),
  });
  await auth.start();
  await using server = new ServerSocket({ plainServer: true, peerMetadata: true });
  const ep = await bindAny(server, "ipc");
  await using client = new ClientSocket({ plainUsername: "bob", plainPassword: "x" });
  client.connect(ep);
  await send(client, "hello");
  const message = await server.receive();
  assert.equal(message.peer?.userId, "user:bob");
  assert.equal(message.peer?.get("X-Role"), "admin");
});

Deno.test("a new connection from the same place brings its own metadata", async () => {
  await using pull = new PullSocket({ peerMetadata: true });
  const ep = await bindAny(pull, "tcp");
  {
    await using push = new PushSocket({ metadata: { "X-Run": "1" } });
    push.connect(ep);
    await send(push, "first");
    assert.equal((await recv(pull)).peer?.get("X-Run"), "1");
  }
  await using push = new PushSocket({ metadata: { "X-Run": "2" } });
  push.connect(ep);
  await send(push, "second");
  assert.equal((await recv(pull)).peer?.get("X-Run"), "2");
});

Deno.test("the metadata option is checked as libzmq checks ZMQ_METADATA", () => {
  assert.throws(() => new PushSocket({ metadata: { Tenant: "blue" } }), TypeError);
  assert.throws(() => new PushSocket({ metadata: { "X-bad name": "v" } }), TypeError);
  assert.throws(() => new PushSocket({ metadata: { ["X-" + "a".repeat(300)]: "v" } }), TypeError);
  assert.throws(
    () => new PushSocket({ metadata: { "X-N": 5 as unknown as string } }),
    TypeError,
  );
  assert.throws(() => new PushSocket({ metadata: "X-A:b" as unknown as Record<string, string> }));
  assert.throws(() => new PushSocket({ peerMetadata: "yes" as unknown as boolean }), TypeError);
});
