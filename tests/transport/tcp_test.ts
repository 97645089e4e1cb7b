import assert from "node:assert/strict";
import { ZmqError } from "../../src/errors.ts";
import { parseEndpoint } from "../../src/transport/endpoint.ts";
import { TcpTransport } from "../../src/transport/tcp.ts";
import { concat, connectPair, pattern, readExactly, readToEnd, within } from "./_helpers.ts";

const tcp = new TcpTransport();

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
}

function isCode(code: string) {
  return (err: unknown) => err instanceof ZmqError && err.code === code && err.cause !== undefined;
}

function hasIpv6Loopback(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("TcpTransport binds 127.0.0.1 port 0 and reports the resolved port", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  assert.match(listener.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(portOf(listener.endpoint) > 0);
});

Deno.test("TcpTransport binds tcp://*:* to 0.0.0.0 and reaches it on loopback", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://*:*"));
  assert.match(listener.endpoint, /^tcp:\/\/0\.0\.0\.0:\d+$/);
  const port = portOf(listener.endpoint);
  const [client, server] = await connectPair(
    tcp,
    listener,
    parseEndpoint(`tcp://127.0.0.1:${port}`),
  );
  using _c = client, _s = server;
  assert.equal(client.remoteEndpoint, `tcp://127.0.0.1:${port}`);
  assert.equal(server.localEndpoint, `tcp://127.0.0.1:${port}`);
  assert.equal(server.remoteEndpoint, client.localEndpoint);
  await within(client.write([new Uint8Array([7])]));
  assert.deepEqual(await readExactly(server, 1), new Uint8Array([7]));
});

Deno.test({
  name: "TcpTransport works over IPv6 loopback [::1]",
  ignore: !hasIpv6Loopback(),
  async fn() {
    using listener = await tcp.listen(parseEndpoint("tcp://[::1]:0"));
    assert.match(listener.endpoint, /^tcp:\/\/\[::1\]:\d+$/);
    const [client, server] = await connectPair(tcp, listener, parseEndpoint(listener.endpoint));
    using _c = client, _s = server;
    assert.equal(client.remoteEndpoint, listener.endpoint);
    assert.match(server.remoteEndpoint, /^tcp:\/\/\[::1\]:\d+$/);
    await within(server.write([new Uint8Array([1, 2])]));
    assert.deepEqual(await readExactly(client, 2), new Uint8Array([1, 2]));
  },
});

Deno.test("TcpTransport.listen() rejects a bound port with EADDRINUSE", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  await assert.rejects(tcp.listen(parseEndpoint(listener.endpoint)), isCode("EADDRINUSE"));
});

Deno.test("TcpTransport.listen() rejects a non-local address with EADDRNOTAVAIL", async () => {
  await assert.rejects(tcp.listen(parseEndpoint("tcp://192.0.2.1:0")), isCode("EADDRNOTAVAIL"));
});

Deno.test("TcpTransport.listen() rejects a non-tcp endpoint with EINVAL", async () => {
  await assert.rejects(
    tcp.listen(parseEndpoint("inproc://x")),
    (err) => err instanceof ZmqError && err.code === "EINVAL",
  );
});

Deno.test("TcpTransport.connect() rejects a closed port with ECONNREFUSED", async () => {
  const listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const endpoint = parseEndpoint(listener.endpoint);
  listener.close();
  await assert.rejects(within(tcp.connect(endpoint)), isCode("ECONNREFUSED"));
});

Deno.test("TcpTransport.connect() rejects wildcard host or port 0 with EINVAL", async () => {
  for (const text of ["tcp://*:5555", "tcp://127.0.0.1:0"]) {
    await assert.rejects(
      tcp.connect(parseEndpoint(text)),
      (err) => err instanceof ZmqError && err.code === "EINVAL",
    );
  }
});

Deno.test("TcpTransport.connect() rejects with the signal's reason when aborted", async () => {
  const reason = new Error("gave up");
  const aborted = new AbortController();
  aborted.abort(reason);
  await assert.rejects(
    tcp.connect(parseEndpoint("tcp://127.0.0.1:1"), { signal: aborted.signal }),
    (err) => err === reason,
  );
  // Aborting while the attempt is in flight (192.0.2.1 is TEST-NET-1: never answers).
  const controller = new AbortController();
  const attempt = tcp.connect(parseEndpoint("tcp://192.0.2.1:5555"), {
    signal: controller.signal,
  });
  controller.abort(reason);
  await assert.rejects(within(attempt), (err) => err === reason);
});

Deno.test("TcpTransport carries a 4 MiB write intact", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const [client, server] = await connectPair(tcp, listener, parseEndpoint(listener.endpoint));
  using _c = client, _s = server;
  const big = pattern(4 * 1024 * 1024, 42);
  const header = new Uint8Array([1, 2, 3]);
  const [, received] = await Promise.all([
    within(client.write([header, big, header]), 20_000, "write"),
    readExactly(server, big.length + 6, 20_000),
  ]);
  assert.deepEqual(received, concat([header, big, header]));
});

