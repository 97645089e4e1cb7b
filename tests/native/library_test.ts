/**
 * The native library's lifetime: loading, probing, and closing with
 * resources still open and operations still in flight, with Deno's op and
 * resource sanitizers on, so nothing may outlive `close()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadNative, NativeLibrary, NativeTransport, probeNative } from "../../ffi/mod.ts";
import { ZmqError } from "../../src/errors.ts";
import { available, LIBRARY_PATH, until } from "./_native.ts";

const ignore = !available;

Deno.test({
  name: "probeNative() and loadNative() explain a missing library instead of throwing",
  ignore,
  async fn() {
    const probe = probeNative({ path: "/nonexistent/libmonocoque.so" });
    assert.equal(probe.available, false);
    assert.match((probe as { reason: string }).reason, /not built|Cannot load/);
    assert.equal(loadNative({ path: "/nonexistent/libmonocoque.so" }), undefined);
    assert.throws(() => new NativeLibrary({ path: "/nonexistent/libmonocoque.so" }), Error);
    assert.deepEqual(probeNative({ path: LIBRARY_PATH }), {
      available: true,
      path: LIBRARY_PATH,
    });
    const lib = loadNative({ path: LIBRARY_PATH });
    assert.ok(lib);
    await lib.close();
  },
});

Deno.test({
  name: "NativeLibrary.close() closes everything, finishes every operation and leaks nothing",
  ignore,
  async fn() {
    const lib = new NativeLibrary({ path: LIBRARY_PATH });
    const transport = new NativeTransport(lib);
    const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
    const port = Number(listener.endpoint.split(":").at(-1));
    const [client, server] = await Promise.all([
      transport.connect({ transport: "tcp", host: "127.0.0.1", port }),
      listener.accept(),
    ]);
    assert.ok(server);
    assert.equal(client.remoteEndpoint, listener.endpoint);
    const pendingAccept = listener.accept();
    const pendingRead = server.read(new Uint8Array(16));
    // The client never reads the server's 32 MiB: its SENDMSG stays in flight.
    const pendingWrite = server.write([new Uint8Array(32 * 1024 * 1024)]);
    pendingWrite.catch(() => {});
    await until(() => lib.stats().operationsInFlight >= 3, "three operations in flight");
    assert.ok(lib.stats().operationsInFlight >= 3);
    assert.ok(lib.stats().slotsInUse > 0);
    assert.equal(lib.stats().socketsOpen, 3);

    await lib.close();
    await lib.close(); // idempotent
    assert.equal(lib.closed, true);
    assert.equal(await pendingAccept, null);
    assert.equal(await pendingRead, null);
    await assert.rejects(pendingWrite, (err) => err instanceof ZmqError);
    assert.deepEqual(lib.stats(), {
      slotsInUse: 0,
      socketsOpen: 0,
      operationsInFlight: 0,
      wake: "wait",
    });
    await assert.rejects(
      transport.connect({ transport: "tcp", host: "127.0.0.1", port }),
      (err) => err instanceof ZmqError && err.code === "ETERM",
    );
  },
});

Deno.test({
  name: "NativeLibrary.close() leaves no file descriptor open",
  ignore,
  async fn() {
    const child = new URL("./_fd_child.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", child], // /proc/self needs --allow-all in Deno 2.9
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const { before, during, after } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.ok(during > before, "the child opened sockets");
    // Deno itself may close an fd it had at start-up meanwhile: a leak shows as more.
    assert.ok(after <= before, `file descriptors leaked: ${before} before, ${after} after`);
  },
});

Deno.test({
  name: "NativeLibrary can be opened and closed repeatedly, also with await using",
  ignore,
  async fn() {
    for (let i = 0; i < 5; i++) {
      await using lib = new NativeLibrary({ path: LIBRARY_PATH, slotCount: 64 });
      const transport = new NativeTransport(lib);
      const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
      using _ = listener;
    }
  },
});

Deno.test({
  name: "NativeLibrary falls back to the pool wait without --allow-net",
  ignore,
  async fn() {
    const script = `
      import { NativeLibrary, NativeTransport } from ${
      JSON.stringify(new URL("../../ffi/mod.ts", import.meta.url).href)
    };
      await using lib = new NativeLibrary({ path: ${JSON.stringify(LIBRARY_PATH)} });
      const transport = new NativeTransport(lib);
      const dir = Deno.makeTempDirSync();
      const endpoint = { transport: "ipc", path: dir + "/s" };
      const listener = await transport.listen(endpoint);
      const [client, server] = await Promise.all([transport.connect(endpoint), listener.accept()]);
      await client.write([new Uint8Array([7])]);
      const buffer = new Uint8Array(1);
      console.log(await server.read(buffer), buffer[0], lib.stats().wake);
      client.close(); server.close(); listener.close();
      Deno.removeSync(dir, { recursive: true });
    `;
    // `deno eval` would grant everything: run a file with exactly these permissions.
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-ffi", "--allow-read", "--allow-write", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    await Deno.remove(file);
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.equal(text, "1 7 wait");
  },
});
