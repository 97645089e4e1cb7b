/**
 * The quic:// cases. Deno 2.9 has its QUIC API only with `--unstable-net`, so
 * `quic_test.ts` runs this file in a child `deno test --unstable-net --cert
 * ca.pem` (with Deno's sanitizers on, as everywhere) after making throwaway
 * certificates with openssl: `QUIC_TEST_CERTS` names their directory. The
 * name does not end in `_test.ts`, so the main `deno test` skips it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  Authenticator,
  curveKeyPair,
  DealerSocket,
  PubSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  type Socket,
  SubSocket,
  type ZmqError,
} from "../../mod.ts";
import { parseQuic, QuicTransport } from "../../src/transport/quic.ts";
import { withTimeout } from "../_util/timeout.ts";
import { nextEvents, recvText, send, WAIT } from "../socket/_helpers.ts";

const dir = Deno.env.get("QUIC_TEST_CERTS");
if (dir === undefined) throw new Error("Run through tests/transport/quic_test.ts");
/** Signed by the CA the child trusts through `--cert`. */
const cert = Deno.readTextFileSync(`${dir}/cert.pem`);
const key = Deno.readTextFileSync(`${dir}/key.pem`);
/** Signed by a second CA nobody trusts unless given it as `caCerts`. */
const rogueCert = Deno.readTextFileSync(`${dir}/rogue_cert.pem`);
const rogueKey = Deno.readTextFileSync(`${dir}/rogue_key.pem`);
const rogueCa = Deno.readTextFileSync(`${dir}/rogue_ca.pem`);
const tls = { wssCertPem: cert, wssKeyPem: key };

async function bound<S extends Socket>(socket: S): Promise<string> {
  await withTimeout(socket.bind("quic://127.0.0.1:0"), WAIT, "bind");
  assert.match(socket.lastEndpoint!, /^quic:\/\/127\.0\.0\.1:\d+$/);
  return socket.lastEndpoint!;
}

Deno.test("quic:// REQ/REP", async () => {
  await using rep = new RepSocket({ ...tls, receiveTimeout: WAIT });
  await using req = new ReqSocket({ receiveTimeout: WAIT });
  req.connect(await bound(rep));
  await send(req, "ping");
  assert.deepEqual(await recvText(rep), ["ping"]);
  await send(rep, "pong");
  assert.deepEqual(await recvText(req), ["pong"]);
});

Deno.test("quic:// PUSH/PULL in order, multipart and a 1 MiB frame", async () => {
  await using pull = new PullSocket({ ...tls, receiveTimeout: WAIT });
  await using push = new PushSocket();
  push.connect(await bound(pull));
  for (let i = 0; i < 1000; i++) await send(push, ["n", String(i)]);
  for (let i = 0; i < 1000; i++) assert.deepEqual(await recvText(pull), ["n", String(i)]);
  const big = new Uint8Array(1 << 20).fill(7);
  await send(push, big);
  const [got] = await withTimeout(pull.receive(), WAIT, "big frame");
  assert.equal(got.length, big.length);
  assert.equal(got[got.length - 1], 7);
});

Deno.test("quic:// PUB/SUB by prefix", async () => {
  await using pub = new PubSocket(tls);
  await using sub = new SubSocket({ receiveTimeout: WAIT });
  sub.subscribe("a.");
  const joined = nextEvents(sub, "handshakeSucceeded");
  sub.connect(await bound(pub));
  await joined;
  // The subscription travels after the handshake: publish until it is in.
  const got = recvText(sub);
  const ticker = setInterval(() => {
    pub.send(["b.x", "no"]).catch(() => {});
    pub.send(["a.x", "yes"]).catch(() => {});
  }, 20);
  try {
    assert.deepEqual(await got, ["a.x", "yes"]);
  } finally {
    clearInterval(ticker);
  }
});

Deno.test("quic:// DEALER/ROUTER with routing ids", async () => {
  await using router = new RouterSocket({ ...tls, receiveTimeout: WAIT });
  await using dealer = new DealerSocket({ receiveTimeout: WAIT, routingId: "d1" });
  dealer.connect(await bound(router));
  await send(dealer, "hi");
  const [id, body] = await recvText(router);
  assert.deepEqual([id, body], ["d1", "hi"]);
  await send(router, ["d1", "back"]);
  assert.deepEqual(await recvText(dealer), ["back"]);
});

