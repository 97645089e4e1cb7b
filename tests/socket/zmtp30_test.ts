/**
 * A ZMTP 3.0 peer over real TCP, written byte by byte (RFC 23): Monocoque
 * greets with 3.1, accepts the 3.0 greeting, and speaks the 3.0 dialect to it
 * — subscriptions travel as messages whose first octet is 1 or 0, not as
 * SUBSCRIBE/CANCEL commands — in both directions of the connection.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PubSocket, SubSocket } from "../../mod.ts";
import { withTimeout } from "../_util/timeout.ts";
import { greeting, message, RawPeer, ready, utf8 } from "../reliability/_helpers.ts";

const WAIT = 5000;

/** `promise`'s value, or undefined after `ms`; the timer never outlives the call. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads one frame from a raw connection: [flags, body]. */
async function readFrame(read: (n: number) => Promise<Uint8Array>): Promise<[number, Uint8Array]> {
  const [flags, short] = await read(2);
  let size = short;
  if ((flags & 0x02) !== 0) {
    const rest = await read(7);
    const all = new Uint8Array([short, ...rest]);
    size = Number(new DataView(all.buffer).getBigUint64(0));
  }
  return [flags, size === 0 ? new Uint8Array(0) : await read(size)];
}

Deno.test("a ZMTP 3.0 SUB peer subscribes to a PubSocket with a 0x01 message and gets what matches", async () => {
  await using pub = new PubSocket();
  await pub.bind("tcp://127.0.0.1:0");
  await using raw = await RawPeer.connect(pub.lastEndpoint!);
  const read = (n: number) => raw.readExactly(n);
  await raw.write(greeting({ minor: 0 }));
  const theirs = await read(64);
  assert.deepEqual([theirs[0], theirs[9], theirs[10], theirs[11]], [0xff, 0x7f, 3, 1]);
  await raw.write(ready("SUB"));
  const [flags, body] = await readFrame(read);
  assert.equal(flags, 0x04, "READY is a command");
  assert.equal(new TextDecoder().decode(body.subarray(1, 6)), "READY");
  await raw.write(message(new Uint8Array([1, ...utf8("news")])));
  // The subscription reaches the publisher asynchronously: publish until a frame comes back.
  const first = readFrame(read);
  let got: [number, Uint8Array] | undefined;
  for (let i = 0; i < 500 && got === undefined; i++) {
    await pub.send(["other", "dropped"]);
    await pub.send(["news", "kept"]);
    got = await within(first, 10);
  }
  assert.ok(got, "no message reached the 3.0 subscriber");
  assert.deepEqual([got[0], new TextDecoder().decode(got[1])], [0x01, "news"]);
  const [lastFlags, last] = await withTimeout(readFrame(read), WAIT, "second frame");
  assert.deepEqual([lastFlags, new TextDecoder().decode(last)], [0x00, "kept"]);
});

Deno.test("a SubSocket sends its subscription to a ZMTP 3.0 PUB peer as a 0x01 message", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using sub = new SubSocket({ receiveTimeout: WAIT });
  sub.subscribe("news");
  sub.connect(`tcp://127.0.0.1:${listener.addr.port}`);
  const conn = await withTimeout(listener.accept(), WAIT, "accept");
  await using raw = RawPeer.adopt(conn);
  const read = (n: number) => raw.readExactly(n);
  await raw.write(greeting({ minor: 0 }));
  assert.equal((await read(64))[11], 1, "Monocoque greets with ZMTP 3.1");
  await raw.write(ready("PUB"));
  const [readyFlags] = await readFrame(read);
  assert.equal(readyFlags, 0x04);
  const [flags, body] = await withTimeout(readFrame(read), WAIT, "subscription");
  assert.equal(flags, 0x00, "a message, not a SUBSCRIBE command");
  assert.deepEqual([...body], [1, ...utf8("news")]);
  await raw.write(message("news", "hello"));
  const [topic, payload] = await sub.receive();
  assert.deepEqual(
    [new TextDecoder().decode(topic), new TextDecoder().decode(payload)],
    ["news", "hello"],
  );
});
