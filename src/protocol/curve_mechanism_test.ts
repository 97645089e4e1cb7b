import assert from "node:assert/strict";
import { curveKeyPair } from "./curve_keys.ts";
import { CurveClientMechanism, CurveServerMechanism } from "./curve_mechanism.ts";
import { Session, type SessionEvent, type SessionOptions } from "./session.ts";
import type { SocketType } from "./socket_type.ts";
import { z85Decode } from "./z85.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function pump(from: Session, to: Session, now = 0, wire?: Uint8Array[]): void {
  for (const chunk of from.takeOutput()) {
    wire?.push(chunk.slice());
    to.receive(chunk, now);
  }
}

const SERVER = curveKeyPair();
const CLIENT = curveKeyPair();

interface PairOptions {
  serverKey?: string | Uint8Array;
  clientKeys?: { publicKey: string | Uint8Array; secretKey: string | Uint8Array };
  authenticate?: boolean;
  server?: Partial<SessionOptions>;
  client?: Partial<SessionOptions>;
  types?: [SocketType, SocketType];
  cookieLifetime?: number;
}

function pair(options: PairOptions = {}) {
  const [clientType, serverType] = options.types ?? ["DEALER", "ROUTER"];
  const keys = options.clientKeys ?? CLIENT;
  const client = new Session({
    socketType: clientType,
    now: 0,
    properties: { "X-Client": "client secret metadata" },
    ...options.client,
    mechanism: new CurveClientMechanism({
      serverKey: options.serverKey ?? SERVER.publicKey,
      publicKey: keys.publicKey,
      secretKey: keys.secretKey,
    }),
  });
  const server = new Session({
    socketType: serverType,
    now: 0,
    properties: { "X-Server": "server secret metadata" },
    ...options.server,
    mechanism: new CurveServerMechanism({
      secretKey: SERVER.secretKey,
      authenticate: options.authenticate ?? false,
      cookieLifetime: options.cookieLifetime,
    }),
  });
  return { client, server };
}

function handshake(client: Session, server: Session, wire?: Uint8Array[]): void {
  for (let i = 0; i < 3; i++) {
    pump(client, server, 0, wire);
    pump(server, client, 0, wire);
  }
}

function errorOf(events: SessionEvent[]) {
  const last = events.at(-1);
  assert.equal(last?.type, "error", JSON.stringify(events));
  return last as Extract<SessionEvent, { type: "error" }>;
}

function readyOf(events: SessionEvent[]) {
  const ready = events.find((e) => e.type === "ready");
  assert.ok(ready?.type === "ready", JSON.stringify(events));
  return ready.peer;
}

Deno.test("CURVE: client and server complete with metadata both ways and carry messages", () => {
  const { client, server } = pair();
  handshake(client, server);
  const clientPeer = readyOf(client.takeEvents());
  const serverPeer = readyOf(server.takeEvents());
  assert.equal(clientPeer.mechanism, "CURVE");
  assert.equal(clientPeer.socketType, "ROUTER");
  assert.equal(text(clientPeer.properties.get("X-Server")), "server secret metadata");
  assert.equal(serverPeer.socketType, "DEALER");
  assert.equal(text(serverPeer.properties.get("X-Client")), "client secret metadata");

  client.send([bytes("one"), new Uint8Array(0), bytes("three")]);
  server.send([bytes("reply")]);
  pump(client, server);
  pump(server, client);
  const [toServer] = server.takeEvents();
  const [toClient] = client.takeEvents();
  assert.ok(toServer.type === "message" && toClient.type === "message");
  assert.deepEqual(toServer.frames.map(text), ["one", "", "three"]);
  assert.deepEqual(toClient.frames.map(text), ["reply"]);
});

Deno.test("CURVE: keys work as Z85 strings and as 32-octet arrays alike", () => {
  const { client, server } = pair({
    serverKey: z85Decode(SERVER.publicKey),
    clientKeys: { publicKey: z85Decode(CLIENT.publicKey), secretKey: CLIENT.secretKey },
  });
  handshake(client, server);
  assert.equal(client.phase, "ready");
  assert.equal(server.phase, "ready");
});

Deno.test("CURVE: subscriptions and heartbeats travel inside MESSAGE commands", () => {
  const { client, server } = pair({
    types: ["SUB", "PUB"],
    client: { heartbeatInterval: 100 },
  });
  handshake(client, server);
  client.takeEvents();
  server.takeEvents();
  client.subscribe(bytes("weather."));
  client.tick(100); // PING
  pump(client, server);
  assert.deepEqual(
    server.takeEvents().map((e) => e.type === "subscribe" ? text(e.topic) : e.type),
    ["weather."],
  );
  pump(server, client); // PONG, inside a MESSAGE
  assert.deepEqual(client.takeEvents(), []);
  assert.equal(client.phase, "ready");
  server.send([bytes("weather.paris"), bytes("sunny")]);
  pump(server, client);
  const [message] = client.takeEvents();
  assert.ok(message.type === "message");
  assert.deepEqual(message.frames.map(text), ["weather.paris", "sunny"]);
});

