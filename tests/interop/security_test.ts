/**
 * PLAIN, CURVE and ZAP against real libzmq 4.3.4 (pyzmq under /usr/bin/python3, separate
 * processes): Monocoque as client and as server, keys made by us and by `zmq.curve_keypair()`,
 * pyzmq's `zmq.auth` ThreadAuthenticator judging our clients and our `Authenticator` judging
 * theirs, REQ/REP, DEALER/ROUTER and PUB/SUB over CURVE with multipart and 1 MiB messages, tcp
 * and ipc, and a TCP relay proving nothing readable crosses the wire after the greeting; and
 * zeromq.js 6.8.0 (its bundled libzmq 4.3.5, under Node) as a second peer for CURVE and PLAIN.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  Authenticator,
  type CurveKeyPair,
  curveKeyPair,
  DealerSocket,
  PubSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  type Socket,
  type SocketEvent,
  type SocketOptions,
  SubSocket,
} from "../../mod.ts";
import { Peer, type PeerOptionValue, type PeerStartOptions } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";
import {
  b,
  BOUNDED,
  monoReceiveData,
  pattern,
  receive,
  Scratch,
  syncMonoSubscriber,
  syncPeerSubscriber,
  text,
  WAIT_MS,
} from "./_matrix.ts";

const PYTHON = "/usr/bin/python3";

/** A key pair from libzmq itself (`zmq.curve_keypair()`), as Z85. */
async function libzmqKeyPair(): Promise<CurveKeyPair> {
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", "import zmq; p, s = zmq.curve_keypair(); print(p.decode()); print(s.decode())"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const [publicKey, secretKey] = new TextDecoder().decode(out.stdout).trim().split("\n");
  return { publicKey, secretKey };
}

/**
 * Starts a pyzmq peer. Z85 keys may begin with "-", which argparse would take for a flag, so
 * such values travel as `--flag=value`.
 */
function startPeer(options: PeerStartOptions): Promise<Peer> {
  const rest: Record<string, PeerOptionValue> = {};
  const args: string[] = [];
  for (const [key, value] of Object.entries(options.options ?? {})) {
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === "string" && v.startsWith("-"))) {
      for (const v of values) args.push(`${flag}=${v}`);
    } else {
      rest[key] = value;
    }
  }
  return Peer.start({ ...options, options: rest, args: [...(options.args ?? []), ...args] });
}

/** Resolves with the first event of `type`; start it before the action that causes it. */
function nextEvent<T extends SocketEvent["type"]>(
  socket: Socket,
  type: T,
): Promise<Extract<SocketEvent, { type: T }>> {
  const it = socket.events();
  const run = (async () => {
    for await (const ev of it) if (ev.type === type) return ev as Extract<SocketEvent, { type: T }>;
    throw new Error(`The socket closed before a ${type} event`);
  })();
  run.catch(() => {});
  return withTimeout(run, WAIT_MS, type).finally(() => it.return?.());
}

/** A REQ round trip with a multipart and a 1 MiB request, checked at the peer and back. */
async function reqRoundTrip(req: ReqSocket, rep: Peer): Promise<void> {
  const big = pattern(1 << 20, 3);
  for (const frames of [[b("hello"), b(""), b("multi")], [big]]) {
    await req.send(frames);
    const got = await rep.recv();
    assert.ok(got !== undefined, "the libzmq REP received the request");
    assert.deepEqual(got, frames);
    await rep.send(got);
    assert.deepEqual(await receive(req), frames);
  }
}

/** The same with Monocoque as REP and libzmq as REQ. */
async function repRoundTrip(rep: RepSocket, req: Peer): Promise<void> {
  const big = pattern(1 << 20, 5);
  for (const frames of [[b("hello"), b(""), b("multi")], [big]]) {
    await req.send(frames);
    assert.deepEqual(await receive(rep), frames);
    await rep.send(frames);
    assert.deepEqual(await req.recv(), frames);
  }
}

