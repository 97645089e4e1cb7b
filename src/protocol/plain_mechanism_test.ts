import assert from "node:assert/strict";
import { PlainClientMechanism, PlainServerMechanism } from "./plain_mechanism.ts";
import { Session, type SessionEvent } from "./session.ts";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

function pump(from: Session, to: Session, now = 0): void {
  for (const chunk of from.takeOutput()) to.receive(chunk, now);
}

function pair(options: { username?: string; password?: string; authenticate?: boolean } = {}) {
  const client = new Session({
    socketType: "DEALER",
    now: 0,
    routingId: bytes("client-1"),
    properties: { "X-Client": "yes" },
    mechanism: new PlainClientMechanism({
      username: options.username ?? "admin",
      password: options.password ?? "secret",
    }),
  });
  const server = new Session({
    socketType: "ROUTER",
    now: 0,
    properties: { "X-Server": "yes" },
    mechanism: new PlainServerMechanism({ authenticate: options.authenticate }),
  });
  return { client, server };
}

function errorOf(events: SessionEvent[]) {
  const last = events.at(-1);
  assert.equal(last?.type, "error", JSON.stringify(events));
  return last as Extract<SessionEvent, { type: "error" }>;
}

// Greetings, then HELLO: the server asks for authentication.
function untilAuthenticate(client: Session, server: Session) {
  pump(client, server);
  pump(server, client);
  pump(client, server);
  const events = server.takeEvents();
  assert.equal(events.length, 1);
  assert.equal(events[0].type, "authenticate");
  return (events[0] as Extract<SessionEvent, { type: "authenticate" }>).request;
}

Deno.test("PLAIN: an accepted login completes with metadata both ways and the User-Id", () => {
  const { client, server } = pair();
  const request = untilAuthenticate(client, server);
  assert.equal(request.mechanism, "PLAIN");
  assert.deepEqual(request.credentials.map(text), ["admin", "secret"]);
  server.authenticated({ statusCode: 200, userId: "alice", metadata: { Role: "ops" } }, 0);
  pump(server, client); // WELCOME
  pump(client, server); // INITIATE
  pump(server, client); // READY
  const [serverReady] = server.takeEvents();
  const [clientReady] = client.takeEvents();
  assert.ok(serverReady.type === "ready" && clientReady.type === "ready");
  assert.equal(serverReady.peer.mechanism, "PLAIN");
  assert.equal(serverReady.peer.socketType, "DEALER");
  assert.equal(text(serverReady.peer.routingId), "client-1");
  assert.equal(text(serverReady.peer.properties.get("X-Client")), "yes");
  assert.equal(text(serverReady.peer.properties.get("User-Id")), "alice");
  assert.equal(text(serverReady.peer.properties.get("Role")), "ops");
  assert.equal(text(clientReady.peer.properties.get("X-Server")), "yes");
  assert.equal(clientReady.peer.properties.get("User-Id"), undefined);

  client.send([bytes("hi"), bytes("there")]);
  pump(client, server);
  const [message] = server.takeEvents();
  assert.ok(message.type === "message");
  assert.deepEqual(message.frames.map(text), ["hi", "there"]);
});

Deno.test("PLAIN: the ZAP User-Id overrides a User-Id the client sent itself", () => {
  const client = new Session({
    socketType: "DEALER",
    now: 0,
    properties: { "User-Id": "root" },
    mechanism: new PlainClientMechanism({ username: "u", password: "p" }),
  });
  const server = new Session({
    socketType: "ROUTER",
    now: 0,
    mechanism: new PlainServerMechanism(),
  });
  untilAuthenticate(client, server);
  server.authenticated({ statusCode: 200, userId: "nobody" }, 0);
  pump(server, client);
  pump(client, server);
  const [ready] = server.takeEvents();
  assert.ok(ready.type === "ready");
  assert.equal(text(ready.peer.properties.get("User-Id")), "nobody");
});

for (const code of [400, 500]) {
  Deno.test(`PLAIN: ZAP ${code} sends ERROR "${code}" and both sides fail with authentication`, () => {
    const { client, server } = pair({ password: "wrong" });
    untilAuthenticate(client, server);
    server.authenticated({ statusCode: code, statusText: "Invalid password" }, 0);
    const serverError = errorOf(server.takeEvents());
    assert.equal(serverError.kind, "authentication");
    assert.equal(serverError.code, "EACCES");
    pump(server, client);
    const clientError = errorOf(client.takeEvents());
    assert.equal(clientError.kind, "authentication");
    assert.match(clientError.reason, new RegExp(String(code)));
    assert.equal(client.phase, "closed");
  });
}

