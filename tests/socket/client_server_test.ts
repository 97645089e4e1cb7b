/**
 * CLIENT and SERVER (rfc.zeromq.org spec 41) over every transport, against
 * libzmq's src/client.cpp and src/server.cpp: single-frame messages, replies
 * by a 32-bit routing id, EHOSTUNREACH for an unknown id, multipart refused
 * at the call and dropped on receipt.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ClientSocket, ServerSocket } from "../../mod.ts";
import type { ServerMessage } from "../../mod.ts";
import { greeting, message, RawPeer, ready } from "../reliability/_helpers.ts";
import {
  bindAny,
  eachTransport,
  handshakes,
  recv,
  recvText,
  rejectsWith,
  send,
  text,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

eachTransport("ServerSocket replies to each of two ClientSockets by routing id", async (t) => {
  await using server = new ServerSocket();
  const ep = await bindAny(server, t);
  await using a = new ClientSocket();
  await using b = new ClientSocket();
  a.connect(ep);
  b.connect(ep);
  await send(a, "from a");
  await send(b, "from b");
  const ids = new Map<string, number>();
  for (let i = 0; i < 2; i++) {
    const m = await recv(server) as ServerMessage;
    assert.equal(m.length, 1);
    assert.ok(Number.isInteger(m.routingId) && m.routingId >= 1 && m.routingId <= 0xffff_ffff);
    ids.set(text(m[0]), m.routingId);
  }
  assert.notEqual(ids.get("from a"), ids.get("from b"));
  await withTimeout(server.send("to b", { routingId: ids.get("from b") }), WAIT, "send");
  await withTimeout(server.send("to a", { routingId: ids.get("from a") }), WAIT, "send");
  assert.deepEqual(await recvText(a), ["to a"]);
  assert.deepEqual(await recvText(b), ["to b"]);
});

eachTransport("ServerSocket.send() of a received message returns it to its sender", async (t) => {
  await using server = new ServerSocket();
  const ep = await bindAny(server, t);
  await using client = new ClientSocket();
  client.connect(ep);
  await send(client, "echo me");
  const request = await withTimeout(server.receive(), WAIT, "receive");
  await withTimeout(server.send(request), WAIT, "echo");
  assert.deepEqual(await recvText(client), ["echo me"]);
});

eachTransport("ClientSocket sends round-robin to two ServerSockets", async (t) => {
  await using s1 = new ServerSocket();
  await using s2 = new ServerSocket();
  const ep1 = await bindAny(s1, t);
  const ep2 = await bindAny(s2, t);
  await using client = new ClientSocket();
  const ready = handshakes(client, 2);
  client.connect(ep1);
  client.connect(ep2);
  await withTimeout(ready, WAIT, "handshakes");
  for (let i = 0; i < 4; i++) await send(client, `m${i}`);
  const got1 = [(await recvText(s1))[0], (await recvText(s1))[0]];
  const got2 = [(await recvText(s2))[0], (await recvText(s2))[0]];
  assert.deepEqual([...got1, ...got2].sort(), ["m0", "m1", "m2", "m3"]);
  assert.notDeepEqual(got1, got2);
});

eachTransport("ServerSocket yields routing ids through for await and readable", async (t) => {
  await using server = new ServerSocket();
  const ep = await bindAny(server, t);
  await using client = new ClientSocket();
  client.connect(ep);
  await send(client, "one");
  await send(client, "two");
  let first: ServerMessage | undefined;
  for await (const m of server) {
    first = m;
    break;
  }
  const reader = server.readableStream().getReader();
  const second = await withTimeout(reader.read(), WAIT, "stream read");
  await reader.cancel();
  assert.equal(text(first![0]), "one");
  assert.equal(text(second.value![0]), "two");
  assert.equal(second.value!.routingId, first!.routingId);
});

Deno.test("ClientSocket and ServerSocket reject a multipart send with EINVAL", async () => {
  await using server = new ServerSocket();
  await using client = new ClientSocket();
  await rejectsWith(client.send(["a", "b"]), "EINVAL");
  await rejectsWith(server.send(["a", "b"], { routingId: 1 }), "EINVAL");
});

Deno.test("ServerSocket.send() checks the routing id: EHOSTUNREACH, TypeError, RangeError", async () => {
  await using server = new ServerSocket();
  await server.bind("inproc://server-send-checks");
  await rejectsWith(server.send("x", { routingId: 7 }), "EHOSTUNREACH");
  await assert.rejects(server.send("x"), TypeError);
  for (const routingId of [0, -1, 1.5, 2 ** 32, NaN]) {
    await assert.rejects(server.send("x", { routingId }), RangeError, String(routingId));
  }
});

Deno.test("ServerSocket drops a multipart message from a CLIENT peer and keeps the peer", async () => {
  await using server = new ServerSocket();
  await server.bind("tcp://127.0.0.1:0");
  await using raw = await RawPeer.connect(server.lastEndpoint!);
  await raw.write(greeting());
  await raw.readExactly(64);
  await raw.write(ready("CLIENT"));
  await raw.write(message("multi", "part"));
  await raw.write(message("single"));
  const m = await withTimeout(server.receive(), WAIT, "receive");
  assert.deepEqual([m.length, text(m[0])], [1, "single"]);
  // The peer is still routable: the reply reaches the raw connection.
  await withTimeout(server.send("reply", { routingId: m.routingId }), WAIT, "reply");
  const [flags, size] = await raw.readExactly(2);
  if (flags === 0x04) await raw.readExactly(size); // our READY
  const [f2, s2] = await raw.readExactly(2);
  assert.deepEqual([f2, new TextDecoder().decode(await raw.readExactly(s2))], [0x00, "reply"]);
});

eachTransport("ServerSocket.writable routes a received message back to its sender", async (t) => {
  await using server = new ServerSocket();
  const ep = await bindAny(server, t);
  await using client = new ClientSocket();
  client.connect(ep);
  await send(client, "via the stream");
  const request = await withTimeout(server.receive(), WAIT, "receive");
  const writer = server.writable.getWriter();
  await withTimeout(writer.write(request), WAIT, "write");
  writer.releaseLock();
  assert.deepEqual(await recvText(client), ["via the stream"]);
});