const ours = curveKeyPair();
const ourClient = curveKeyPair();

Deno.test("PLAIN with libzmq: accepted and refused, both as client and as server", async (t) => {
  await using scratch = await Scratch.create();
  await t.step("a libzmq PLAIN server with a zmq.auth handler accepts our user", async () => {
    await using rep = await startPeer({
      type: "REP",
      bind: "tcp://127.0.0.1:0",
      options: { plainUsers: "admin:secret" },
    });
    await using req = new ReqSocket({
      ...BOUNDED,
      plainUsername: "admin",
      plainPassword: "secret",
    });
    req.connect(rep.endpoint);
    await reqRoundTrip(req, rep);

    await using wrong = new ReqSocket({
      ...BOUNDED,
      plainUsername: "admin",
      plainPassword: "guess",
      reconnectInterval: -1,
    });
    const failed = nextEvent(wrong, "handshakeFailed");
    wrong.connect(rep.endpoint);
    const ev = await failed;
    assert.equal(ev.kind, "authentication", ev.reason);
    assert.match(ev.reason, /ERROR command: 400/);
  });

  await t.step("our PLAIN server with an Authenticator judges libzmq clients (ipc)", async () => {
    await using auth = new Authenticator();
    await auth.start();
    auth.configurePlain({ admin: "secret" });
    await using rep = new RepSocket({ ...BOUNDED, plainServer: true });
    await rep.bind(scratch.endpoint("ipc"));
    const accepted = nextEvent(rep, "handshakeSucceeded");
    await using req = await startPeer({
      type: "REQ",
      connect: rep.lastEndpoint!,
      options: { plainUsername: "admin", plainPassword: "secret" },
    });
    await repRoundTrip(rep, req);
    assert.equal((await accepted).peer.userId, "admin");

    const failed = nextEvent(rep, "handshakeFailed");
    await using bad = await startPeer({
      type: "REQ",
      connect: rep.lastEndpoint!,
      options: { plainUsername: "admin", plainPassword: "guess", monitor: true },
    });
    const ev = await failed;
    assert.equal(ev.kind, "authentication");
    assert.match(ev.reason, /Invalid username or password/);
    // libzmq reads our ERROR "400" as an authentication failure.
    // libzmq 4.3.4's PLAIN client only knows its own misspelt ERROR (0x5E "RROR", see
    // session.ts): ours, spelt as RFC 23 says, is an unexpected command to it. It fails all the same.
    const seen = await bad.waitEvent("HANDSHAKE_FAILED_PROTOCOL");
    assert.equal(seen?.value, 0x10000001); // ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
  });

  await t.step(
    "our PLAIN server without a handler refuses a libzmq client (libzmq binds, we connect)",
    async () => {
      await using rep = new RepSocket({ ...BOUNDED, plainServer: true });
      const failed = nextEvent(rep, "handshakeFailed");
      // libzmq binds, our server connects: the roles of PLAIN do not follow the bind side.
      await using req = await startPeer({
        type: "REQ",
        bind: "tcp://127.0.0.1:0",
        options: { plainUsername: "admin", plainPassword: "secret" },
      });
      rep.connect(req.endpoint);
      const ev = await failed;
      assert.match(ev.reason, /No ZAP handler/);
    },
  );
});

