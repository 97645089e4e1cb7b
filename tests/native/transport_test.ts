/**
 * The native io_uring transport against the transport contract: listen,
 * connect and accept over tcp and ipc, large and concurrent echoes, close
 * semantics and errors. Skipped (with the reason printed) where the library
 * cannot be built or loaded.
 *
 * @module
 */

import assert from "node:assert/strict";
import { NativeLibrary, type NativeLibraryOptions, NativeTransport } from "../../ffi/mod.ts";
import { ZmqError } from "../../src/errors.ts";
import type { Connection, Endpoint, Listener } from "../../src/transport/types.ts";
import { withTimeout } from "../_util/timeout.ts";
import { available, LIBRARY_PATH, random, randomBytes, until } from "./_native.ts";

const ignore = !available;

function open(options: NativeLibraryOptions = {}): NativeLibrary {
  return new NativeLibrary({ path: LIBRARY_PATH, ...options });
}

function portOf(listener: Listener): number {
  return Number(listener.endpoint.split(":").at(-1));
}

async function pair(
  transport: NativeTransport,
  listener: Listener,
  endpoint: Endpoint,
): Promise<[Connection, Connection]> {
  const [client, server] = await Promise.all([transport.connect(endpoint), listener.accept()]);
  assert.ok(server);
  return [client, server];
}

async function tcpPair(
  transport: NativeTransport,
): Promise<[Connection, Connection, Listener]> {
  const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
  const endpoint: Endpoint = { transport: "tcp", host: "127.0.0.1", port: portOf(listener) };
  const [client, server] = await pair(transport, listener, endpoint);
  return [client, server, listener];
}

async function readExactly(conn: Connection, size: number, chunk = 65536): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let got = 0;
  while (got < size) {
    const n = await conn.read(out.subarray(got, Math.min(size, got + chunk)));
    assert.notEqual(n, null, `stream ended after ${got} of ${size} bytes`);
    got += n!;
  }
  return out;
}

/** Echoes everything back until end of stream, reading with varying buffer sizes. */
async function echo(conn: Connection, seed: number): Promise<void> {
  const next = random(seed);
  const buffer = new Uint8Array(256 * 1024);
  for (;;) {
    const n = await conn.read(buffer.subarray(0, 1 + ((next() * buffer.length) | 0)));
    if (n === null) return;
    await conn.write([buffer.subarray(0, n)]);
  }
}

/** Writes `data` as write() calls of several buffers of mixed sizes (1 B to 200 KiB). */
async function writeMixed(conn: Connection, data: Uint8Array, seed: number): Promise<void> {
  const next = random(seed);
  let offset = 0;
  while (offset < data.length) {
    const parts: Uint8Array[] = [];
    const count = 1 + ((next() * 8) | 0);
    for (let i = 0; i < count && offset < data.length; i++) {
      const scale = [16, 1024, 65536, 200 * 1024][(next() * 4) | 0];
      const size = Math.min(data.length - offset, 1 + ((next() * scale) | 0));
      parts.push(i % 3 === 2 ? new Uint8Array(0) : data.subarray(offset, offset + size));
      if (i % 3 !== 2) offset += size;
    }
    await conn.write(parts);
  }
}

async function echoRoundTrip(
  transport: NativeTransport,
  listener: Listener,
  endpoint: Endpoint,
  size: number,
  seed: number,
): Promise<void> {
  const [client, server] = await pair(transport, listener, endpoint);
  const data = randomBytes(size, seed);
  const echoing = echo(server, seed + 1);
  const [, received] = await Promise.all([
    writeMixed(client, data, seed + 2),
    readExactly(client, size, 1 + ((random(seed)() * 100_000) | 0)),
  ]);
  assert.equal(received.length, data.length);
  assert.ok(received.every((byte, i) => byte === data[i]), "echoed bytes differ");
  client.close();
  await echoing;
  server.close();
}

