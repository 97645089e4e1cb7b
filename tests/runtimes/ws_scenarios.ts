/**
 * ZWS 2.0 (ws://) under Node and Bun: REQ/REP and PUB/SUB, both bind
 * directions, between Monocoque on this runtime and Monocoque on Deno (in the
 * test process, through `_deno_peer.ts`) and against zeromq.js 6.8.0
 * (libzmq 4.3.5, run under node); and the server's answers to requests that
 * are not ZWS upgrades. Under Node 20 the client is `npm:ws`'s, under Bun the
 * global `WebSocket`; the server is `npm:ws` over `node:http` on both.
 * Bundled and run by `runtimes_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { connect as tcpConnect, type Socket as TcpSocket } from "node:net";
import { PubSocket, RepSocket, ReqSocket, type Socket, SubSocket, WsTransport } from "../../mod.ts";
import { DenoSocket } from "./_deno_peer.ts";
import { run, RUNTIME, scenario, text, turn, WAIT, within } from "./_harness.ts";
import { PyPeer } from "./_peer.ts";

const MiB = new Uint8Array(1 << 20).map((_, i) => i % 251);

// The wss client, run as a child of this bundle (its CA is trusted through NODE_EXTRA_CA_CERTS,
// read at start-up): one request over the endpoint given, the reply printed.
if (process.argv[2] === "--wss-client") {
  const req = new ReqSocket({ receiveTimeout: WAIT, sendTimeout: WAIT, linger: 0 });
  req.connect(process.argv[3]);
  await req.send(["over tls", new Uint8Array(100_000).fill(1)]);
  const [reply, big] = await req.receive();
  console.log(`${new TextDecoder().decode(reply)} ${big.length}`);
  await req.close();
  process.exit(0);
}

async function receive(socket: Socket): Promise<string[]> {
  return text(await within(socket.receive(), `${socket.type} receive`));
}

/**
 * Publishes with `publish` until `receive` yields a message (the
 * subscription has to travel first, and a PUB drops what no subscriber
 * wants), then returns that message. Bounded by WAIT.
 */
async function untilReceived(
  publish: () => Promise<void>,
  receive: () => Promise<string[]>,
): Promise<string[]> {
  let got: string[] | undefined;
  let failed: unknown;
  const receiving = receive().then((m) => (got = m), (e) => (failed = e));
  const deadline = Date.now() + WAIT;
  while (got === undefined && failed === undefined) {
    if (Date.now() > deadline) throw new Error("No message through PUB/SUB within WAIT");
    await publish();
    await turn(50);
  }
  await receiving;
  if (failed !== undefined) throw failed;
  return got!;
}

/** Receives until a message whose second frame is `data`, skipping sync messages. */
async function receiveData(receive: () => Promise<string[]>): Promise<string[]> {
  for (let i = 0; i < 10_000; i++) {
    const message = await receive();
    if (message[1] !== "sync") return message;
  }
  throw new Error("Only sync messages arrived");
}

scenario(`ws:// REQ on ${RUNTIME} → REP on Deno (Deno binds)`, async () => {
  await using rep = await DenoSocket.open("REP", { bind: "ws://127.0.0.1:0" });
  assert.match(rep.endpoint, /^ws:\/\/127\.0\.0\.1:[1-9]\d*\/$/);
  await using req = new ReqSocket();
  req.connect(rep.endpoint);
  for (let i = 0; i < 3; i++) {
    await req.send(["hello", `from ${RUNTIME}`, String(i)]);
    assert.deepEqual(await rep.receive(), ["hello", `from ${RUNTIME}`, String(i)]);
    await rep.send(["reply", String(i)]);
    assert.deepEqual(await receive(req), ["reply", String(i)]);
  }
});

scenario(`ws:// REQ on Deno → REP on ${RUNTIME} (${RUNTIME} binds)`, async () => {
  await using rep = new RepSocket();
  await rep.bind("ws://127.0.0.1:0");
  assert.match(rep.lastEndpoint!, /^ws:\/\/127\.0\.0\.1:[1-9]\d*\/$/);
  await using req = await DenoSocket.open("REQ", { connect: rep.lastEndpoint! });
  for (let i = 0; i < 3; i++) {
    await req.send(["hello", "from deno", String(i)]);
    assert.deepEqual(await receive(rep), ["hello", "from deno", String(i)]);
    await rep.send(["reply", String(i)]);
    assert.deepEqual(await req.receive(), ["reply", String(i)]);
  }
});