Deno.test("CURVE with libzmq: keys from both sides, REQ/REP over tcp and ipc", async (t) => {
  await using scratch = await Scratch.create();
  const theirs = await libzmqKeyPair();
  const theirClient = await libzmqKeyPair();
  for (const transport of ["tcp", "ipc"] as const) {
    await t.step(
      `a libzmq CURVE server (zmq.curve_keypair) and our client, ${transport}`,
      async () => {
        await using rep = await startPeer({
          type: "REP",
          bind: scratch.endpoint(transport),
          options: { curveServer: true, curveSecretkey: theirs.secretKey },
        });
        await using req = new ReqSocket({
          ...BOUNDED,
          curveServerKey: theirs.publicKey,
          curvePublicKey: ourClient.publicKey,
          curveSecretKey: ourClient.secretKey,
        });
        req.connect(rep.endpoint);
        await reqRoundTrip(req, rep);
      },
    );

    await t.step(`our CURVE server (curveKeyPair) and a libzmq client, ${transport}`, async () => {
      await using rep = new RepSocket({
        ...BOUNDED,
        curveServer: true,
        curvePublicKey: ours.publicKey,
        curveSecretKey: ours.secretKey,
      });
      await rep.bind(scratch.endpoint(transport));
      await using req = await startPeer({
        type: "REQ",
        connect: rep.lastEndpoint!,
        options: {
          curveServerkey: ours.publicKey,
          curvePublickey: theirClient.publicKey,
          curveSecretkey: theirClient.secretKey,
        },
      });
      await repRoundTrip(rep, req);
    });
  }

  await t.step(
    "our client with a wrong server key: libzmq closes, we report handshakeFailed",
    async () => {
      await using rep = await startPeer({
        type: "REP",
        bind: "tcp://127.0.0.1:0",
        options: { curveServer: true, curveSecretkey: theirs.secretKey, monitor: true },
      });
      await using req = new ReqSocket({
        ...BOUNDED,
        curveServerKey: ours.publicKey, // not theirs
        curveSecretKey: ourClient.secretKey,
        reconnectInterval: -1,
      });
      const failed = nextEvent(req, "handshakeFailed");
      req.connect(rep.endpoint);
      const ev = await failed;
      assert.equal(ev.kind, "authentication");
      assert.match(ev.reason, /Connection lost during the CURVE handshake/);
      assert.ok(await rep.waitEvent("HANDSHAKE_FAILED_PROTOCOL"), "libzmq saw a bad HELLO box");
    },
  );
});

Deno.test("CURVE with ZAP: zmq.auth judging our clients, our Authenticator judging theirs", async (t) => {
  const theirClient = await libzmqKeyPair();
  await t.step("a libzmq ThreadAuthenticator allows our key and denies another", async () => {
    await using rep = await startPeer({
      type: "REP",
      bind: "tcp://127.0.0.1:0",
      options: {
        curveServer: true,
        curveSecretkey: ours.secretKey,
        curveAllow: [ourClient.publicKey],
      },
    });
    await using req = new ReqSocket({
      ...BOUNDED,
      curveServerKey: ours.publicKey,
      curveSecretKey: ourClient.secretKey,
    });
    req.connect(rep.endpoint);
    await reqRoundTrip(req, rep);

    const stranger = curveKeyPair();
    await using denied = new ReqSocket({
      ...BOUNDED,
      curveServerKey: ours.publicKey,
      curveSecretKey: stranger.secretKey,
      reconnectInterval: -1,
    });
    const failed = nextEvent(denied, "handshakeFailed");
    denied.connect(rep.endpoint);
    const ev = await failed;
    assert.equal(ev.kind, "authentication");
    assert.match(ev.reason, /400/);
  });

  await t.step("a libzmq ThreadAuthenticator denying our address refuses our client", async () => {
    await using rep = await startPeer({
      type: "REP",
      bind: "tcp://127.0.0.1:0",
      options: {
        curveServer: true,
        curveSecretkey: ours.secretKey,
        curveAllow: ["any"],
        zapDeny: ["127.0.0.1"],
      },
    });
    await using req = new ReqSocket({
      ...BOUNDED,
      curveServerKey: ours.publicKey,
      curveSecretKey: ourClient.secretKey,
      reconnectInterval: -1,
    });
    const failed = nextEvent(req, "handshakeFailed");
    req.connect(rep.endpoint);
    assert.match((await failed).reason, /400/);
  });

  await t.step(
    "our Authenticator accepts a known libzmq client and refuses an unknown one",
    async () => {
      await using auth = new Authenticator();
      await auth.start();
      auth.configureCurve([theirClient.publicKey]);
      await using router = new RouterSocket({
        ...BOUNDED,
        curveServer: true,
        curveSecretKey: ours.secretKey,
        zapDomain: "global",
      });
      await router.bind("tcp://127.0.0.1:0");
      const accepted = nextEvent(router, "handshakeSucceeded");
      await using dealer = await startPeer({
        type: "DEALER",
        connect: router.lastEndpoint!,
        options: {
          routingId: "libzmq-dealer",
          curveServerkey: ours.publicKey,
          curvePublickey: theirClient.publicKey,
          curveSecretkey: theirClient.secretKey,
        },
      });
      const ev = await accepted;
      assert.equal(ev.peer.userId, theirClient.publicKey);
      assert.equal(ev.peer.socketType, "DEALER");
      // DEALER/ROUTER over CURVE: multipart and 1 MiB both ways.
      const big = pattern(1 << 20, 9);
      await dealer.send([b("a"), big, b("c")]);
      const [id, ...body] = await receive(router);
      assert.deepEqual(text([id]), ["libzmq-dealer"]);
      assert.deepEqual(body, [b("a"), big, b("c")]);
      await router.send([id, big, b("back")]);
      assert.deepEqual(await dealer.recv(), [big, b("back")]);

      const stranger = await libzmqKeyPair();
      const failed = nextEvent(router, "handshakeFailed");
      await using refused = await startPeer({
        type: "DEALER",
        connect: router.lastEndpoint!,
        options: {
          curveServerkey: ours.publicKey,
          curvePublickey: stranger.publicKey,
          curveSecretkey: stranger.secretKey,
          monitor: true,
        },
      });
      assert.match((await failed).reason, /Unknown key/);
      const seen = await refused.waitEvent("HANDSHAKE_FAILED_AUTH");
      assert.equal(seen?.value, 400);
    },
  );
});