/** Starts `_quic_binder.ts` on `endpoint`; resolves with its bound endpoint and its exit. */
async function binder(endpoint: string, answer: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", "tests/transport/_quic_binder.ts", endpoint, answer],
    env: { QUIC_TEST_CERTS: dir! },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("\n")) {
    const { value, done } = await withTimeout(lines.read(), 30_000, "the binder's endpoint");
    if (done) break;
    printed += value;
  }
  lines.cancel();
  return { endpoint: printed.trim(), status: child.status };
}

Deno.test("quic:// a REQ reconnects when its binder process restarts on the same port", async () => {
  await using req = new ReqSocket({ receiveTimeout: 30_000, reconnectInterval: 50 });
  const first = await binder("quic://127.0.0.1:0", "from the first");
  assert.match(first.endpoint, /^quic:\/\/127\.0\.0\.1:\d+$/);
  req.connect(first.endpoint);
  await send(req, "one");
  assert.deepEqual(await recvText(req, 30_000), ["one", "from the first"]);
  assert.equal((await withTimeout(first.status, 30_000, "the first binder's exit")).code, 0);

  const second = await binder(first.endpoint, "from the second");
  assert.equal(second.endpoint, first.endpoint);
  await send(req, "two");
  assert.deepEqual(await recvText(req, 30_000), ["two", "from the second"]);
  assert.equal((await withTimeout(second.status, 30_000, "the second binder's exit")).code, 0);
});

Deno.test("quic:// carries CURVE inside TLS like tcp:// does", async () => {
  const serverKeys = curveKeyPair();
  const clientKeys = curveKeyPair();
  await using auth = new Authenticator();
  await auth.start();
  auth.configureCurve([clientKeys.publicKey]);
  await using rep = new RepSocket({
    ...tls,
    receiveTimeout: WAIT,
    curveServer: true,
    curveSecretKey: serverKeys.secretKey,
  });
  await using req = new ReqSocket({
    receiveTimeout: WAIT,
    curveServerKey: serverKeys.publicKey,
    curveSecretKey: clientKeys.secretKey,
  });
  req.connect(await bound(rep));
  await send(req, "sealed");
  assert.deepEqual(await recvText(rep), ["sealed"]);
  await send(rep, "twice");
  assert.deepEqual(await recvText(req), ["twice"]);
});

Deno.test("quic:// bind without a certificate is EINVAL", async () => {
  await using rep = new RepSocket();
  await assert.rejects(rep.bind("quic://127.0.0.1:0"), (e) => (e as ZmqError).code === "EINVAL");
});

Deno.test("quic:// an untrusted certificate is refused; caCerts trusts its CA", async () => {
  await using rep = new RepSocket({ wssCertPem: rogueCert, wssKeyPem: rogueKey });
  const endpoint = parseQuic((await bound(rep)).slice(7), "connect", "");
  await assert.rejects(
    withTimeout(new QuicTransport().connect(endpoint), WAIT, "untrusted connect"),
    (e) => (e as ZmqError).code === "ECONNREFUSED",
  );
  const conn = await withTimeout(
    new QuicTransport({ caCerts: [rogueCa] }).connect(endpoint),
    WAIT,
    "trusted connect",
  );
  // A greeting's first octet: the server answers with its own greeting.
  await conn.write([new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f])]);
  const buffer = new Uint8Array(64);
  const n = await withTimeout(conn.read(buffer), WAIT, "the server's greeting");
  assert.ok(n !== null && n >= 10 && buffer[0] === 0xff && buffer[9] === 0x7f);
  conn.close();
});

/** A raw QUIC client of `endpoint`, trusted through `--cert`. */
function rawClient(endpoint: string): Promise<Deno.QuicConn> {
  const { host, port } = parseQuic(endpoint.slice(7), "connect", endpoint);
  return withTimeout(
    Deno.connectQuic({ hostname: host, port, alpnProtocols: ["zmtp"], zeroRtt: false }),
    WAIT,
    "raw QUIC connect",
  );
}

