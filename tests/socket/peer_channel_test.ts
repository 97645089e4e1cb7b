/**
 * PEER (rfc.zeromq.org spec 51) and CHANNEL (spec 52) over every transport,
 * between Monocoque sockets (no libzmq binding we test against exposes
 * these types: zeromq.js 6.8.0 has no Peer or Channel). Checked against
 * libzmq's src/peer.cpp (SERVER routing on both ends, connect_peer) and
 * src/channel.cpp (single-frame PAIR).
 *
 * @module
 */

import assert from "node:assert/strict";
import { ChannelSocket, PeerSocket } from "../../mod.ts";
import { greeting, message, RawPeer, ready } from "../reliability/_helpers.ts";
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
  throwsWith,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

const isId = (id: number) => Number.isInteger(id) && id >= 1 && id <= 0xffff_ffff;

eachTransport("PeerSocket.connectPeer() returns an id usable before the handshake", async (t) => {
  await using a = new PeerSocket();
  const ep = await bindAny(a, t);
  await using b = new PeerSocket();
  const toA = b.connectPeer(ep);
  assert.ok(isId(toA), String(toA));
  // Queued on the connecting pipe, sent once the handshake completes.
  await withTimeout(b.send("hello", { routingId: toA }), WAIT, "send");
  const got = await withTimeout(a.receive(), WAIT, "receive");
  assert.deepEqual([got.length, text(got[0])], [1, "hello"]);
  assert.ok(isId(got.routingId));
  await withTimeout(a.send("hi", { routingId: got.routingId }), WAIT, "reply");
  const reply = await withTimeout(b.receive(), WAIT, "receive reply");
  assert.deepEqual([text(reply[0]), reply.routingId], ["hi", toA]);
});

eachTransport("PeerSocket routes each message to the peer whose id it names", async (t) => {
  await using p1 = new PeerSocket();
  await using p2 = new PeerSocket();
  const ep1 = await bindAny(p1, t);
  const ep2 = await bindAny(p2, t);
  await using hub = new PeerSocket();
  const id1 = hub.connectPeer(ep1);
  const id2 = hub.connectPeer(ep2);
  assert.notEqual(id1, id2);
  for (const m of ["a", "b", "c"]) {
    await withTimeout(hub.send(`to p1 ${m}`, { routingId: id1 }), WAIT, "send");
  }
  await withTimeout(hub.send("to p2", { routingId: id2 }), WAIT, "send");
  for (const m of ["a", "b", "c"]) assert.deepEqual(await recvText(p1), [`to p1 ${m}`]);
  const atP2 = await withTimeout(p2.receive(), WAIT, "receive");
  assert.equal(text(atP2[0]), "to p2");
  // A received message sent back returns to its sender, with the sender's id.
  await withTimeout(p2.send(atP2), WAIT, "echo");
  const echo = await withTimeout(hub.receive(), WAIT, "receive echo");
  assert.deepEqual([text(echo[0]), echo.routingId], ["to p2", id2]);
});

eachTransport("PeerSocket accepts many peers and answers each by its id", async (t) => {
  await using hub = new PeerSocket();
  const ep = await bindAny(hub, t);
  await using a = new PeerSocket();
  await using b = new PeerSocket();
  const aToHub = a.connectPeer(ep);
  const bToHub = b.connectPeer(ep);
  await withTimeout(a.send("from a", { routingId: aToHub }), WAIT, "send");
  await withTimeout(b.send("from b", { routingId: bToHub }), WAIT, "send");
  const ids = new Map<string, number>();
  for (let i = 0; i < 2; i++) {
    const m = await withTimeout(hub.receive(), WAIT, "receive");
    ids.set(text(m[0]), m.routingId);
  }
  assert.notEqual(ids.get("from a"), ids.get("from b"));
  await withTimeout(hub.send("to b", { routingId: ids.get("from b") }), WAIT, "send");
  await withTimeout(hub.send("to a", { routingId: ids.get("from a") }), WAIT, "send");
  assert.deepEqual(await recvText(a), ["to a"]);
  assert.deepEqual(await recvText(b), ["to b"]);
});

