import assert from "node:assert/strict";
import { ZmqError } from "../../src/errors.ts";
import { IpcTransport } from "../../src/transport/ipc.ts";
import { concat, connectPair, pattern, readExactly, readToEnd, within } from "./_helpers.ts";

const ipc = new IpcTransport();

/** A temporary directory removed (with its contents) at the end of the test. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "monocoque-ipc-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Leaves a socket file with no listener, as a crashed process would. */
async function leaveStaleSocket(path: string): Promise<void> {
  const { code } = await within(
    new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `Deno.listen({ transport: "unix", path: ${JSON.stringify(path)} });
Deno.kill(Deno.pid, "SIGKILL");`,
      ],
      stdout: "null",
      stderr: "null",
    }).output(),
    20_000,
    "a child process",
  );
  assert.equal(code, 137);
  assert.ok(Deno.lstatSync(path).isSocket);
}

Deno.test("IpcTransport connects, carries bytes both ways and reports the path", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a.sock`;
  using listener = await ipc.listen({ transport: "ipc", path });
  assert.equal(listener.endpoint, `ipc://${path}`);
  const [client, server] = await connectPair(ipc, listener, { transport: "ipc", path });
  using _c = client, _s = server;
  assert.equal(client.remoteEndpoint, `ipc://${path}`);
  assert.equal(server.localEndpoint, `ipc://${path}`);
  const big = pattern(4 * 1024 * 1024, 9);
  const small = Array.from({ length: 100 }, (_, i) => pattern(i, i + 1));
  const [, received] = await Promise.all([
    within(client.write([...small, big]), 20_000, "write"),
    readExactly(server, big.length + small.reduce((n, b) => n + b.length, 0), 20_000),
  ]);
  assert.deepEqual(received, concat([...small, big]));
  await within(server.write([new Uint8Array([5])]));
  assert.deepEqual(await readExactly(client, 1), new Uint8Array([5]));
});

Deno.test("IpcTransport removes the socket file when the listener closes", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/b.sock`;
  const listener = await ipc.listen({ transport: "ipc", path });
  assert.ok(Deno.lstatSync(path).isSocket);
  listener.close();
  assert.equal(exists(path), false);
  listener.close(); // idempotent
});

Deno.test("IpcTransport replaces a stale socket file on bind", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/stale.sock`;
  await leaveStaleSocket(path);
  using listener = await ipc.listen({ transport: "ipc", path });
  const [client, server] = await connectPair(ipc, listener, { transport: "ipc", path });
  client.close();
  assert.deepEqual(await readToEnd(server), new Uint8Array(0));
  server.close();
});

Deno.test("IpcTransport.listen() rejects a path someone listens on with EADDRINUSE", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/c.sock`;
  using listener = await ipc.listen({ transport: "ipc", path });
  await assert.rejects(
    ipc.listen({ transport: "ipc", path }),
    (err) => err instanceof ZmqError && err.code === "EADDRINUSE",
  );
  // The live listener's file is untouched, and it still accepts (the probe connection included).
  const [client, server] = await connectPair(ipc, listener, { transport: "ipc", path });
  client.close();
  server.close();
});

Deno.test("IpcTransport.listen() refuses to replace a file that is not a socket", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/plain`;
  await Deno.writeTextFile(path, "keep me");
  await assert.rejects(
    ipc.listen({ transport: "ipc", path }),
    (err) => err instanceof ZmqError && err.code === "EADDRINUSE",
  );
  assert.equal(await Deno.readTextFile(path), "keep me");
});

Deno.test("IpcTransport.listen() rejects a missing directory with ENOENT", async () => {
  await using dir = await tempDir();
  await assert.rejects(
    ipc.listen({ transport: "ipc", path: `${dir.path}/missing/d.sock` }),
    (err) => err instanceof ZmqError && err.code === "ENOENT",
  );
});

Deno.test("IpcTransport.connect() rejects with ECONNREFUSED for no file or a stale file", async () => {
  await using dir = await tempDir();
  await assert.rejects(
    within(ipc.connect({ transport: "ipc", path: `${dir.path}/none.sock` })),
    (err) => err instanceof ZmqError && err.code === "ECONNREFUSED",
  );
  const stale = `${dir.path}/stale.sock`;
  await leaveStaleSocket(stale);
  await assert.rejects(
    within(ipc.connect({ transport: "ipc", path: stale })),
    (err) => err instanceof ZmqError && err.code === "ECONNREFUSED",
  );
});

Deno.test("IpcTransport.connect() rejects with the signal's reason when aborted", async () => {
  const controller = new AbortController();
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(
    ipc.connect({ transport: "ipc", path: "/nonexistent.sock" }, { signal: controller.signal }),
    (err) => err === reason,
  );
});

Deno.test("IpcTransport read() resolves null when closed and at the peer's end of stream", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/e.sock`;
  using listener = await ipc.listen({ transport: "ipc", path });
  const [client, server] = await connectPair(ipc, listener, { transport: "ipc", path });
  const pending = client.read(new Uint8Array(8));
  client.close();
  assert.equal(await within(pending), null);
  assert.equal(await within(server.read(new Uint8Array(8))), null);
  await assert.rejects(
    client.write([new Uint8Array(1)]),
    (err) => err instanceof ZmqError && err.code === "ECONNRESET",
  );
  server.close();
});
