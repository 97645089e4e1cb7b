/**
 * The `node:net` transports' contract under Node and Bun, the checks of
 * tests/transport/tcp_test.ts and ipc_test.ts for the Deno transports: large
 * and many small writes intact and in order, overlapping writes in order,
 * end of stream and close, ECONNRESET after close and towards a peer that
 * went away, accept() on a closed listener, abort signals, and the port and
 * socket file released on close. Bundled and run by `runtimes_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZmqError } from "../../mod.ts";
import { parseEndpoint } from "../../src/transport/endpoint.ts";
import { NodeIpcTransport } from "../../src/transport/node_ipc.ts";
import { NodeTcpTransport } from "../../src/transport/node_tcp.ts";
import type { Connection, Listener, Transport } from "../../src/transport/types.ts";
import { run, scenario, within } from "./_harness.ts";

const dir = mkdtempSync(join(tmpdir(), "monocoque-transport-"));
let n = 0;

const TRANSPORTS: [string, Transport, () => string][] = [
  ["tcp", new NodeTcpTransport(), () => "tcp://127.0.0.1:0"],
  ["ipc", new NodeIpcTransport(), () => `ipc://${dir}/t${n++}.sock`],
];

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function readExactly(conn: Connection, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let got = 0; got < length;) {
    const r = await within(conn.read(out.subarray(got)), "read");
    if (r === null) throw new Error(`End of stream after ${got} of ${length} bytes`);
    got += r;
  }
  return out;
}

async function readToEnd(conn: Connection): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const r = await within(conn.read(buffer), "read");
    if (r === null) return concat(parts);
    parts.push(buffer.slice(0, r));
  }
}

async function pair(
  transport: Transport,
  endpoint: string,
): Promise<[Listener, Connection, Connection]> {
  const listener = await transport.listen(parseEndpoint(endpoint));
  const [client, server] = await within(
    Promise.all([
      transport.connect(parseEndpoint(listener.endpoint, "connect")),
      listener.accept(),
    ]),
    "connect and accept",
  );
  return [listener, client, server!];
}

function isReset(err: unknown): boolean {
  return err instanceof ZmqError && err.code === "ECONNRESET";
}

for (const [name, transport, bindable] of TRANSPORTS) {
  scenario(`${name}: a 4 MiB write between small ones arrives intact`, async () => {
    const [listener, client, server] = await pair(transport, bindable());
    try {
      const big = pattern(4 * 1024 * 1024, 42);
      const header = new Uint8Array([1, 2, 3]);
      const [, received] = await Promise.all([
        within(client.write([header, big, header]), "write"),
        readExactly(server, big.length + 6),
      ]);
      assert.deepEqual(received, concat([header, big, header]));
    } finally {
      client.close();
      server.close();
      listener.close();
    }
  });

  scenario(
    `${name}: many small buffers, past the gather limit and around large ones, in order`,
    async () => {
      const [listener, client, server] = await pair(transport, bindable());
      try {
        const buffers: Uint8Array[] = [];
        for (let i = 0; i < 1000; i++) buffers.push(pattern(i % 37, i + 1));
        for (let i = 0; i < 70; i++) buffers.push(pattern(4000 + i, i + 1));
        buffers.push(pattern(200_000, 99), new Uint8Array(0), pattern(9, 100));
        const reading = readToEnd(server);
        await within(client.write(buffers), "write");
        client.close();
        assert.deepEqual(await reading, concat(buffers));
      } finally {
        server.close();
        listener.close();
      }
    },
  );

  scenario(`${name}: overlapping write() calls keep their order`, async () => {
    const [listener, client, server] = await pair(transport, bindable());
    try {
      const a = pattern(1024 * 1024, 1);
      const b = pattern(100, 2);
      const c = pattern(300_000, 3);
      const reading = readToEnd(server);
      await within(
        Promise.all([client.write([a]), client.write([b]), client.write([c])]),
        "writes",
      );
      client.close();
      assert.deepEqual(await reading, concat([a, b, c]));
    } finally {
      server.close();
      listener.close();
    }
  });

  scenario(
    `${name}: read() resolves null once closed and at the peer's end of stream`,
    async () => {
      const [listener, client, server] = await pair(transport, bindable());
      try {
        const pending = server.read(new Uint8Array(16));
        server.close();
        assert.equal(await within(pending, "pending read"), null);
        assert.equal(await within(server.read(new Uint8Array(16)), "read after close"), null);
        server.close(); // idempotent
        assert.equal(await within(client.read(new Uint8Array(16)), "peer's read"), null);
      } finally {
        client.close();
        listener.close();
      }
    },
  );

  scenario(`${name}: write() after close rejects with ECONNRESET`, async () => {
    const [listener, client, server] = await pair(transport, bindable());
    try {
      client.close();
      await assert.rejects(client.write([new Uint8Array(1)]), isReset);
    } finally {
      server.close();
      listener.close();
    }
  });

  scenario(`${name}: write() to a peer that went away rejects with ECONNRESET`, async () => {
    const [listener, client, server] = await pair(transport, bindable());
    try {
      server.close();
      assert.equal(await within(client.read(new Uint8Array(1)), "end of stream"), null);
      // The first write after the peer closed may still succeed (it provokes the RST).
      await assert.rejects(
        within(
          (async () => {
            for (let i = 0; i < 100; i++) await client.write([new Uint8Array(64 * 1024)]);
          })(),
          "writes",
        ),
        isReset,
      );
    } finally {
      client.close();
      listener.close();
    }
  });

  scenario(`${name}: accept() resolves null when the listener closes`, async () => {
    const listener = await transport.listen(parseEndpoint(bindable()));
    const accepting = listener.accept();
    listener.close();
    assert.equal(await within(accepting, "pending accept"), null);
    assert.equal(await within(listener.accept(), "accept after close"), null);
    listener.close(); // idempotent
  });

  scenario(`${name}: listener close releases the address`, async () => {
    const first = await transport.listen(parseEndpoint(bindable()));
    const endpoint = first.endpoint;
    first.close();
    if (name === "ipc") assert.ok(!existsSync(endpoint.slice("ipc://".length)), "socket file left");
    const second = await transport.listen(parseEndpoint(endpoint));
    assert.equal(second.endpoint, endpoint);
    second.close();
  });
}

scenario("tcp: connect() rejects a closed port with ECONNREFUSED", async () => {
  const tcp = new NodeTcpTransport();
  const listener = await tcp.listen(parseEndpoint("tcp://127.0.0.1:0"));
  const endpoint = listener.endpoint;
  listener.close();
  await assert.rejects(
    tcp.connect(parseEndpoint(endpoint, "connect")),
    (e: unknown) => e instanceof ZmqError && e.code === "ECONNREFUSED",
  );
});

scenario("ipc: connect() to a path nobody bound rejects with ECONNREFUSED", async () => {
  await assert.rejects(
    new NodeIpcTransport().connect(parseEndpoint(`ipc://${dir}/nobody.sock`, "connect")),
    (e: unknown) => e instanceof ZmqError && e.code === "ECONNREFUSED",
  );
});

scenario(
  "tcp: connect() rejects with the signal's reason, before and during the attempt",
  async () => {
    const tcp = new NodeTcpTransport();
    const reason = new Error("stop");
    await assert.rejects(
      tcp.connect(parseEndpoint("tcp://127.0.0.1:1", "connect"), {
        signal: AbortSignal.abort(reason),
      }),
      (err: unknown) => err === reason,
    );
    // Aborted while the attempt is in flight (192.0.2.1 is TEST-NET-1: never answers, or
    // is refused by a sandbox; the abort comes first either way).
    const controller = new AbortController();
    const attempt = tcp.connect(parseEndpoint("tcp://192.0.2.1:5555", "connect"), {
      signal: controller.signal,
    });
    controller.abort(reason);
    await assert.rejects(within(attempt, "aborted connect"), (err: unknown) => err === reason);
  },
);

await run(() => rmSync(dir, { recursive: true, force: true }));
