/**
 * `Socket<M>`: a socket type that receives messages with properties types
 * every way of reading them alike, with no overrides of its own; these
 * tests fail to type-check if one way loses the type, and fail at run time
 * if one way loses the property.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ClientSocket,
  type DishMessage,
  DishSocket,
  merge,
  type Message,
  RadioSocket,
  type ServerMessage,
  ServerSocket,
  type Socket,
  text,
} from "../../mod.ts";
import { bindAny, send, WAIT, withTimeout } from "./_helpers.ts";

Deno.test("receive(), messages(), the streams and for await all yield a SERVER's routingId", async () => {
  await using server = new ServerSocket();
  const ep = await bindAny(server, "inproc");
  await using client = new ClientSocket();
  client.connect(ep);
  for (const m of ["a", "b", "c", "d"]) await send(client, m);

  const viaReceive: ServerMessage = await withTimeout(server.receive(), WAIT, "receive");
  const iterator: AsyncIterableIterator<ServerMessage> = server.messages();
  const viaMessages: ServerMessage = (await withTimeout(iterator.next(), WAIT, "next")).value;
  const reader = server.readableStream().getReader();
  const viaStream: ServerMessage = (await withTimeout(reader.read(), WAIT, "read")).value!;
  await reader.cancel();
  let viaForAwait: ServerMessage | undefined;
  for await (const m of server) {
    viaForAwait = m;
    break;
  }
  const all = [viaReceive, viaMessages, viaStream, viaForAwait!];
  assert.deepEqual(all.map((m) => text(m[0])), ["a", "b", "c", "d"]);
  const ids: number[] = all.map((m) => m.routingId);
  assert.ok(ids.every((id) => id === ids[0] && id > 0));
  // Still a Socket, and its messages still Messages: proxy() and merge() take it.
  const socket: Socket = server;
  const message: Message = viaReceive;
  assert.equal(socket.type, "SERVER");
  assert.equal(message.length, 1);
});

Deno.test("a DISH's readable yields its group", async () => {
  await using dish = new DishSocket();
  dish.join("g");
  const ep = await bindAny(dish, "inproc");
  await using radio = new RadioSocket();
  radio.connect(ep);
  const timer = setInterval(() => radio.send("x", { group: "g" }).catch(() => {}), 10);
  try {
    const readable: ReadableStream<DishMessage> = dish.readable;
    const reader = readable.getReader();
    const { value } = await withTimeout(reader.read(), WAIT, "read");
    reader.releaseLock();
    const group: Uint8Array = value!.group;
    assert.equal(text(group), "g");
  } finally {
    clearInterval(timer);
  }
});

Deno.test("merge() types each message as its socket receives it", async () => {
  await using server = new ServerSocket();
  const ep = await bindAny(server, "inproc");
  await using client = new ClientSocket();
  client.connect(ep);
  await send(client, "merged");
  const merged = merge([server], { signal: AbortSignal.timeout(WAIT) });
  const { value } = await merged.next();
  await merged.return?.();
  const id: number = value!.message.routingId;
  assert.ok(id > 0);
  assert.equal(text(value!.message[0]), "merged");
});