Deno.test("zeromq.js 6.8.0 (libzmq 4.3.5) as a second peer: CURVE and PLAIN, both ways", async (t) => {
  const js = { impl: "zeromqjs" as const };
  await t.step("a zeromq.js CURVE server allows our key and denies another", async () => {
    await using rep = await startPeer({
      ...js,
      type: "REP",
      bind: "tcp://127.0.0.1:0",
      options: {
        curveServer: true,
        curveSecretkey: ours.secretKey,
        curveAllow: [ourClient.publicKey],
      },
    });
    await using req = new ReqSocket({
      ...BOUNDED,
      curveServerKey: ours.publicKey,
      curveSecretKey: ourClient.secretKey,
    });
    req.connect(rep.endpoint);
    await reqRoundTrip(req, rep);

    await using denied = new ReqSocket({
      ...BOUNDED,
      curveServerKey: ours.publicKey,
      curveSecretKey: curveKeyPair().secretKey,
      reconnectInterval: -1,
    });
    const failed = nextEvent(denied, "handshakeFailed");
    denied.connect(rep.endpoint);
    const ev = await failed;
    assert.equal(ev.kind, "authentication");
    assert.match(ev.reason, /400/);
  });

  await t.step("our CURVE server with an Authenticator judges zeromq.js clients", async () => {
    await using auth = new Authenticator();
    await auth.start();
    auth.configureCurve([ourClient.publicKey]);
    await using rep = new RepSocket({
      ...BOUNDED,
      curveServer: true,
      curveSecretKey: ours.secretKey,
    });
    await rep.bind("tcp://127.0.0.1:0");
    const accepted = nextEvent(rep, "handshakeSucceeded");
    await using req = await startPeer({
      ...js,
      type: "REQ",
      connect: rep.lastEndpoint!,
      options: {
        curveServerkey: ours.publicKey,
        curvePublickey: ourClient.publicKey,
        curveSecretkey: ourClient.secretKey,
      },
    });
    await repRoundTrip(rep, req);
    assert.equal((await accepted).peer.userId, ourClient.publicKey);

    const stranger = curveKeyPair();
    const failed = nextEvent(rep, "handshakeFailed");
    await using bad = await startPeer({
      ...js,
      type: "REQ",
      connect: rep.lastEndpoint!,
      options: {
        curveServerkey: ours.publicKey,
        curvePublickey: stranger.publicKey,
        curveSecretkey: stranger.secretKey,
        monitor: true,
      },
    });
    const ev = await failed;
    assert.equal(ev.kind, "authentication");
    assert.ok(await bad.waitEvent("HANDSHAKE_FAILED_AUTH"), "zeromq.js saw our ERROR 400");
  });

  await t.step("a zeromq.js PLAIN server with a ZAP handler accepts our user only", async () => {
    await using rep = await startPeer({
      ...js,
      type: "REP",
      bind: "tcp://127.0.0.1:0",
      options: { plainUsers: "admin:secret" },
    });
    await using req = new ReqSocket({
      ...BOUNDED,
      plainUsername: "admin",
      plainPassword: "secret",
    });
    req.connect(rep.endpoint);
    await reqRoundTrip(req, rep);

    await using wrong = new ReqSocket({
      ...BOUNDED,
      plainUsername: "admin",
      plainPassword: "guess",
      reconnectInterval: -1,
    });
    const failed = nextEvent(wrong, "handshakeFailed");
    wrong.connect(rep.endpoint);
    const ev = await failed;
    assert.equal(ev.kind, "authentication", ev.reason);
    assert.match(ev.reason, /ERROR command: 400/);
  });

  await t.step("our PLAIN server with an Authenticator judges zeromq.js clients", async () => {
    await using auth = new Authenticator();
    await auth.start();
    auth.configurePlain({ admin: "secret" });
    await using rep = new RepSocket({ ...BOUNDED, plainServer: true });
    await rep.bind("tcp://127.0.0.1:0");
    const accepted = nextEvent(rep, "handshakeSucceeded");
    await using req = await startPeer({
      ...js,
      type: "REQ",
      connect: rep.lastEndpoint!,
      options: { plainUsername: "admin", plainPassword: "secret" },
    });
    await repRoundTrip(rep, req);
    assert.equal((await accepted).peer.userId, "admin");

    const failed = nextEvent(rep, "handshakeFailed");
    await using _bad = await startPeer({
      ...js,
      type: "REQ",
      connect: rep.lastEndpoint!,
      options: { plainUsername: "admin", plainPassword: "guess" },
    });
    const ev = await failed;
    assert.equal(ev.kind, "authentication");
    assert.match(ev.reason, /Invalid username or password/);
  });
});