Deno.test("CURVE: nothing readable crosses the wire after the greeting", () => {
  const { client, server } = pair();
  const wire: Uint8Array[] = [];
  handshake(client, server, wire);
  client.send([bytes("the payload nobody may read")]);
  pump(client, server, 0, wire);
  const all = text(concat(wire));
  assert.ok(all.includes("CURVE"));
  for (
    const secret of [
      "payload nobody",
      "client secret metadata",
      "server secret metadata",
      "Socket-Type",
      "DEALER",
    ]
  ) {
    assert.ok(!all.includes(secret), `${secret} appears on the wire`);
  }
  assert.equal(server.takeEvents().at(-1)?.type, "message");
});

function readyPair() {
  const { client, server } = pair();
  handshake(client, server);
  client.takeEvents();
  server.takeEvents();
  return { client, server };
}

function sendOne(from: Session, payload: string): Uint8Array {
  from.send([bytes(payload)]);
  return concat(from.takeOutput());
}

Deno.test("CURVE: a tampered MESSAGE ends the connection with a clean error", () => {
  for (const offset of [2, 4, 12, 20, 40]) {
    const { client, server } = readyPair();
    const frame = sendOne(client, "hello, tamper me");
    frame[offset] ^= 0x20;
    server.receive(frame, 0);
    const error = errorOf(server.takeEvents());
    assert.equal(error.kind, "protocol", `offset ${offset}`);
    assert.equal(server.phase, "closed");
  }
});

Deno.test("CURVE: a replayed MESSAGE ends the connection", () => {
  const { client, server } = readyPair();
  const frame = sendOne(client, "once");
  server.receive(frame, 0);
  assert.equal(server.takeEvents()[0].type, "message");
  server.receive(frame.slice(), 0);
  assert.match(errorOf(server.takeEvents()).reason, /replayed or reordered/);
});

Deno.test("CURVE: reordered MESSAGEs end the connection, both ways", () => {
  const { client, server } = readyPair();
  const first = sendOne(client, "first");
  const second = sendOne(client, "second");
  server.receive(second, 0);
  server.receive(first, 0);
  const events = server.takeEvents();
  assert.equal(events[0].type, "message");
  assert.match(errorOf(events).reason, /replayed or reordered/);

  const other = readyPair();
  const a = sendOne(other.server, "a");
  const b = sendOne(other.server, "b");
  other.client.receive(b, 0);
  other.client.receive(a, 0);
  assert.match(errorOf(other.client.takeEvents()).reason, /replayed or reordered/);
});

Deno.test("CURVE: a MESSAGE from another connection does not open", () => {
  const one = readyPair();
  const two = readyPair();
  const frame = sendOne(one.client, "cross");
  two.server.receive(frame, 0);
  assert.match(errorOf(two.server.takeEvents()).reason, /failed authentication/);
});

Deno.test("CURVE: a plain frame or another command in the data phase is an error", () => {
  const { server } = readyPair();
  server.receive(Uint8Array.of(0, 2, 0x68, 0x69), 0);
  assert.match(errorOf(server.takeEvents()).reason, /MESSAGE/);
});

Deno.test("CURVE: a wrong server key fails at HELLO, without an ERROR command", () => {
  const { client, server } = pair({ serverKey: curveKeyPair().publicKey });
  pump(client, server);
  pump(server, client); // the server's greeting: the client sends HELLO
  pump(client, server); // HELLO
  const error = errorOf(server.takeEvents());
  assert.equal(error.kind, "authentication");
  assert.match(error.reason, /wrong server key/);
  assert.deepEqual(server.takeOutput(), []);
});

Deno.test("CURVE: a WELCOME from a server with another key fails the client", () => {
  const impostor = new Session({
    socketType: "ROUTER",
    now: 0,
    mechanism: new CurveServerMechanism({
      secretKey: curveKeyPair().secretKey,
      authenticate: false,
    }),
  });
  // The client expects SERVER's key; its HELLO is boxed to it, so the impostor cannot answer at all.
  const client = new Session({
    socketType: "DEALER",
    now: 0,
    mechanism: new CurveClientMechanism({ serverKey: SERVER.publicKey, ...CLIENT }),
  });
  pump(client, impostor);
  pump(impostor, client);
  pump(client, impostor);
  assert.equal(errorOf(impostor.takeEvents()).kind, "authentication");
  // A forged WELCOME (random bytes in the right size) does not open either.
  const welcome = Uint8Array.of(
    0x04,
    168,
    7,
    ...bytes("WELCOME"),
    ...crypto.getRandomValues(new Uint8Array(160)),
  );
  client.receive(welcome, 0);
  const error = errorOf(client.takeEvents());
  assert.equal(error.kind, "authentication");
  assert.match(error.reason, /wrong server key/);
});

Deno.test("CURVE: an INITIATE with a cookie from another server's cookie key is refused", () => {
  const one = pair();
  const two = pair();
  for (const { client, server } of [one, two]) {
    pump(client, server);
    pump(server, client);
    pump(client, server); // HELLO
    pump(server, client); // WELCOME: the client queues INITIATE
  }
  pump(one.client, two.server); // one's INITIATE (cookie under one's key) to two
  const error = errorOf(two.server.takeEvents());
  assert.equal(error.kind, "authentication");
  assert.match(error.reason, /invalid cookie/);
});