Deno.test({
  name: "NativeTransport listens, connects and accepts over tcp",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const [client, server, listener] = await tcpPair(transport);
    assert.match(listener.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(portOf(listener), 0);
    assert.equal(client.remoteEndpoint, listener.endpoint);
    assert.equal(server.localEndpoint, listener.endpoint);
    assert.equal(server.remoteEndpoint, client.localEndpoint);
    assert.equal(lib.stats().wake, "doorbell");

    await client.write([new TextEncoder().encode("hello "), new TextEncoder().encode("world")]);
    assert.equal(new TextDecoder().decode(await readExactly(server, 11)), "hello world");
    await server.write([new Uint8Array([1, 2, 3])]);
    assert.deepEqual(await readExactly(client, 3), new Uint8Array([1, 2, 3]));
    client.close();
    server.close();
    listener.close();
  },
});

Deno.test({
  name: "NativeTransport binds tcp://*:0 to every IPv4 interface",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const listener = await transport.listen({ transport: "tcp", host: "*", port: 0 });
    assert.match(listener.endpoint, /^tcp:\/\/0\.0\.0\.0:\d+$/);
    const endpoint: Endpoint = { transport: "tcp", host: "localhost", port: portOf(listener) };
    const [client, server] = await pair(transport, listener, endpoint);
    assert.equal(client.remoteEndpoint, `tcp://127.0.0.1:${portOf(listener)}`);
    client.close();
    server.close();
    listener.close();
  },
});

Deno.test({
  name: "NativeTransport listens, connects and accepts over ipc and removes the socket file",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await using lib = open();
      const transport = new NativeTransport(lib);
      const endpoint: Endpoint = { transport: "ipc", path: `${dir}/sock` };
      const listener = await transport.listen(endpoint);
      assert.equal(listener.endpoint, `ipc://${dir}/sock`);
      const [client, server] = await pair(transport, listener, endpoint);
      assert.equal(client.remoteEndpoint, listener.endpoint);
      assert.equal(server.localEndpoint, listener.endpoint);
      await client.write([new Uint8Array([42])]);
      assert.deepEqual(await readExactly(server, 1), new Uint8Array([42]));
      client.close();
      server.close();
      listener.close();
      await assert.rejects(Deno.stat(`${dir}/sock`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "NativeTransport replaces a stale ipc socket file but not a live one",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await using lib = open();
      const transport = new NativeTransport(lib);
      const endpoint: Endpoint = { transport: "ipc", path: `${dir}/sock` };
      const stale = Deno.listen({ transport: "unix", path: `${dir}/sock` });
      stale.close(); // Deno leaves the file behind, like a dead process would
      const listener = await transport.listen(endpoint);
      await assert.rejects(
        transport.listen(endpoint),
        (err) => err instanceof ZmqError && err.code === "EADDRINUSE",
      );
      listener.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "NativeTransport echoes 4 MiB in mixed chunk sizes intact over tcp and ipc",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await using lib = open();
      const transport = new NativeTransport(lib);
      const tcp = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
      await echoRoundTrip(
        transport,
        tcp,
        { transport: "tcp", host: "127.0.0.1", port: portOf(tcp) },
        4 * 1024 * 1024,
        1,
      );
      tcp.close();
      const ipcEndpoint: Endpoint = { transport: "ipc", path: `${dir}/echo` };
      const ipc = await transport.listen(ipcEndpoint);
      await echoRoundTrip(transport, ipc, ipcEndpoint, 4 * 1024 * 1024 + 7, 2);
      ipc.close();
      assert.equal(lib.stats().slotsInUse, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "NativeTransport serves 100 concurrent connections, each echoing",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
    const endpoint: Endpoint = { transport: "tcp", host: "127.0.0.1", port: portOf(listener) };
    const count = 100;
    const serving = (async () => {
      const echoes: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        const conn = await listener.accept();
        assert.ok(conn);
        echoes.push(echo(conn, 100 + i).finally(() => conn.close()));
      }
      await Promise.all(echoes);
    })();
    const clients = await Promise.all(
      Array.from({ length: count }, () => transport.connect(endpoint)),
    );
    await Promise.all(clients.map(async (client, i) => {
      const data = randomBytes(64 * 1024 + i * 97, 1000 + i);
      const [, received] = await Promise.all([
        writeMixed(client, data, 2000 + i),
        readExactly(client, data.length, 4096 + i * 13),
      ]);
      assert.ok(received.every((byte, j) => byte === data[j]), `connection ${i} differs`);
      client.close();
    }));
    await serving;
    listener.close();
    const stats = lib.stats();
    assert.equal(stats.socketsOpen, 0);
    assert.equal(stats.slotsInUse, 0);
  },
});

Deno.test({
  name: "NativeConnection.close() resolves a pending read to null and rejects later writes",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const [client, server, listener] = await tcpPair(transport);
    const pending = client.read(new Uint8Array(16));
    client.close();
    client.close(); // idempotent
    assert.equal(await pending, null);
    assert.equal(await client.read(new Uint8Array(16)), null);
    await assert.rejects(
      client.write([new Uint8Array(1)]),
      (err) => err instanceof ZmqError && err.code === "ECONNRESET",
    );
    // The peer sees end of stream.
    assert.equal(await server.read(new Uint8Array(16)), null);
    server.close();
    listener.close();
  },
});

