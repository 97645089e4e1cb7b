/**
 * Reliability under Node and Bun over real tcp and ipc: reconnect when the
 * binder comes back, a pyzmq peer killed mid-stream, and hostile raw bytes
 * (a bad greeting, a silent peer) dropping only that connection. Bundled and
 * run by `runtimes_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as netConnect, type Socket as NetSocket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PullSocket, PushSocket, type Socket, type SocketEvent } from "../../mod.ts";
import { run, scenario, text, within } from "./_harness.ts";
import { PyPeer } from "./_peer.ts";

const dir = mkdtempSync(join(tmpdir(), "monocoque-reliability-"));
let n = 0;

function bindable(transport: string): string {
  return transport === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${dir}/r${n++}.sock`;
}

/** Resolves with the first event of `type` the socket emits from now on. */
function nextEvent(socket: Socket, type: SocketEvent["type"]): Promise<SocketEvent> {
  const events = socket.events();
  return (async () => {
    try {
      for await (const event of events) if (event.type === type) return event;
      throw new Error(`events ended before ${type}`);
    } finally {
      await events.return?.();
    }
  })();
}

/** Opens a raw stream to a tcp or ipc endpoint (no ZMTP), resolved once connected. */
function raw(endpoint: string): Promise<NetSocket> {
  const options = endpoint.startsWith("tcp://")
    ? { host: "127.0.0.1", port: Number(endpoint.split(":").at(-1)) }
    : { path: endpoint.slice("ipc://".length) };
  return new Promise((resolve, reject) => {
    const socket = netConnect(options, () => resolve(socket));
    socket.resume(); // read (and drop) what comes, so the end of the stream is seen
    socket.once("error", reject);
  });
}

for (const transport of ["tcp", "ipc"]) {
  scenario(`a connecter reconnects when the binder comes back (${transport})`, async () => {
    await using push = new PushSocket({ reconnectInterval: 50 });
    const first = new PullSocket();
    await first.bind(bindable(transport));
    const endpoint = first.lastEndpoint!;
    push.connect(endpoint);
    await push.send("before");
    assert.deepEqual(text(await within(first.receive(), "before")), ["before"]);
    const disconnected = nextEvent(push, "disconnected");
    await first.close();
    await within(disconnected, "disconnected");
    await using second = new PullSocket();
    await second.bind(endpoint);
    await push.send("after");
    assert.deepEqual(text(await within(second.receive(), "after")), ["after"]);
  });

  scenario(`a pyzmq peer killed mid-stream drops only its pipe (${transport})`, async () => {
    await using pull = new PullSocket();
    await pull.bind(bindable(transport));
    const doomed = await PyPeer.start("PUSH", { connect: pull.lastEndpoint! });
    const survivor = await PyPeer.start("PUSH", { connect: pull.lastEndpoint! });
    try {
      await doomed.send(["doomed"]);
      assert.deepEqual(text(await within(pull.receive(), "doomed")), ["doomed"]);
      const disconnected = nextEvent(pull, "disconnected");
      doomed.kill();
      await within(disconnected, "disconnected after the kill");
      await survivor.send(["alive"]);
      assert.deepEqual(text(await within(pull.receive(), "survivor")), ["alive"]);
    } finally {
      await doomed.close();
      await survivor.close();
    }
  });

  scenario(
    `a bad greeting and a silent peer drop only their connection (${transport})`,
    async () => {
      await using pull = new PullSocket({ handshakeInterval: 300 });
      await pull.bind(bindable(transport));
      const endpoint = pull.lastEndpoint!;
      const failures: string[] = [];
      const watching = (async () => {
        for await (const event of pull.events()) {
          if (event.type === "handshakeFailed" || event.type === "disconnected") {
            failures.push(event.type);
            if (failures.length >= 2) return;
          }
        }
      })();
      const garbage = await raw(endpoint);
      garbage.on("error", () => {});
      const garbageClosed = new Promise((resolve) => garbage.on("close", resolve));
      garbage.write(new Uint8Array(64).fill(0x41)); // not a ZMTP signature
      const silent = await raw(endpoint);
      silent.on("error", () => {});
      const silentClosed = new Promise((resolve) => silent.on("close", resolve));
      await within(garbageClosed, "bad greeting dropped");
      await within(silentClosed, "silent peer dropped by the handshake deadline");
      await within(watching, "failure events");
      await using push = new PushSocket();
      push.connect(endpoint);
      await push.send("still serving");
      assert.deepEqual(text(await within(pull.receive(), "message")), ["still serving"]);
    },
  );
}

await run(() => rmSync(dir, { recursive: true, force: true }));