scenario(`ws:// PUB on ${RUNTIME} → SUB on Deno (${RUNTIME} binds)`, async () => {
  await using pub = new PubSocket();
  await pub.bind("ws://127.0.0.1:0/feed");
  assert.match(pub.lastEndpoint!, /\/feed$/);
  await using sub = await DenoSocket.open("SUB", { connect: pub.lastEndpoint!, subscribe: "t" });
  await untilReceived(() => pub.send(["t", "sync"]), () => sub.receive());
  await pub.send(["x", "dropped"]);
  await pub.send(["t", "data"]);
  assert.deepEqual(await receiveData(() => sub.receive()), ["t", "data"]);
});

scenario(`ws:// PUB on Deno → SUB on ${RUNTIME} (Deno binds)`, async () => {
  await using pub = await DenoSocket.open("PUB", { bind: "ws://127.0.0.1:0" });
  await using sub = new SubSocket();
  sub.subscribe("t");
  sub.connect(pub.endpoint);
  await untilReceived(() => pub.send(["t", "sync"]), () => receive(sub));
  await pub.send(["x", "dropped"]);
  await pub.send(["t", "data"]);
  assert.deepEqual(await receiveData(() => receive(sub)), ["t", "data"]);
});

for (const monoBinds of [true, false]) {
  const how = monoBinds ? `${RUNTIME} binds` : "libzmq binds";

  /** Starts the zeromq.js peer and links it with `mono` over ws://. */
  const link = async (mono: Socket, type: string, args: string[] = []): Promise<PyPeer> => {
    if (monoBinds) {
      await mono.bind("ws://127.0.0.1:0");
      return await PyPeer.start(type, { connect: mono.lastEndpoint!, args, zeromqjs: true });
    }
    const peer = await PyPeer.start(type, { bind: "ws://127.0.0.1:*", args, zeromqjs: true });
    mono.connect(peer.endpoint);
    return peer;
  };

  scenario(`ws:// REQ on ${RUNTIME} → zeromq.js REP (${how}): multipart and 1 MiB`, async () => {
    await using req = new ReqSocket();
    const peer = await link(req, "REP");
    try {
      const echoed = peer.echo(2);
      await req.send(["hello", "", "world"]);
      assert.deepEqual(await receive(req), ["hello", "", "world"]);
      await req.send(MiB);
      const [big] = await within(req.receive(), "1 MiB reply");
      assert.deepEqual(big, MiB);
      assert.equal(await echoed, 2);
    } finally {
      await peer.close();
    }
  });

  scenario(`ws:// zeromq.js REQ → REP on ${RUNTIME} (${how})`, async () => {
    await using rep = new RepSocket();
    const peer = await link(rep, "REQ");
    try {
      await peer.send(["hello", "from libzmq"]);
      const request = await receive(rep);
      assert.deepEqual(request, ["hello", "from libzmq"]);
      await rep.send([...request].reverse());
      assert.deepEqual(text((await peer.recv())!), ["from libzmq", "hello"]);
    } finally {
      await peer.close();
    }
  });

  scenario(`ws:// PUB on ${RUNTIME} → zeromq.js SUB (${how})`, async () => {
    await using pub = new PubSocket();
    const peer = await link(pub, "SUB", ["--subscribe", "t"]);
    try {
      const recv = async () => {
        const message = await peer.recv(WAIT);
        if (message === undefined) throw new Error("zeromq.js SUB received nothing");
        return text(message);
      };
      await untilReceived(() => pub.send(["t", "sync"]), recv);
      await pub.send(["x", "dropped"]);
      await pub.send(["t", "data"]);
      assert.deepEqual(await receiveData(recv), ["t", "data"]);
    } finally {
      await peer.close();
    }
  });

  scenario(`ws:// zeromq.js PUB → SUB on ${RUNTIME} (${how})`, async () => {
    await using sub = new SubSocket();
    sub.subscribe("t");
    const peer = await link(sub, "PUB");
    try {
      await untilReceived(() => peer.send(["t", "sync"]), () => receive(sub));
      await peer.send(["x", "dropped"]);
      await peer.send(["t", "data"]);
      assert.deepEqual(await receiveData(() => receive(sub)), ["t", "data"]);
    } finally {
      await peer.close();
    }
  });
}