Deno.test({
  name: "NativeConnection delivers buffered bytes before end of stream",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const [client, server, listener] = await tcpPair(transport);
    await client.write([new Uint8Array([1, 2, 3, 4, 5])]);
    client.close();
    const small = new Uint8Array(2);
    const seen: number[] = [];
    for (;;) {
      const n = await server.read(small);
      if (n === null) break;
      seen.push(...small.subarray(0, n));
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    server.close();
    listener.close();
  },
});

Deno.test({
  name: "NativeConnection.write() rejects with ECONNRESET when the connection closes under it",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const [client, server, listener] = await tcpPair(transport);
    // Nobody reads: 32 MiB cannot fit in the socket buffers, so the write stays pending.
    const writing = client.write([new Uint8Array(32 * 1024 * 1024)]);
    await until(() => lib.stats().slotsInUse > 0, "the write to be in flight");
    client.close();
    await assert.rejects(writing, (err) => err instanceof ZmqError && err.code === "ECONNRESET");
    server.close();
    listener.close();
    assert.equal(lib.stats().slotsInUse, 0);
  },
});

Deno.test({
  name: "NativeListener.close() resolves pending and later accepts to null and frees the port",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
    const port = portOf(listener);
    const pending = listener.accept();
    listener.close();
    listener.close();
    assert.equal(await pending, null);
    assert.equal(await listener.accept(), null);
    const again = await transport.listen({ transport: "tcp", host: "127.0.0.1", port });
    again.close();
  },
});

Deno.test({
  name: "NativeTransport reports errors with libzmq codes",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const code = (expected: string) => (err: unknown) =>
      err instanceof ZmqError && err.code === expected;
    const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
    const port = portOf(listener);
    await assert.rejects(
      transport.listen({ transport: "tcp", host: "127.0.0.1", port }),
      code("EADDRINUSE"),
    );
    listener.close();
    await assert.rejects(
      transport.connect({ transport: "tcp", host: "127.0.0.1", port }),
      code("ECONNREFUSED"),
    );
    await assert.rejects(
      transport.connect({ transport: "ipc", path: "/nonexistent/monocoque.sock" }),
      code("ECONNREFUSED"),
    );
    await assert.rejects(
      transport.listen({ transport: "ipc", path: "/nonexistent/monocoque.sock" }),
      code("ENOENT"),
    );
    await assert.rejects(
      transport.connect({ transport: "tcp", host: "*", port: 5555 }),
      code("EINVAL"),
    );
    await assert.rejects(
      transport.listen({ transport: "inproc", name: "x" }),
      code("EPROTONOSUPPORT"),
    );
    await assert.rejects(
      transport.listen({ transport: "tcp", host: "192.0.2.1", port: 0 }),
      code("EADDRNOTAVAIL"),
    );
    const reason = new Error("stop");
    const aborted = new AbortController();
    aborted.abort(reason);
    await assert.rejects(
      transport.connect({ transport: "tcp", host: "127.0.0.1", port }, {
        signal: aborted.signal,
      }),
      (err) => err === reason,
    );
    assert.equal(lib.stats().socketsOpen, 0);
  },
});