Deno.test("PUB/SUB over CURVE with libzmq, both roles", async (t) => {
  await t.step("our PUB (CURVE server) to a libzmq SUB", async () => {
    await using pub = new PubSocket({
      ...BOUNDED,
      curveServer: true,
      curveSecretKey: ours.secretKey,
    });
    await pub.bind("tcp://127.0.0.1:0");
    const theirClient = await libzmqKeyPair();
    await using sub = await startPeer({
      type: "SUB",
      connect: pub.lastEndpoint!,
      options: {
        subscribe: [""],
        curveServerkey: ours.publicKey,
        curvePublickey: theirClient.publicKey,
        curveSecretkey: theirClient.secretKey,
      },
    });
    await syncPeerSubscriber(pub, sub);
    const big = pattern(1 << 20, 1);
    await pub.send([b("topic"), big]);
    let got = await sub.recv();
    while (got !== undefined && got.length === 1) got = await sub.recv(); // late markers
    assert.deepEqual(got, [b("topic"), big]);
  });

  await t.step("a libzmq PUB (CURVE server) to our SUB", async () => {
    const theirs = await libzmqKeyPair();
    await using pub = await startPeer({
      type: "PUB",
      bind: "tcp://127.0.0.1:0",
      options: { curveServer: true, curveSecretkey: theirs.secretKey },
    });
    await using sub = new SubSocket({
      ...BOUNDED,
      curveServerKey: theirs.publicKey,
      curveSecretKey: ourClient.secretKey,
    });
    sub.subscribe("");
    sub.connect(pub.endpoint);
    await syncMonoSubscriber(pub, sub);
    await pub.send([b("topic"), b("payload")]);
    assert.deepEqual(await monoReceiveData(sub), [b("topic"), b("payload")]);
  });
});