Deno.test("TcpTransport writes many small buffers of one write() in order", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const [client, server] = await connectPair(tcp, listener, parseEndpoint(listener.endpoint));
  using _s = server;
  const buffers: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) buffers.push(pattern(i % 37, i + 1));
  buffers.push(pattern(20_000, 7), new Uint8Array(0), pattern(5, 8));
  await within(client.write(buffers));
  client.close();
  assert.deepEqual(await readToEnd(server), concat(buffers));
});

Deno.test("TcpTransport gathers runs of small buffers past the gather limit, around large ones", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const [client, server] = await connectPair(tcp, listener, parseEndpoint(listener.endpoint));
  using _s = server;
  const buffers: Uint8Array[] = [];
  // Over 256 KiB of small buffers (more than one gather), a large one, then small ones again.
  for (let i = 0; i < 70; i++) buffers.push(pattern(4000 + i, i + 1));
  buffers.push(pattern(200_000, 99), pattern(9, 100), pattern(130_000, 101));
  for (let i = 0; i < 5; i++) buffers.push(pattern(i, i + 200));
  const reading = readToEnd(server, 20_000);
  await within(client.write(buffers), 20_000, "write");
  client.close();
  assert.deepEqual(await reading, concat(buffers));
});

Deno.test("TcpTransport keeps the order of overlapping write() calls", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const [client, server] = await connectPair(tcp, listener, parseEndpoint(listener.endpoint));
  using _s = server;
  const a = pattern(1024 * 1024, 1);
  const b = pattern(100, 2);
  const c = pattern(300_000, 3);
  const reading = readToEnd(server, 20_000);
  await within(Promise.all([client.write([a]), client.write([b]), client.write([c])]));
  client.close();
  assert.deepEqual(await reading, concat([a, b, c]));
});

Deno.test("TcpTransport keeps overlapping gathered writes intact while the reader lags", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const [client, server] = await connectPair(tcp, listener, parseEndpoint(listener.endpoint));
  using _s = server;
  // Each write is one gathered unit (pooled, 200 KiB): with the reader behind,
  // 8 MiB in all, more than the socket buffers hold: writes complete partially,
  // and a gather returned twice and reused would show as corrupt bytes.
  const writes: Uint8Array[][] = [];
  for (let w = 0; w < 40; w++) {
    writes.push(Array.from({ length: 50 }, (_, i) => pattern(4000 + i, w * 50 + i)));
  }
  const sent = Promise.all(writes.map((buffers) => client.write(buffers)));
  const reading = readToEnd(server, 20_000);
  try {
    await within(sent, 20_000, "writes");
  } finally {
    client.close(); // also on a timeout: the reader then ends and nothing leaks
  }
  assert.deepEqual(await reading, concat(writes.flat()));
});

Deno.test("TcpTransport read() resolves null at end of stream and once closed", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const [client, server] = await connectPair(tcp, listener, parseEndpoint(listener.endpoint));
  // A read pending when its own connection closes resolves null.
  const pending = server.read(new Uint8Array(16));
  server.close();
  assert.equal(await within(pending), null);
  assert.equal(await within(server.read(new Uint8Array(16))), null);
  server.close(); // idempotent
  // The peer sees end of stream.
  assert.equal(await within(client.read(new Uint8Array(16))), null);
  client.close();
});

Deno.test("TcpTransport write() after close rejects with ECONNRESET", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const [client, server] = await connectPair(tcp, listener, parseEndpoint(listener.endpoint));
  using _s = server;
  client.close();
  await assert.rejects(
    client.write([new Uint8Array(1)]),
    (err) => err instanceof ZmqError && err.code === "ECONNRESET",
  );
});

Deno.test("TcpTransport write() to a peer that went away rejects with ECONNRESET", async () => {
  using listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const [client, server] = await connectPair(tcp, listener, parseEndpoint(listener.endpoint));
  using _c = client;
  server.close();
  assert.equal(await within(client.read(new Uint8Array(1))), null);
  // The first write after the peer closed may still succeed (it provokes the RST).
  await assert.rejects(
    within((async () => {
      for (let i = 0; i < 100; i++) await client.write([new Uint8Array(64 * 1024)]);
    })()),
    (err) => err instanceof ZmqError && err.code === "ECONNRESET",
  );
});

Deno.test("TcpTransport accept() resolves null when the listener closes", async () => {
  const listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const accepting = listener.accept();
  listener.close();
  assert.equal(await within(accepting), null);
  assert.equal(await within(listener.accept()), null);
  listener.close(); // idempotent
});

Deno.test("TcpTransport releases the port on listener close", async () => {
  const first = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const endpoint = first.endpoint;
  first.close();
  using second = await tcp.listen(parseEndpoint(endpoint));
  assert.equal(second.endpoint, endpoint);
});