Deno.test({
  name: "NativeTransport works with the pool wait instead of the doorbell",
  ignore,
  async fn() {
    await using lib = open({ wake: "wait" });
    const transport = new NativeTransport(lib);
    const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
    assert.equal(lib.stats().wake, "wait");
    await echoRoundTrip(
      transport,
      listener,
      { transport: "tcp", host: "127.0.0.1", port: portOf(listener) },
      1024 * 1024,
      3,
    );
    // A read left pending is woken and finished by the library's close.
    const [client, server] = await pair(transport, listener, {
      transport: "tcp",
      host: "127.0.0.1",
      port: portOf(listener),
    });
    const pending = server.read(new Uint8Array(8));
    await lib.close();
    assert.equal(await pending, null);
    assert.equal(await client.read(new Uint8Array(8)), null);
  },
});

Deno.test({
  name: "NativeTransport writes more than the slab holds by waiting for free slots",
  ignore,
  async fn() {
    await using lib = open({ slotCount: 4, slotSize: 4096 });
    const transport = new NativeTransport(lib);
    const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
    await echoRoundTrip(
      transport,
      listener,
      { transport: "tcp", host: "127.0.0.1", port: portOf(listener) },
      512 * 1024,
      4,
    );
    listener.close();
  },
});

Deno.test({
  name: "NativeConnection.write() waiting for room completes once the peer reads",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
    // The peer is a Deno socket, so the native side has nothing in flight but
    // the SENDMSG: 32 MiB cannot fit in the socket buffers, the send waits
    // for room, and only its POLLOUT watch can wake the parked pump (sends
    // carry no doorbell of their own).
    const [peer, server] = await Promise.all([
      Deno.connect({ hostname: "127.0.0.1", port: portOf(listener) }),
      listener.accept(),
    ]);
    assert.ok(server);
    const data = randomBytes(32 * 1024 * 1024, 7);
    const writing = server.write([data]);
    await until(() => lib.stats().slotsInUse > 0, "the write to be in flight");
    const received = new Uint8Array(data.length);
    const reading = (async () => {
      let got = 0;
      while (got < data.length) {
        const n = await peer.read(received.subarray(got));
        assert.notEqual(n, null, `stream ended after ${got} bytes`);
        got += n!;
      }
    })();
    await withTimeout(reading, 20_000, "the peer reading 32 MiB");
    await withTimeout(writing, 20_000, "the write to complete");
    assert.ok(received.every((byte, i) => byte === data[i]), "received bytes differ");
    peer.close();
    server.close();
    listener.close();
    assert.equal(lib.stats().slotsInUse, 0);
  },
});

Deno.test({
  name: "NativeConnection reads a busy stream to its end, then null",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const [client, server, listener] = await tcpPair(transport);
    const data = randomBytes(3 * 1024 * 1024 + 123, 11);
    await server.write([data]);
    server.close();
    const buffer = new Uint8Array(256 * 1024);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let n = await client.read(buffer); n !== null; n = await client.read(buffer)) {
      chunks.push(buffer.slice(0, n));
      total += n;
    }
    assert.equal(total, data.length);
    const received = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      received.set(chunk, offset);
      offset += chunk.length;
    }
    assert.ok(received.every((byte, i) => byte === data[i]), "received bytes differ");
    assert.equal(await client.read(buffer), null);
    client.close();
    listener.close();
    assert.equal(lib.stats().slotsInUse, 0);
  },
});

Deno.test({
  name: "NativeTransport completes writes to many peers made in one turn",
  ignore,
  async fn() {
    await using lib = open();
    const transport = new NativeTransport(lib);
    const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
    const endpoint: Endpoint = { transport: "tcp", host: "127.0.0.1", port: portOf(listener) };
    const pairs: [Connection, Connection][] = [];
    for (let i = 0; i < 8; i++) pairs.push(await pair(transport, listener, endpoint));
    const message = new TextEncoder().encode("to every peer");
    for (let round = 0; round < 3; round++) {
      // No await between the writes: one turn, one io_uring_enter, one doorbell.
      const writes = pairs.map(([client]) => client.write([message]));
      await withTimeout(Promise.all(writes), 20_000, "every write to complete");
      const got = await Promise.all(pairs.map(([, server]) => readExactly(server, message.length)));
      for (const bytes of got) assert.deepEqual(bytes, message);
    }
    for (const [client, server] of pairs) {
      client.close();
      server.close();
    }
    listener.close();
    // The receives armed ahead give their slots back once their cancellation completes.
    await until(() => lib.stats().slotsInUse === 0, "every slot to be free");
  },
});
