import assert from "node:assert/strict";
import { ZmqError } from "../../src/errors.ts";
import { InprocTransport } from "../../src/transport/inproc.ts";
import {
  concat,
  connectPair,
  disposable,
  isPending,
  pattern,
  readExactly,
  within,
} from "./_helpers.ts";

const inproc = new InprocTransport();
let unique = 0;
const name = () => `inproc-test-${++unique}`;

Deno.test("InprocTransport connects to a bound name and carries bytes both ways", async () => {
  const endpoint = { transport: "inproc", name: name() } as const;
  using listener = await inproc.listen(endpoint);
  assert.equal(listener.endpoint, `inproc://${endpoint.name}`);
  const [client, server] = await connectPair(inproc, listener, endpoint);
  using _c = client, _s = server;
  assert.equal(client.remoteEndpoint, listener.endpoint);
  assert.equal(server.localEndpoint, listener.endpoint);
  await within(client.write([new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])]));
  assert.deepEqual(await readExactly(server, 3), new Uint8Array([1, 2, 3]));
  await within(server.write([new Uint8Array([4])]));
  assert.deepEqual(await readExactly(client, 1), new Uint8Array([4]));
});

Deno.test("InprocTransport connect() before bind waits for the bind", async () => {
  const endpoint = { transport: "inproc", name: name() } as const;
  const connecting = inproc.connect(endpoint);
  assert.equal(await isPending(connecting), true);
  using listener = await inproc.listen(endpoint);
  using client = await within(connecting);
  using server = disposable((await within(listener.accept()))!);
  await within(server.write([new Uint8Array([9])]));
  assert.deepEqual(await readExactly(client, 1), new Uint8Array([9]));
});

Deno.test("InprocTransport connect() before bind rejects with the signal's reason on abort", async () => {
  const endpoint = { transport: "inproc", name: name() } as const;
  const controller = new AbortController();
  const reason = new Error("no longer wanted");
  const connecting = inproc.connect(endpoint, { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(within(connecting), (err) => err === reason);
  // The aborted connect does not take a connection once the name is bound.
  using listener = await inproc.listen(endpoint);
  const accepting = listener.accept();
  assert.equal(await isPending(accepting), true);
  listener.close();
  assert.equal(await within(accepting), null);
  // Already aborted: rejects at once.
  await assert.rejects(
    inproc.connect(endpoint, { signal: controller.signal }),
    (err) => err === reason,
  );
});

Deno.test("InprocTransport.listen() rejects a bound name with EADDRINUSE until it is closed", async () => {
  const endpoint = { transport: "inproc", name: name() } as const;
  const listener = await inproc.listen(endpoint);
  await assert.rejects(
    inproc.listen(endpoint),
    (err) => err instanceof ZmqError && err.code === "EADDRINUSE",
  );
  listener.close();
  listener.close(); // idempotent
  using again = await inproc.listen(endpoint);
  assert.equal(again.endpoint, listener.endpoint);
});

Deno.test("InprocTransport read() takes what fits and keeps the rest", async () => {
  const endpoint = { transport: "inproc", name: name() } as const;
  using listener = await inproc.listen(endpoint);
  const [client, server] = await connectPair(inproc, listener, endpoint);
  using _c = client, _s = server;
  const buffers = Array.from({ length: 50 }, (_, i) => pattern(i * 7 + 1, i + 1));
  buffers.push(pattern(4 * 1024 * 1024, 77));
  // The write settles once the reader has drained all but the connection's buffer.
  const written = client.write(buffers);
  const out: Uint8Array[] = [];
  const expected = concat(buffers);
  let total = 0;
  for (const size of [1, 2, 5, 100, 3000]) {
    const chunk = new Uint8Array(size);
    const n = await within(server.read(chunk));
    assert.equal(n, size);
    out.push(chunk);
    total += size;
  }
  out.push(await readExactly(server, expected.length - total));
  await within(written);
  assert.deepEqual(concat(out), expected);
});

Deno.test("InprocTransport write() waits while the reader does not read", async () => {
  const endpoint = { transport: "inproc", name: name() } as const;
  using listener = await inproc.listen(endpoint);
  const [client, server] = await connectPair(inproc, listener, endpoint);
  using _c = client, _s = server;
  let settled = false;
  const written = client.write([pattern(1024 * 1024, 3)]).then(() => (settled = true));
  await within(server.read(new Uint8Array(1000)));
  assert.equal(settled, false, "a 1 MiB write settled while 1000 bytes were read");
  await readExactly(server, 1024 * 1024 - 1000);
  await within(written);
  assert.equal(settled, true);
});

Deno.test("InprocTransport a pending read() resolves when the peer writes", async () => {
  const endpoint = { transport: "inproc", name: name() } as const;
  using listener = await inproc.listen(endpoint);
  const [client, server] = await connectPair(inproc, listener, endpoint);
  using _c = client, _s = server;
  const buffer = new Uint8Array(4);
  const reading = server.read(buffer);
  assert.equal(await isPending(reading), true);
  await within(client.write([new Uint8Array([1, 2, 3, 4, 5, 6])]));
  assert.equal(await within(reading), 4);
  assert.deepEqual(buffer, new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(await readExactly(server, 2), new Uint8Array([5, 6]));
});

Deno.test("InprocTransport close() lets the peer drain, then read() resolves null", async () => {
  const endpoint = { transport: "inproc", name: name() } as const;
  using listener = await inproc.listen(endpoint);
  const [client, server] = await connectPair(inproc, listener, endpoint);
  await within(client.write([new Uint8Array([1, 2, 3])]));
  client.close();
  client.close(); // idempotent
  assert.deepEqual(await readExactly(server, 3), new Uint8Array([1, 2, 3]));
  assert.equal(await within(server.read(new Uint8Array(8))), null);
  await assert.rejects(
    server.write([new Uint8Array(1)]),
    (err) => err instanceof ZmqError && err.code === "ECONNRESET",
  );
  await assert.rejects(
    client.write([new Uint8Array(1)]),
    (err) => err instanceof ZmqError && err.code === "ECONNRESET",
  );
  // A read pending on the closing side resolves null too.
  const [a, b] = await connectPair(inproc, listener, endpoint);
  const pendingA = a.read(new Uint8Array(1));
  const pendingB = b.read(new Uint8Array(1));
  a.close();
  assert.equal(await within(pendingA), null);
  assert.equal(await within(pendingB), null);
  b.close();
  server.close();
});

Deno.test("InprocTransport listener close() ends pending accepts and unaccepted connections", async () => {
  const endpoint = { transport: "inproc", name: name() } as const;
  const listener = await inproc.listen(endpoint);
  using client = await within(inproc.connect(endpoint));
  listener.close();
  assert.equal(await within(listener.accept()), null);
  assert.equal(await within(client.read(new Uint8Array(1))), null);
});