Deno.test("quic:// hostile clients (no stream, no greeting, many streams) drop only themselves", async () => {
  await using rep = new RepSocket({ ...tls, receiveTimeout: WAIT, handshakeInterval: 500 });
  const endpoint = await bound(rep);
  const silent = await rawClient(endpoint); // opens no stream at all
  const mute = await rawClient(endpoint); // opens a stream, sends no greeting
  const muteStream = await mute.createBidirectionalStream();
  const muteWriter = muteStream.writable.getWriter();
  await muteWriter.write(new Uint8Array([0xff])); // the stream exists once it carries a byte
  const greedy = await rawClient(endpoint); // opens every stream it may
  const streams: Deno.QuicBidirectionalStream[] = [];
  let refused = 0;
  for (let i = 0; i < 50; i++) {
    try {
      const s = await greedy.createBidirectionalStream();
      await s.writable.getWriter().write(new Uint8Array(10).fill(0xee));
      streams.push(s);
    } catch {
      refused++;
    }
  }
  let uniRefused = false;
  try {
    await greedy.createUnidirectionalStream();
  } catch {
    uniRefused = true;
  }
  assert.equal(streams.length, 1, "the server grants one stream per connection");
  assert.equal(refused, 49);
  assert.ok(uniRefused, "the server grants no unidirectional stream");

  // A well-behaved client is served meanwhile.
  await using req = new ReqSocket({ receiveTimeout: WAIT });
  req.connect(endpoint);
  await send(req, "still here");
  assert.deepEqual(await recvText(rep), ["still here"]);
  await send(rep, "yes");
  assert.deepEqual(await recvText(req), ["yes"]);

  // Each hostile connection is closed by the server: the handshake deadline or a bad greeting.
  for (const [name, conn] of [["silent", silent], ["mute", mute], ["greedy", greedy]] as const) {
    await withTimeout(conn.closed.catch(() => {}), WAIT, `${name} dropped`);
  }
  muteWriter.releaseLock();
  for (const c of [silent, mute, greedy]) c.endpoint.close();
});

Deno.test("quic:// close() delivers what was sent before it", async () => {
  await using pull = new PullSocket({ ...tls, receiveTimeout: WAIT });
  const endpoint = await bound(pull);
  const push = new PushSocket({ linger: WAIT });
  push.connect(endpoint);
  await withTimeout(nextEvents(push, "handshakeSucceeded"), WAIT, "handshake");
  for (let i = 0; i < 200; i++) await send(push, new Uint8Array(10_000).fill(i));
  await push.close();
  for (let i = 0; i < 200; i++) {
    const [frame] = await withTimeout(pull.receive(), WAIT, `message ${i}`);
    assert.equal(frame[0], i & 0xff);
  }
});

Deno.test("quic:// keep-alives hold a quiet connection open past the idle timeout", async () => {
  await using rep = new RepSocket(tls);
  const endpoint = parseQuic((await bound(rep)).slice(7), "connect", "");
  const buffer = new Uint8Array(64);

  // Without keep-alives the connection dies once idle for the negotiated 500 ms.
  const bare = await withTimeout(
    new QuicTransport({ keepAliveInterval: 0, maxIdleTimeout: 500 }).connect(endpoint),
    WAIT,
    "connect without keep-alives",
  );
  const ended = await withTimeout(
    bare.read(buffer).then(() => "ended", () => "ended"),
    WAIT,
    "the idle connection ending",
  );
  assert.equal(ended, "ended");
  bare.close();

  // With them it is still there after three idle timeouts of silence (the time is the subject).
  const kept = await withTimeout(
    new QuicTransport({ keepAliveInterval: 100, maxIdleTimeout: 500 }).connect(endpoint),
    WAIT,
    "connect with keep-alives",
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await kept.write([new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f])]);
  const n = await withTimeout(kept.read(buffer), WAIT, "the server's greeting");
  assert.ok(n !== null && buffer[0] === 0xff);
  kept.close();
});
