/**
 * Socket patterns between Monocoque sockets under Node and Bun, over tcp,
 * ipc and inproc; and the runtime's transport contract as sockets see it
 * (bind errors, ipc socket files, EPROTONOSUPPORT). Bundled and run by
 * `runtimes_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  Authenticator,
  curveKeyPair,
  DealerSocket,
  PairSocket,
  PubSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  SubSocket,
  ZmqError,
} from "../../mod.ts";
import { run, scenario, text, WAIT, within } from "./_harness.ts";

const dir = mkdtempSync(join(tmpdir(), "monocoque-sockets-"));
let n = 0;

function bindable(transport: string): string {
  if (transport === "tcp") return "tcp://127.0.0.1:0";
  if (transport === "ipc") return `ipc://${dir}/s${n++}.sock`;
  return `inproc://runtimes-${n++}`;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof ZmqError, `not a ZmqError: ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

const big = new Uint8Array(4 << 20).map((_, i) => (i * 7) % 256);

for (const transport of ["tcp", "ipc", "inproc"]) {
  scenario(`REQ/REP round trips and a 4 MiB reply over ${transport}`, async () => {
    await using rep = new RepSocket();
    await using req = new ReqSocket();
    await rep.bind(bindable(transport));
    req.connect(rep.lastEndpoint!);
    for (let i = 0; i < 50; i++) {
      await req.send(["q", String(i)]);
      const [q, k] = await within(rep.receive(), "request");
      await rep.send(k.length === 2 ? [q, big] : [q, k]);
      const reply = await within(req.receive(), "reply");
      if (i >= 10) assert.deepEqual(reply[1], big);
      else assert.deepEqual(text(reply), ["q", String(i)]);
    }
  });

  scenario(`PUSH/PULL keeps order of 20 000 messages over ${transport}`, async () => {
    await using push = new PushSocket();
    await using pull = new PullSocket();
    await pull.bind(bindable(transport));
    push.connect(pull.lastEndpoint!);
    const count = 20_000;
    const sending = (async () => {
      for (let i = 0; i < count; i++) await push.send(String(i));
    })();
    for (let i = 0; i < count; i++) {
      const [m] = await within(pull.receive(), `message ${i}`);
      assert.equal(new TextDecoder().decode(m), String(i));
    }
    await sending;
  });

  scenario(`PUB/SUB filters by prefix over ${transport}`, async () => {
    await using pub = new PubSocket();
    await using sub = new SubSocket();
    await pub.bind(bindable(transport));
    sub.subscribe("a.");
    sub.connect(pub.lastEndpoint!);
    await within(pub.waitForSubscribers(1), "subscription");
    await pub.send(["b.no"]);
    await pub.send(["a.yes", "1"]);
    assert.deepEqual(text(await within(sub.receive(), "message")), ["a.yes", "1"]);
  });

  scenario(`DEALER/ROUTER routes replies by identity over ${transport}`, async () => {
    await using router = new RouterSocket();
    await using a = new DealerSocket({ routingId: "a" });
    await using b = new DealerSocket({ routingId: "b" });
    await router.bind(bindable(transport));
    a.connect(router.lastEndpoint!);
    b.connect(router.lastEndpoint!);
    await a.send("from a");
    await b.send("from b");
    for (let i = 0; i < 2; i++) {
      const [id, body] = await within(router.receive(), "request");
      await router.send([id, new TextEncoder().encode(`to ${text([id])[0]}`), body]);
    }
    assert.deepEqual(text(await within(a.receive(), "a")), ["to a", "from a"]);
    assert.deepEqual(text(await within(b.receive(), "b")), ["to b", "from b"]);
  });

  scenario(`PAIR both ways over ${transport}`, async () => {
    await using x = new PairSocket();
    await using y = new PairSocket();
    await x.bind(bindable(transport));
    y.connect(x.lastEndpoint!);
    await y.send("ping");
    assert.deepEqual(text(await within(x.receive(), "ping")), ["ping"]);
    await x.send("pong");
    assert.deepEqual(text(await within(y.receive(), "pong")), ["pong"]);
  });
}

scenario("CURVE and PLAIN (judged by an Authenticator) secure PUSH/PULL over tcp", async () => {
  const server = curveKeyPair();
  const client = curveKeyPair();
  await using pull = new PullSocket({
    curveServer: true,
    curvePublicKey: server.publicKey,
    curveSecretKey: server.secretKey,
  });
  await using push = new PushSocket({
    curveServerKey: server.publicKey,
    curvePublicKey: client.publicKey,
    curveSecretKey: client.secretKey,
  });
  await pull.bind("tcp://127.0.0.1:0");
  push.connect(pull.lastEndpoint!);
  await push.send(["sealed", big]);
  const [label, body] = await within(pull.receive(), "CURVE message");
  assert.deepEqual(text([label]), ["sealed"]);
  assert.deepEqual(body, big);

  await using auth = new Authenticator();
  await auth.start();
  auth.configurePlain({ u: "p" });
  await using plainPull = new PullSocket({ plainServer: true });
  await using plainPush = new PushSocket({ plainUsername: "u", plainPassword: "p" });
  await plainPull.bind("tcp://127.0.0.1:0");
  plainPush.connect(plainPull.lastEndpoint!);
  await plainPush.send("plain");
  assert.deepEqual(text(await within(plainPull.receive(), "PLAIN message")), ["plain"]);
});

scenario("bind reports the resolved port of tcp://*:0 and reaches it on loopback", async () => {
  await using rep = new RepSocket();
  await using req = new ReqSocket();
  await rep.bind("tcp://*:0");
  assert.match(rep.lastEndpoint!, /^tcp:\/\/0\.0\.0\.0:[1-9][0-9]*$/);
  req.connect(rep.lastEndpoint!.replace("0.0.0.0", "127.0.0.1"));
  await req.send("x");
  await within(rep.receive(), "request");
});

scenario("binding a bound tcp port fails with EADDRINUSE", async () => {
  await using a = new PullSocket();
  await using b = new PullSocket();
  await a.bind("tcp://127.0.0.1:0");
  await rejectsWith(b.bind(a.lastEndpoint!), "EADDRINUSE");
});

scenario("binding an address not on this host fails with EADDRNOTAVAIL", async () => {
  await using a = new PullSocket();
  await rejectsWith(a.bind("tcp://192.0.2.1:0"), "EADDRNOTAVAIL");
});

scenario("an ipc socket file is removed on close and a stale one replaced on bind", async () => {
  const path = `${dir}/stale.sock`;
  // A process killed while listening leaves its socket file behind: a stale one.
  const child = spawn(process.execPath, [
    "-e",
    "require('net').createServer().listen(process.argv.at(-1), () => console.log('up'))",
    path,
  ], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  await within(new Promise((resolve) => child.stdout!.once("data", resolve)), "listener up");
  await using pull = new PullSocket();
  await rejectsWith(pull.bind(`ipc://${path}`), "EADDRINUSE"); // someone listens there
  child.kill("SIGKILL");
  await within(exited, "listener killed");
  assert.ok(existsSync(path), "the killed listener left its socket file");
  await pull.bind(`ipc://${path}`);
  await using push = new PushSocket();
  push.connect(`ipc://${path}`);
  await push.send("through the replaced file");
  assert.deepEqual(text(await within(pull.receive(), "message")), ["through the replaced file"]);
  await pull.unbind(`ipc://${path}`);
  assert.ok(!existsSync(path), "unbind removes the socket file");
});

scenario("binding over a file that is not a socket fails with EADDRINUSE", async () => {
  const path = `${dir}/plain-file`;
  writeFileSync(path, "not a socket");
  await using pull = new PullSocket();
  await rejectsWith(pull.bind(`ipc://${path}`), "EADDRINUSE");
  assert.ok(existsSync(path), "the file is left alone");
});

scenario("binding ipc in a missing directory fails with ENOENT", async () => {
  await using pull = new PullSocket();
  await rejectsWith(pull.bind(`ipc://${dir}/missing/x.sock`), "ENOENT");
});

scenario("an unknown scheme is EPROTONOSUPPORT at bind and connect", async () => {
  await using pull = new PullSocket();
  await rejectsWith(pull.bind("nope://x"), "EPROTONOSUPPORT");
  assert.throws(() => pull.connect("nope://x"), (e: unknown) => {
    assert.equal((e as ZmqError).code, "EPROTONOSUPPORT");
    return true;
  });
});

scenario(
  "connect() to a closed tcp port keeps retrying and delivers once it is bound",
  async () => {
    // Find a free port, release it, connect first, bind later.
    const probe = new PullSocket();
    await probe.bind("tcp://127.0.0.1:0");
    const endpoint = probe.lastEndpoint!;
    await probe.close();
    await using push = new PushSocket({ reconnectInterval: 50 });
    push.connect(endpoint);
    const delayed = (async () => {
      for await (const event of push.events()) {
        if (event.type === "connectDelayed") return event.error;
      }
      throw new Error("events ended before connectDelayed");
    })();
    const error = await within(delayed, "connectDelayed");
    assert.ok(error instanceof ZmqError, String(error));
    assert.equal(error.code, "ECONNREFUSED");
    await using pull = new PullSocket();
    await pull.bind(endpoint);
    await push.send("late");
    assert.deepEqual(text(await within(pull.receive(), "late message", WAIT)), ["late"]);
  },
);

await run(() => rmSync(dir, { recursive: true, force: true }));
