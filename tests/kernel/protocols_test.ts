/**
 * The example protocols on real sockets: the line protocol served by a
 * STREAM socket to plain TCP clients (`nc` when the machine has it, else a
 * raw `Deno.connect` client writing the same bytes), the length-prefixed
 * protocol between DEALER and ROUTER and from a hand-written client; and the
 * kernel's promises kept for them: a hostile client (an endless line, a
 * length prefix over the limit) loses its own connection only, a PUSH over a
 * custom protocol waits at its high-water mark, and a DEALER reconnects to a
 * ROUTER that came back.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DealerSocket,
  PullSocket,
  PushSocket,
  RouterSocket,
  StreamSocket,
  text,
  ZmqError,
} from "../../mod.ts";
import type { SocketEvent } from "../../mod.ts";
import { useProtocol } from "../../src/kernel/mod.ts";
import { lines, serve, talk } from "../../examples/line_server.ts";
import { lengthPrefixed, wireFrame } from "../../examples/length_prefixed.ts";
import { handshakes, WAIT, withTimeout } from "../socket/_helpers.ts";

function portOf(endpoint: string): number {
  return Number(endpoint.split(":").at(-1));
}

function hasNc(): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", "command -v nc"] }).outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("the line protocol answers a plain TCP client (the bytes nc would send)", async () => {
  await using server = useProtocol(new StreamSocket(), lines);
  await server.bind("tcp://127.0.0.1:0");
  const serving = serve(server, 2);
  const transcript = await withTimeout(
    talk(portOf(server.lastEndpoint!), "hi there\r\nquit\n"),
    WAIT,
    "the talk",
  );
  assert.equal(
    transcript,
    "hello, this is Monocoque: say something, or quit\nHI THERE\nbye\n",
  );
  assert.equal(await withTimeout(serving, WAIT, "the server"), 2);
});

Deno.test({
  name: "the line protocol answers nc",
  ignore: !hasNc(),
  async fn() {
    await using server = useProtocol(new StreamSocket(), lines);
    await server.bind("tcp://127.0.0.1:0");
    const serving = serve(server, 2);
    const nc = new Deno.Command("nc", {
      args: ["127.0.0.1", String(portOf(server.lastEndpoint!))],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const writer = nc.stdin.getWriter();
    await writer.write(new TextEncoder().encode("from nc\nquit\n"));
    await writer.close();
    const out = await withTimeout(nc.output(), WAIT, "nc");
    assert.match(new TextDecoder().decode(out.stdout), /FROM NC\nbye\n/);
    assert.equal(await withTimeout(serving, WAIT, "the server"), 2);
  },
});

Deno.test("an endless line drops that client only; the next client is served", async () => {
  await using server = useProtocol(new StreamSocket(), lines);
  await server.bind("tcp://127.0.0.1:0");
  const port = portOf(server.lastEndpoint!);
  const dropped = new Promise<SocketEvent>((resolve) => {
    (async () => {
      for await (const e of server.events()) if (e.type === "disconnected") return resolve(e);
    })();
  });
  const hostile = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const [hostileId] = await withTimeout(server.receive(), WAIT, "the connect notice");
    const junk = new Uint8Array(1024).fill(0x61); // no newline, ever
    for (let i = 0; i < 16; i++) await hostile.write(junk).catch(() => {});
    const event = await withTimeout(dropped, WAIT, "the drop");
    assert.equal(event.type === "disconnected" && event.error?.code, "EMSGSIZE");
    const [gone, notice] = await withTimeout(server.receive(), WAIT, "the disconnect notice");
    assert.deepEqual(gone, hostileId);
    assert.equal(notice.length, 0);
  } finally {
    hostile.close();
  }
  const serving = serve(server, 2);
  const transcript = await withTimeout(talk(port, "still here\nquit\n"), WAIT, "the talk");
  assert.match(transcript, /STILL HERE\n/);
  await withTimeout(serving, WAIT, "the server");
});

Deno.test("the length-prefixed protocol between DEALER and ROUTER, and from a hand-written client", async () => {
  await using router = useProtocol(new RouterSocket(), lengthPrefixed);
  await router.bind("tcp://127.0.0.1:0");
  await using dealer = useProtocol(new DealerSocket(), lengthPrefixed);
  dealer.connect(router.lastEndpoint!);
  await dealer.send(["multi", "part"]);
  const [id, a, b] = await withTimeout(router.receive(), WAIT, "the request");
  assert.deepEqual([text(a), text(b)], ["multi", "part"]);
  await router.send([id, "ok"]);
  assert.equal(text((await withTimeout(dealer.receive(), WAIT, "the reply"))[0]), "ok");

  const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(router.lastEndpoint!) });
  try {
    await conn.write(wireFrame("by hand"));
    const [rawId, body] = await withTimeout(router.receive(), WAIT, "the raw request");
    assert.equal(text(body), "by hand");
    await router.send([rawId, "answered"]);
    const buf = new Uint8Array(64);
    let got = 0;
    while (got < 12) got += (await withTimeout(conn.read(buf.subarray(got)), WAIT, "read")) ?? 0;
    assert.deepEqual([...buf.subarray(0, 4)], [0, 0, 0, 8]);
    assert.equal(text(buf.subarray(4, 12)), "answered");
  } finally {
    conn.close();
  }
});

Deno.test("a length prefix over the limit drops that client only", async () => {
  await using router = useProtocol(new RouterSocket(), lengthPrefixed);
  await router.bind("tcp://127.0.0.1:0");
  const events = router.events();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(router.lastEndpoint!) });
  try {
    await conn.write(Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0, 0));
    const dropped = await withTimeout(
      (async () => {
        for await (const e of events) if (e.type === "disconnected") return e;
        return undefined;
      })(),
      WAIT,
      "the drop",
    );
    assert.equal(dropped?.type === "disconnected" && dropped.error?.code, "EPROTO");
  } finally {
    conn.close();
  }
  await using dealer = useProtocol(new DealerSocket(), lengthPrefixed);
  dealer.connect(router.lastEndpoint!);
  await dealer.send("fine");
  const [, body] = await withTimeout(router.receive(), WAIT, "the good client");
  assert.equal(text(body), "fine");
});

Deno.test("a PUSH over a custom protocol waits at its high-water mark", async () => {
  await using pull = useProtocol(new PullSocket({ receiveHighWaterMark: 4 }), lengthPrefixed);
  await pull.bind("tcp://127.0.0.1:0");
  await using push = useProtocol(
    // linger 0: the queued rest is dropped at close, the PULL never takes it.
    new PushSocket({ sendHighWaterMark: 4, sendTimeout: 500, linger: 0 }),
    lengthPrefixed,
  );
  // Connected first: with no peer a PUSH blocks, and on a loaded machine the 500 ms sendTimeout
  // could expire before the connection is up, leaving nothing queued for the PULL to receive.
  const connected = handshakes(push);
  push.connect(pull.lastEndpoint!);
  await connected;
  const big = new Uint8Array(256 * 1024);
  let sent = 0;
  let error: unknown;
  try {
    while (sent < 10_000) {
      await push.send(big);
      sent++;
    }
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ZmqError && error.code === "EAGAIN", `sent ${sent}, then ${error}`);
  assert.ok(sent >= 3 && sent < 10_000, `sent ${sent}`);
  for (let i = 0; i < 3; i++) await withTimeout(pull.receive(), WAIT, "a queued message");
});

Deno.test("a DEALER over a custom protocol reconnects to a ROUTER that came back", async () => {
  const first = useProtocol(new RouterSocket(), lengthPrefixed);
  await first.bind("tcp://127.0.0.1:0");
  const endpoint = first.lastEndpoint!;
  await using dealer = useProtocol(
    new DealerSocket({ reconnectInterval: 50, reconnectMaxInterval: 200 }),
    lengthPrefixed,
  );
  dealer.connect(endpoint);
  await dealer.send("one");
  await withTimeout(first.receive(), WAIT, "the first request");
  const events = dealer.events();
  await first.close();
  // A message sent before the DEALER saw the close could be written to the dead connection.
  await withTimeout(
    (async () => {
      for await (const e of events) if (e.type === "disconnected") return;
    })(),
    WAIT,
    "the disconnect",
  );
  await using second = useProtocol(new RouterSocket(), lengthPrefixed);
  await second.bind(endpoint);
  await withTimeout(dealer.send("two"), WAIT, "the send after reconnect");
  const [, body] = await withTimeout(second.receive(), WAIT, "the request after reconnect");
  assert.equal(text(body), "two");
});

Deno.test("a codec whose encode throws ends that connection; the socket goes on", async () => {
  // Before the fix the engine stayed open, and the next flush threw from a microtask.
  const picky = {
    ...lengthPrefixed,
    codec: () => {
      const codec = lengthPrefixed.codec();
      const encode = codec.encode.bind(codec);
      codec.encode = (m) => {
        if (text(m[0]) === "bad") throw new Error("Cannot encode bad");
        return encode(m);
      };
      return codec;
    },
  };
  await using pull = useProtocol(new PullSocket(), lengthPrefixed);
  await pull.bind("tcp://127.0.0.1:0");
  await using push = useProtocol(
    new PushSocket({ reconnectInterval: 50, reconnectMaxInterval: 200 }),
    picky,
  );
  const events = push.events();
  push.connect(pull.lastEndpoint!);
  await push.send("bad");
  await push.send("lost with the connection, or after it");
  const ended = await withTimeout(
    (async () => {
      for await (const e of events) if (e.type === "disconnected") return e;
      throw new Error("The events ended before a disconnect");
    })(),
    WAIT,
    "the disconnect after a failed encode",
  );
  assert.match(ended.reason, /Cannot encode bad/);
  await push.send("good");
  for (;;) {
    const [body] = await withTimeout(pull.receive(), WAIT, "a message after the reconnect");
    if (text(body) === "good") break;
  }
});

Deno.test("a codec factory that throws ends that connection; the listener goes on", async () => {
  // Before the fix the throw rejected the accept loop: no more accepts, an unhandled rejection.
  let made = 0;
  const flaky = {
    ...lengthPrefixed,
    codec: () => {
      if (made++ === 0) throw new Error("No codec for the first connection");
      return lengthPrefixed.codec();
    },
  };
  await using pull = useProtocol(new PullSocket(), flaky);
  const events = pull.events();
  await pull.bind("tcp://127.0.0.1:0");
  await using push = useProtocol(
    new PushSocket({ reconnectInterval: 50, reconnectMaxInterval: 200 }),
    lengthPrefixed,
  );
  // The push's side of the first connection may have been ready before the
  // pull dropped it: a message written into it then is lost, as with libzmq.
  // Sent once the push saw that connection end, it waits for the next one.
  const pushEvents = push.events();
  push.connect(pull.lastEndpoint!);
  const ended = await withTimeout(
    (async () => {
      for await (const e of events) if (e.type === "disconnected") return e;
      throw new Error("The events ended before a disconnect");
    })(),
    WAIT,
    "the first connection's end",
  );
  assert.match(ended.reason, /No codec for the first connection/);
  await withTimeout(
    (async () => {
      for await (const e of pushEvents) if (e.type === "disconnected") return;
    })(),
    WAIT,
    "the push seeing the first connection end",
  );
  await push.send("after");
  const [body] = await withTimeout(pull.receive(), WAIT, "a message on the next connection");
  assert.equal(text(body), "after");
});

Deno.test("useProtocol() refuses a socket that already has endpoints", async () => {
  await using router = new RouterSocket();
  await router.bind("inproc://kernel-late");
  assert.throws(
    () => useProtocol(router, lengthPrefixed),
    (e) => e instanceof ZmqError && e.code === "EINVAL",
  );
  assert.throws(() => useProtocol({}, lengthPrefixed), TypeError);
  assert.throws(
    () => useProtocol(new PullSocket(), { ...lengthPrefixed, maxBuffered: 0 }),
    RangeError,
  );
});