scenario(
  `the ws:// server on ${RUNTIME} answers non-ZWS requests as the Deno one does`,
  async () => {
    await using rep = new RepSocket();
    await rep.bind("ws://127.0.0.1:0");
    const http = rep.lastEndpoint!.replace(/^ws:/, "http:");
    const plain = await within(fetch(http), "plain GET");
    assert.equal(plain.status, 426);
    assert.match(await plain.text(), /WebSocket upgrade required/);
    // The socket still serves a ZWS peer afterwards.
    await using req = await DenoSocket.open("REQ", { connect: rep.lastEndpoint! });
    await req.send(["still here"]);
    assert.deepEqual(await receive(rep), ["still here"]);
    await rep.send(["yes"]);
    assert.deepEqual(await req.receive(), ["yes"]);
  },
);

/** A raw TCP client speaking HTTP and WebSocket frames by hand, for hostile input. */
class RawClient {
  received: Buffer = Buffer.alloc(0);
  closed = false;
  /** Settles once the connection closed. */
  readonly ended: Promise<void>;
  #socket: TcpSocket;
  #wake: (() => void) | undefined;

  constructor(endpoint: string) {
    const url = new URL(endpoint.replace(/^ws/, "http"));
    this.#socket = tcpConnect({ host: url.hostname, port: Number(url.port) });
    this.#socket.on("data", (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.#wake?.();
    });
    this.#socket.on("error", () => {});
    this.ended = new Promise((resolve) => this.#socket.once("close", () => resolve()));
    this.#socket.on("close", () => {
      this.closed = true;
      this.#wake?.();
    });
  }

  /** Sends an upgrade request with these extra header lines, for `target` (default `/`). */
  upgrade(headers: string[], target = "/"): void {
    this.#socket.write(
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        headers.map((h) => `${h}\r\n`).join("") + "\r\n",
    );
  }

  write(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  /** Waits until `done()` holds (checked on every event), bounded by WAIT. */
  async until(done: () => boolean, what: string): Promise<void> {
    await within(
      (async () => {
        while (!done()) {
          if (this.closed) throw new Error(`Closed before ${what}: ${this.received}`);
          await new Promise<void>((resolve) => (this.#wake = resolve));
        }
      })(),
      what,
    );
  }

  /** The status line and headers, once they arrived. */
  async head(): Promise<string> {
    await this.until(() => this.received.includes("\r\n\r\n"), "the HTTP answer");
    return this.received.subarray(0, this.received.indexOf("\r\n\r\n")).toString();
  }

  close(): void {
    this.#socket.destroy();
  }
}

scenario(
  `the ws:// server on ${RUNTIME} answers 400, 403 and libzmq's subprotocol offer`,
  async () => {
    await using rep = new RepSocket({
      wsCheckOrigin: (origin) => origin !== "https://evil.example",
    });
    await rep.bind("ws://127.0.0.1:0");
    const cases: [string[], RegExp][] = [
      [["Sec-WebSocket-Protocol: chat"], /^HTTP\/1\.1 400 /],
      [["Sec-WebSocket-Protocol: ZWS2.0/CURVE"], /^HTTP\/1\.1 400 /],
      [["Origin: https://evil.example", "Sec-WebSocket-Protocol: ZWS2.0"], /^HTTP\/1\.1 403 /],
      [
        ["Origin: https://app.example", "Sec-WebSocket-Protocol: ZWS2.0/NULL,ZWS2.0"],
        /^HTTP\/1\.1 101 [^]*\r\nsec-websocket-protocol: ZWS2\.0\/NULL(\r|$)/i,
      ],
    ];
    for (const [headers, expected] of cases) {
      const client = new RawClient(rep.lastEndpoint!);
      try {
        client.upgrade(headers);
        assert.match(await client.head(), expected, headers.join("; "));
      } finally {
        client.close();
      }
    }
  },
);

scenario(
  `the ws:// server on ${RUNTIME} survives a request target that is no URL`,
  async () => {
    await using rep = new RepSocket();
    await rep.bind("ws://127.0.0.1:0");
    const client = new RawClient(rep.lastEndpoint!);
    try {
      // Node's parser passes "//[" on; new URL() throws on it.
      client.upgrade(["Sec-WebSocket-Protocol: ZWS2.0"], "//[");
      assert.match(await client.head(), /^HTTP\/1\.1 101 /);
    } finally {
      client.close();
    }
    await using req = await DenoSocket.open("REQ", { connect: rep.lastEndpoint! });
    await req.send(["still here"]);
    assert.deepEqual(await receive(rep), ["still here"]);
    await rep.send(["yes"]);
    assert.deepEqual(await req.receive(), ["yes"]);
  },
);

scenario(
  `the ws:// server on ${RUNTIME} drops a connection that sends text, and only it`,
  async () => {
    await using rep = new RepSocket();
    await rep.bind("ws://127.0.0.1:0");
    const client = new RawClient(rep.lastEndpoint!);
    try {
      client.upgrade(["Sec-WebSocket-Protocol: ZWS2.0"]);
      assert.match(await client.head(), /^HTTP\/1\.1 101 /);
      const start = client.received.indexOf("\r\n\r\n") + 4;
      // A masked (all-zero mask) text frame "hi".
      client.write(new Uint8Array([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]));
      // The server answers with a close frame (opcode 8), or just closes.
      await within(
        client.until(() => client.received.subarray(start).includes(0x88), "a close frame"),
        "drop",
      ).catch((err) => {
        if (!client.closed) throw err;
      });
    } finally {
      client.close();
    }
    await using req = await DenoSocket.open("REQ", { connect: rep.lastEndpoint! });
    await req.send(["after the text"]);
    assert.deepEqual(await receive(rep), ["after the text"]);
    await rep.send(["fine"]);
    assert.deepEqual(await req.receive(), ["fine"]);
  },
);

scenario(`the ws:// server on ${RUNTIME} closes a connection that never upgrades`, async () => {
  const listener = await new WsTransport({ handshakeTimeout: 300 }).listen({
    transport: "ws",
    host: "127.0.0.1",
    port: 0,
    path: "/",
  });
  const client = new RawClient(listener.endpoint);
  try {
    await within(client.ended, "the server closing a silent connection");
  } finally {
    client.close();
    listener.close();
  }
});

/** A CA and a certificate it signed for 127.0.0.1, made by openssl in a fresh directory. */
function throwawayCertificate(): string {
  const dir = mkdtempSync(join(tmpdir(), "monocoque-wss-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
  ]);
  openssl(["req", ...ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=localhost"]);
  writeFileSync(
    join(dir, "leaf.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
  );
  openssl([
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "1",
    "-extfile",
    "leaf.ext",
  ]);
  return dir;
}

/** Runs `command`, bounded by WAIT, and returns its stdout; throws on a non-zero exit. */
async function output(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<string> {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d));
  child.stderr!.on("data", (d: Buffer) => (err += d));
  const code = await within(
    new Promise<number | null>((resolve) => child.on("close", resolve)),
    `${command} ${args.join(" ")}`,
    WAIT * 2,
  ).catch((e) => {
    child.kill("SIGKILL");
    throw e;
  });
  if (code !== 0) throw new Error(`${command} exited with ${code}: ${err}`);
  return out;
}

scenario(`wss:// REP on ${RUNTIME} serves a ${RUNTIME} client and a Deno client`, async () => {
  const dir = throwawayCertificate();
  try {
    await using rep = new RepSocket({
      wssCertPem: readFileSync(join(dir, "cert.pem"), "utf8"),
      wssKeyPem: readFileSync(join(dir, "key.pem"), "utf8"),
    });
    await rep.bind("wss://127.0.0.1:0");
    assert.match(rep.lastEndpoint!, /^wss:\/\/127\.0\.0\.1:[1-9]\d*\/$/);
    const serving = (async () => {
      for (let i = 0; i < 2; i++) await rep.send(await within(rep.receive(), "wss request"));
    })();
    const ca = join(dir, "ca.pem");
    const own = await output(
      process.execPath,
      [process.argv[1], "--wss-client", rep.lastEndpoint!],
      {
        NODE_EXTRA_CA_CERTS: ca,
      },
    );
    assert.equal(own.trim(), "over tls 100000");
    const denoBin = process.env.DENO_BIN;
    assert.ok(denoBin, "runtimes_test.ts passes DENO_BIN");
    const fromDeno = await output(
      denoBin,
      ["run", "-A", "--cert", ca, "tests/transport/_wss_client.ts", rep.lastEndpoint!],
      {},
    );
    assert.equal(fromDeno.trim(), "over tls 100000");
    await within(serving, "both wss requests served");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

await run();