Deno.test("CURVE: an INITIATE after the cookie lifetime is refused", () => {
  const { client, server } = pair({ cookieLifetime: 1000, server: { handshakeInterval: 0 } });
  pump(client, server);
  pump(server, client);
  pump(client, server); // HELLO at 0: the cookie is issued
  pump(server, client);
  pump(client, server, 1000); // INITIATE at 1000
  assert.match(errorOf(server.takeEvents()).reason, /cookie expired/);
});

Deno.test("CURVE: the ZAP request carries the client's public key; 200 adds the User-Id", () => {
  const { client, server } = pair({ authenticate: true });
  handshake(client, server);
  const events = server.takeEvents();
  assert.equal(events.length, 1);
  assert.ok(events[0].type === "authenticate");
  assert.equal(events[0].request.mechanism, "CURVE");
  assert.deepEqual(events[0].request.credentials, [z85Decode(CLIENT.publicKey)]);
  assert.equal(client.phase, "handshake");
  server.authenticated({ statusCode: 200, userId: "client-1" }, 0);
  pump(server, client);
  const peer = readyOf(server.takeEvents());
  assert.equal(text(peer.properties.get("User-Id")), "client-1");
  assert.equal(text(peer.properties.get("X-Client")), "client secret metadata");
  assert.equal(client.phase, "ready");
});

for (const code of [300, 400, 500]) {
  Deno.test(`CURVE: ZAP ${code} refuses the client${code === 300 ? " silently" : " with ERROR"}`, () => {
    const { client, server } = pair({ authenticate: true });
    handshake(client, server);
    server.takeEvents();
    server.authenticated({ statusCode: code }, 0);
    assert.equal(errorOf(server.takeEvents()).kind, "authentication");
    const output = server.takeOutput();
    if (code === 300) {
      assert.deepEqual(output, []);
    } else {
      for (const chunk of output) client.receive(chunk, 0);
      const error = errorOf(client.takeEvents());
      assert.equal(error.kind, "authentication");
      assert.match(error.reason, new RegExp(`ERROR command: ${code}`));
    }
  });
}

Deno.test("CURVE: commands out of order and malformed ones are protocol errors", () => {
  const cases: [string, Uint8Array][] = [
    ["HELLO too short", Uint8Array.of(0x04, 10, 5, ...bytes("HELLO"), 1, 0, 0, 0)],
    ["INITIATE first", Uint8Array.of(0x04, 9, 8, ...bytes("INITIATE"))],
    ["READY first", Uint8Array.of(0x04, 6, 5, ...bytes("READY"))],
  ];
  for (const [name, frame] of cases) {
    const { client, server } = pair();
    pump(client, server);
    server.receive(frame, 0);
    assert.equal(errorOf(server.takeEvents()).kind, "protocol", name);
  }
  const hello = new Uint8Array(200);
  hello.set([5, ...bytes("HELLO"), 2, 0]);
  const { client, server } = pair();
  pump(client, server);
  server.receive(Uint8Array.of(0x04, 200), 0);
  server.receive(hello, 0);
  assert.match(errorOf(server.takeEvents()).reason, /version/);
});

Deno.test("CURVE: bad keys are rejected at construction", () => {
  assert.throws(
    () => new CurveClientMechanism({ serverKey: "~".repeat(40), secretKey: CLIENT.secretKey }),
    TypeError,
  );
  assert.throws(
    () => new CurveClientMechanism({ serverKey: new Uint8Array(33), secretKey: CLIENT.secretKey }),
    RangeError,
  );
  assert.throws(() => new CurveServerMechanism({ secretKey: 42 as unknown as string }), TypeError);
  assert.throws(
    () => new CurveServerMechanism({ secretKey: SERVER.secretKey, cookieLifetime: 0 }),
    RangeError,
  );
});

Deno.test("CURVE: a low-order server key fails the client's HELLO cleanly", () => {
  const client = new Session({
    socketType: "DEALER",
    now: 0,
    mechanism: new CurveClientMechanism({
      serverKey: new Uint8Array(32),
      secretKey: CLIENT.secretKey,
    }),
  });
  const server = new Session({
    socketType: "ROUTER",
    now: 0,
    mechanism: new CurveServerMechanism({ secretKey: SERVER.secretKey }),
  });
  pump(server, client);
  assert.equal(errorOf(client.takeEvents()).kind, "authentication");
});

Deno.test("CURVE: MESSAGE frames go out without the COMMAND flag, as libzmq sends them", () => {
  const { client } = readyPair();
  const frame = sendOne(client, "x");
  assert.equal(frame[0], 0x00); // flags: neither COMMAND nor MORE
  assert.equal(text(frame.subarray(3, 10)), "MESSAGE");
  client.send([bytes("a"), bytes("b")]);
  const two = concat(client.takeOutput());
  assert.equal(two[0], 0x00); // MORE lives inside the box
});