/** Relays one TCP connection to `target`, recording each direction's bytes. */
function relay(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const recorded = { up: [] as Uint8Array[], down: [] as Uint8Array[] };
  const pump = async (from: Deno.Conn, to: Deno.Conn, into: Uint8Array[]) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        into.push(buffer.slice(0, n));
        await to.write(buffer.subarray(0, n));
      }
    } catch {
      // the other side closed
    }
    try {
      to.closeWrite();
    } catch {
      // already closed
    }
  };
  const done = (async () => {
    const inbound = await listener.accept();
    listener.close();
    const outbound = await Deno.connect({ hostname: "127.0.0.1", port: target });
    await Promise.all([
      pump(inbound, outbound, recorded.up),
      pump(outbound, inbound, recorded.down),
    ]);
    inbound.close();
    outbound.close();
  })();
  return { endpoint: `tcp://127.0.0.1:${port}`, recorded, done };
}

function joined(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function contains(haystack: Uint8Array, needle: string): boolean {
  return new TextDecoder("latin1").decode(haystack).includes(needle);
}

Deno.test("nothing readable crosses the wire after the greeting of a CURVE connection", async () => {
  const theirs = await libzmqKeyPair();
  const SECRETS = [
    "SECRET-PAYLOAD-7f3a",
    "IDENTITY-MARKER-91",
    "Socket-Type",
    "Identity",
    "DEALER",
  ];
  const run = async (options: SocketOptions, peerOptions: Record<string, string | boolean>) => {
    await using rep = await startPeer({
      type: "ROUTER",
      bind: "tcp://127.0.0.1:0",
      options: peerOptions,
    });
    const proxy = relay(Number(rep.endpoint.split(":").pop()));
    await using client = new DealerSocket({
      ...BOUNDED,
      ...options,
      routingId: "IDENTITY-MARKER-91",
    });
    client.connect(proxy.endpoint);
    await client.send([b("SECRET-PAYLOAD-7f3a"), pattern(4096, 2)]);
    const got = await rep.recv();
    assert.ok(got !== undefined, "the libzmq ROUTER received the message");
    assert.equal(new TextDecoder().decode(got[1]), "SECRET-PAYLOAD-7f3a");
    await rep.send([got[0], b("SECRET-PAYLOAD-7f3a reply")]);
    assert.deepEqual(text(await receive(client)), ["SECRET-PAYLOAD-7f3a reply"]);
    await client.close();
    await withTimeout(proxy.done, WAIT_MS, "relay end");
    // 64 octets of greeting each way are plain by design (they carry "CURVE" and the as-server flag).
    return [joined(proxy.recorded.up).subarray(64), joined(proxy.recorded.down).subarray(64)];
  };

  // Control: with NULL the detector sees everything in clear.
  const plain = await run({}, {});
  for (const secret of SECRETS.slice(0, 3)) {
    assert.ok(plain.some((bytes) => contains(bytes, secret)), `NULL carries ${secret} in clear`);
  }
  const curve = await run(
    { curveServerKey: theirs.publicKey, curveSecretKey: ourClient.secretKey },
    { curveServer: true, curveSecretkey: theirs.secretKey },
  );
  assert.ok(curve[0].length > 4096 && curve[1].length > 0, "the encrypted traffic was recorded");
  for (const bytes of curve) {
    for (const secret of SECRETS) {
      assert.ok(!contains(bytes, secret), `${secret} is not on the wire`);
    }
  }
});