Deno.test("PLAIN: ZAP 300 closes without an ERROR command", () => {
  const { client, server } = pair();
  untilAuthenticate(client, server);
  server.authenticated({ statusCode: 300 }, 0);
  assert.equal(errorOf(server.takeEvents()).kind, "authentication");
  assert.deepEqual(server.takeOutput(), []);
});

Deno.test("PLAIN: an invalid ZAP status code or metadata is a protocol error", () => {
  for (
    const reply of [
      { statusCode: 201 },
      { statusCode: Number.NaN },
      { statusCode: 200, metadata: Uint8Array.of(5, 0x41) },
      { statusCode: 200, metadata: { "bad name": "x" } },
    ]
  ) {
    const { client, server } = pair();
    untilAuthenticate(client, server);
    server.authenticated(reply, 0);
    const error = errorOf(server.takeEvents());
    assert.equal(error.kind, "protocol", JSON.stringify(reply));
  }
});

Deno.test("PLAIN: the handshake timeout runs while the ZAP reply is awaited", () => {
  const client = new Session({
    socketType: "REQ",
    now: 0,
    mechanism: new PlainClientMechanism({ username: "", password: "" }),
  });
  const server = new Session({
    socketType: "REP",
    now: 0,
    handshakeInterval: 1000,
    mechanism: new PlainServerMechanism(),
  });
  untilAuthenticate(client, server);
  assert.equal(server.nextTimeout(), 1000);
  server.tick(1000);
  assert.equal(errorOf(server.takeEvents()).kind, "timeout");
  server.authenticated({ statusCode: 200 }, 1001); // late: ignored
  assert.deepEqual(server.takeEvents(), []);
});

Deno.test("PLAIN: authenticated() without a pending request throws", () => {
  const { client, server } = pair();
  assert.throws(() => server.authenticated({ statusCode: 200 }, 0), Error);
  untilAuthenticate(client, server);
  server.authenticated({ statusCode: 200 }, 0);
  assert.throws(() => server.authenticated({ statusCode: 200 }, 0), Error);
});

Deno.test("PLAIN: a server without authentication accepts any login", () => {
  const { client, server } = pair({ authenticate: false, password: "anything" });
  for (let i = 0; i < 3; i++) {
    pump(client, server);
    pump(server, client);
  }
  assert.equal(client.phase, "ready");
  assert.equal(server.phase, "ready");
});

Deno.test("PLAIN: malformed HELLOs are protocol errors (libzmq's exact lengths)", () => {
  const hello = (data: number[]) =>
    Uint8Array.of(0x04, 6 + data.length, 5, ...bytes("HELLO"), ...data);
  for (const data of [[], [1], [1, 0x61], [0], [0, 1], [0, 0, 9], [2, 0x61, 0x62, 1]]) {
    const server = new Session({
      socketType: "REP",
      now: 0,
      mechanism: new PlainServerMechanism(),
    });
    const greeting = new Uint8Array(64);
    greeting.set([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1, ...bytes("PLAIN")]);
    server.receive(greeting, 0);
    server.receive(hello(data), 0);
    const error = errorOf(server.takeEvents());
    assert.equal(error.kind, "protocol", JSON.stringify(data));
    assert.match(error.reason, /Malformed PLAIN HELLO/);
  }
});

Deno.test("PLAIN: credentials over 255 octets or of the wrong type are rejected", () => {
  assert.throws(
    () => new PlainClientMechanism({ username: "u", password: "x".repeat(256) }),
    RangeError,
  );
  assert.throws(
    () => new PlainClientMechanism({ username: 5 as unknown as string, password: "" }),
    TypeError,
  );
});

Deno.test("PLAIN: two clients or a NULL peer do not complete", () => {
  const a = new Session({
    socketType: "PAIR",
    now: 0,
    mechanism: new PlainClientMechanism({ username: "a", password: "b" }),
  });
  const b = new Session({
    socketType: "PAIR",
    now: 0,
    mechanism: new PlainClientMechanism({ username: "a", password: "b" }),
  });
  pump(a, b);
  pump(b, a);
  assert.equal(errorOf(a.takeEvents()).kind, "protocol");
  const n = new Session({ socketType: "PAIR", now: 0 });
  const s = new Session({ socketType: "PAIR", now: 0, mechanism: new PlainServerMechanism() });
  pump(n, s);
  assert.match(errorOf(s.takeEvents()).reason, /mechanism mismatch/);
});
