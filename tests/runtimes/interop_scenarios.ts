/**
 * Interop from Node and Bun against pyzmq (libzmq 4.3.4): REQ/REP,
 * DEALER/ROUTER, PUB/SUB and PUSH/PULL over tcp and ipc, Monocoque binding
 * and connecting. Bundled and run by `runtimes_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DealerSocket,
  PubSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  type Socket,
  SubSocket,
} from "../../mod.ts";
import { run, scenario, text, WAIT, within } from "./_harness.ts";
import { PyPeer } from "./_peer.ts";

const dir = mkdtempSync(join(tmpdir(), "monocoque-interop-"));
let n = 0;

/** A fresh endpoint to bind: tcp port 0, or a new ipc path. */
function bindable(transport: string): string {
  return transport === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${dir}/s${n++}.sock`;
}

/**
 * Starts the pyzmq peer and links it with `mono`: `monoBinds` decides who
 * binds. Returns the peer; the caller closes both.
 */
async function link(
  mono: Socket,
  peerType: string,
  transport: string,
  monoBinds: boolean,
  args: string[] = [],
): Promise<PyPeer> {
  if (monoBinds) {
    await mono.bind(bindable(transport));
    return await PyPeer.start(peerType, { connect: mono.lastEndpoint!, args });
  }
  const peer = await PyPeer.start(peerType, { bind: bindable(transport), args });
  mono.connect(peer.endpoint);
  return peer;
}

async function receive(socket: Socket): Promise<string[]> {
  return text(await within(socket.receive(), `${socket.type} receive`));
}

const MiB = new Uint8Array(1 << 20).map((_, i) => i % 251);

for (const transport of ["tcp", "ipc"]) {
  for (const monoBinds of [true, false]) {
    const how = `${transport}, Monocoque ${monoBinds ? "binds" : "connects"}`;

    scenario(`REQ → pyzmq REP (${how})`, async () => {
      await using req = new ReqSocket();
      const peer = await link(req, "REP", transport, monoBinds);
      try {
        const echoed = peer.echo(2);
        await req.send(["hello", "world"]);
        assert.deepEqual(await receive(req), ["hello", "world"]);
        await req.send(MiB);
        const [big] = await within(req.receive(), "1 MiB reply");
        assert.deepEqual(big, MiB);
        assert.equal(await echoed, 2);
      } finally {
        await peer.close();
      }
    });

    scenario(`pyzmq REQ → REP (${how})`, async () => {
      await using rep = new RepSocket();
      const peer = await link(rep, "REQ", transport, monoBinds);
      try {
        await peer.send(["ping", "1"]);
        assert.deepEqual(await receive(rep), ["ping", "1"]);
        await rep.send(["pong", "1"]);
        assert.deepEqual(text((await peer.recv())!), ["pong", "1"]);
      } finally {
        await peer.close();
      }
    });

    scenario(`DEALER → pyzmq ROUTER (${how})`, async () => {
      await using dealer = new DealerSocket({ routingId: "mono" });
      const peer = await link(dealer, "ROUTER", transport, monoBinds);
      try {
        const echoed = peer.echo(3);
        for (let i = 0; i < 3; i++) await dealer.send(["job", String(i)]);
        for (let i = 0; i < 3; i++) assert.deepEqual(await receive(dealer), ["job", String(i)]);
        assert.equal(await echoed, 3);
      } finally {
        await peer.close();
      }
    });

    scenario(`pyzmq DEALER → ROUTER (${how})`, async () => {
      await using router = new RouterSocket();
      const peer = await link(router, "DEALER", transport, monoBinds, ["--routing-id", "py"]);
      try {
        await peer.send(["", "request"]);
        const [id, ...rest] = await within(router.receive(), "ROUTER receive");
        assert.deepEqual(text([id]), ["py"]);
        assert.deepEqual(text(rest), ["", "request"]);
        await router.send([id, "", "reply"]);
        assert.deepEqual(text((await peer.recv())!), ["", "reply"]);
      } finally {
        await peer.close();
      }
    });

    scenario(`PUB → pyzmq SUB (${how})`, async () => {
      await using pub = new PubSocket();
      const peer = await link(pub, "SUB", transport, monoBinds, ["--subscribe", "t."]);
      try {
        // The subscription takes a round trip: publish a marker until it arrives (bounded).
        const deadline = Date.now() + WAIT;
        for (;;) {
          await pub.send(["t.marker"]);
          const got = await peer.recv(200);
          if (got !== undefined) {
            assert.deepEqual(text(got), ["t.marker"]);
            break;
          }
          assert.ok(Date.now() < deadline, "the SUB never received the marker");
        }
        await pub.send(["other", "dropped"]);
        await pub.send(["t.news", "kept"]);
        for (;;) {
          const got = text((await peer.recv())!);
          if (got[0] === "t.marker") continue; // late markers
          assert.deepEqual(got, ["t.news", "kept"]);
          break;
        }
      } finally {
        await peer.close();
      }
    });

    scenario(`pyzmq PUB → SUB (${how})`, async () => {
      await using sub = new SubSocket();
      sub.subscribe("t.");
      const peer = await link(sub, "PUB", transport, monoBinds);
      try {
        const deadline = Date.now() + WAIT;
        let got: string[] | undefined;
        const next = () => sub.receive().then(text);
        let pending = next();
        while (got === undefined) {
          await peer.send(["t.marker"]);
          got = await Promise.race([
            pending,
            new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
          ]);
          assert.ok(got !== undefined || Date.now() < deadline, "the SUB never got the marker");
        }
        assert.deepEqual(got, ["t.marker"]);
        await peer.send(["other", "dropped"]);
        await peer.send(["t.news", "kept"]);
        for (;;) {
          pending = next();
          const message = await within(pending, "SUB receive");
          if (message[0] === "t.marker") continue;
          assert.deepEqual(message, ["t.news", "kept"]);
          break;
        }
      } finally {
        await peer.close();
      }
    });

    scenario(`PUSH → pyzmq PULL (${how})`, async () => {
      await using push = new PushSocket();
      const peer = await link(push, "PULL", transport, monoBinds);
      try {
        for (let i = 0; i < 100; i++) await push.send(["n", String(i)]);
        for (let i = 0; i < 100; i++) {
          assert.deepEqual(text((await peer.recv())!), ["n", String(i)]);
        }
      } finally {
        await peer.close();
      }
    });

    scenario(`pyzmq PUSH → PULL (${how})`, async () => {
      await using pull = new PullSocket();
      const peer = await link(pull, "PUSH", transport, monoBinds);
      try {
        for (let i = 0; i < 20; i++) await peer.send(["n", String(i)]);
        await peer.send([MiB]);
        for (let i = 0; i < 20; i++) assert.deepEqual(await receive(pull), ["n", String(i)]);
        const [big] = await within(pull.receive(), "1 MiB message");
        assert.deepEqual(big, MiB);
      } finally {
        await peer.close();
      }
    });
  }
}

await run(() => rmSync(dir, { recursive: true, force: true }));