Deno.test("PeerSocket keeps a connectPeer() id across a reconnect, as libzmq keeps the pipe", async () => {
  const first = new PeerSocket();
  let ep: string;
  await using b = new PeerSocket({ reconnectInterval: 10 });
  let id: number;
  try {
    await first.bind("tcp://127.0.0.1:0");
    ep = first.lastEndpoint!;
    id = b.connectPeer(ep);
    await withTimeout(b.send("one", { routingId: id }), WAIT, "send");
    assert.deepEqual(await recvText(first), ["one"]);
  } finally {
    const gone = nextEvents(b, "disconnected");
    await first.close();
    await withTimeout(gone, WAIT, "disconnect");
  }
  await using second = new PeerSocket();
  await second.bind(ep);
  await withTimeout(b.send("two", { routingId: id }), WAIT, "send");
  assert.deepEqual(await recvText(second), ["two"]);
});

Deno.test("PeerSocket checks sends: EINVAL, EHOSTUNREACH, TypeError, RangeError", async () => {
  await using peer = new PeerSocket();
  await peer.bind("inproc://peer-send-checks");
  await rejectsWith(peer.send(["a", "b"], { routingId: 1 }), "EINVAL");
  await rejectsWith(peer.send("x", { routingId: 7 }), "EHOSTUNREACH");
  await assert.rejects(peer.send("x"), TypeError);
  for (const routingId of [0, -1, 1.5, 2 ** 32, NaN]) {
    await assert.rejects(peer.send("x", { routingId }), RangeError, String(routingId));
  }
});

Deno.test("PeerSocket.connectPeer() refuses the immediate option, as libzmq does", async () => {
  await using peer = new PeerSocket({ immediate: true });
  throwsWith(() => peer.connectPeer("inproc://peer-immediate"), "ENOTSUP");
});

Deno.test("PeerSocket drops a multipart message from a PEER and keeps the peer", async () => {
  await using peer = new PeerSocket();
  await peer.bind("tcp://127.0.0.1:0");
  await using raw = await RawPeer.connect(peer.lastEndpoint!);
  await raw.write(greeting());
  await raw.readExactly(64);
  await raw.write(ready("PEER"));
  await raw.write(message("multi", "part"));
  await raw.write(message("single"));
  const m = await withTimeout(peer.receive(), WAIT, "receive");
  assert.deepEqual([m.length, text(m[0])], [1, "single"]);
  await withTimeout(peer.send("reply", { routingId: m.routingId }), WAIT, "reply");
  const [flags, size] = await raw.readExactly(2);
  if (flags === 0x04) await raw.readExactly(size); // our READY
  const [f2, s2] = await raw.readExactly(2);
  assert.deepEqual([f2, new TextDecoder().decode(await raw.readExactly(s2))], [0x00, "reply"]);
});

eachTransport("ChannelSocket talks both ways with single-frame messages", async (t) => {
  await using a = new ChannelSocket();
  const ep = await bindAny(a, t);
  await using b = new ChannelSocket();
  b.connect(ep);
  for (let i = 0; i < 3; i++) {
    await send(b, `ping ${i}`);
    assert.deepEqual(await recvText(a), [`ping ${i}`]);
    await send(a, `pong ${i}`);
    assert.deepEqual(await recvText(b), [`pong ${i}`]);
  }
});

eachTransport("ChannelSocket refuses a second connection and keeps the first", async (t) => {
  await using a = new ChannelSocket();
  const ep = await bindAny(a, t);
  await using b = new ChannelSocket();
  const joined = handshakes(a);
  b.connect(ep);
  await withTimeout(joined, WAIT, "handshake");
  await using c = new ChannelSocket({ reconnectInterval: -1 });
  const refused = nextEvents(a, "disconnected");
  c.connect(ep);
  await withTimeout(refused, WAIT, "refusal");
  await send(b, "from b");
  assert.deepEqual(await recvText(a), ["from b"]);
  await send(a, "to b");
  assert.deepEqual(await recvText(b), ["to b"]);
});

Deno.test("ChannelSocket rejects a multipart send with EINVAL", async () => {
  await using channel = new ChannelSocket();
  await rejectsWith(channel.send(["a", "b"]), "EINVAL");
});

Deno.test("ChannelSocket drops a multipart message from its peer and keeps the peer", async () => {
  await using channel = new ChannelSocket();
  await channel.bind("tcp://127.0.0.1:0");
  await using raw = await RawPeer.connect(channel.lastEndpoint!);
  await raw.write(greeting());
  await raw.readExactly(64);
  await raw.write(ready("CHANNEL"));
  await raw.write(message("multi", "part"));
  await raw.write(message("single"));
  const m = await recv(channel);
  assert.deepEqual([m.length, text(m[0])], [1, "single"]);
});
