/**
 * RADIO and DISH over `udp://` between Monocoque sockets: libzmq's datagram
 * format and roles (DISH binds, RADIO connects; src/udp_engine.cpp,
 * src/socket_base.cpp), unicast and multicast on the loopback interface,
 * group filtering, hostile datagrams dropped with an event, and bounded
 * queues on both sides. Needs `--unstable-net` (Deno.listenDatagram, as the
 * test task passes); without it these tests are skipped.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type DishMessage,
  DishSocket,
  PullSocket,
  PushSocket,
  RadioSocket,
  text,
} from "../../mod.ts";
import { liveMemory } from "../_util/memory.ts";
import { nextEvents, rejectsWith, throwsWith, WAIT, withTimeout } from "./_helpers.ts";

const UDP = typeof (Deno as { listenDatagram?: unknown }).listenDatagram === "function";

/** A test that needs Deno's UDP API. */
function udpTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !UDP, fn });
}

interface RawUdp {
  send(
    data: Uint8Array,
    addr: { transport: "udp"; hostname: string; port: number },
  ): Promise<number>;
  close(): void;
}

/** A plain UDP socket, for hostile datagrams. */
function rawUdp(): RawUdp {
  return (Deno as unknown as {
    listenDatagram(o: { transport: "udp"; hostname: string; port: number }): RawUdp;
  }).listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
}

function randomGroupAddress(): string {
  return `239.255.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
}

const receive = (dish: DishSocket): Promise<DishMessage> =>
  withTimeout(dish.receive(), WAIT, "DISH receive");

const show = (m: DishMessage) => `${text(m.group)}:${text(m[0])}`;

udpTest("RadioSocket → DishSocket over udp unicast: exact groups, one frame each", async () => {
  await using dish = new DishSocket();
  dish.join("weather", "x");
  await dish.bind("udp://127.0.0.1:0");
  assert.match(dish.lastEndpoint!, /^udp:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
  await using radio = new RadioSocket();
  radio.connect(dish.lastEndpoint!);
  assert.equal(radio.lastEndpoint, dish.lastEndpoint);
  // No handshake: sent at once, in order, and filtered by the DISH (src/dish.cpp xxrecv).
  await radio.send("not joined", { group: "weathe" });
  await radio.send("sunny", { group: "weather" });
  await radio.send("also not", { group: "weather!" });
  await radio.send(new Uint8Array(0), { group: "x" });
  await radio.send("last", { group: "weather" });
  const first = await receive(dish);
  assert.equal(first.length, 1);
  assert.equal(show(first), "weather:sunny");
  assert.equal(show(await receive(dish)), "x:");
  assert.equal(show(await receive(dish)), "weather:last");
});

udpTest("RadioSocket → DishSocket over udp multicast on the loopback interface", async () => {
  const group = randomGroupAddress();
  await using a = new DishSocket();
  await using b = new DishSocket();
  a.join("m");
  b.join("m");
  await a.bind(`udp://127.0.0.1;${group}:0`);
  const endpoint = a.lastEndpoint!;
  assert.equal(endpoint, `udp://127.0.0.1;${group}:${portOf(endpoint)}`);
  await b.bind(endpoint); // several DISHes of one host share the group
  await using radio = new RadioSocket();
  radio.connect(endpoint);
  await radio.send("to all", { group: "m" });
  assert.equal(show(await receive(a)), "m:to all");
  assert.equal(show(await receive(b)), "m:to all");
});

udpTest("DishSocket over udp does not deliver a group it left, queued or not", async () => {
  await using dish = new DishSocket();
  dish.join("a", "b");
  await dish.bind("udp://127.0.0.1:0");
  await using radio = new RadioSocket();
  radio.connect(dish.lastEndpoint!);
  await radio.send("a1", { group: "a" });
  await radio.send("b1", { group: "b" });
  assert.equal(show(await receive(dish)), "a:a1");
  dish.leave("b"); // b1 may already be queued: it is filtered at receive too
  await radio.send("b2", { group: "b" });
  await radio.send("a2", { group: "a" });
  assert.equal(show(await receive(dish)), "a:a2");
});

udpTest("DishSocket drops malformed datagrams with an event and keeps receiving", async () => {
  await using dish = new DishSocket();
  dish.join("g");
  await dish.bind("udp://127.0.0.1:0");
  const port = portOf(dish.lastEndpoint!);
  const raw = rawUdp();
  try {
    const hostile = [
      new Uint8Array(0), // empty
      new Uint8Array([16, ...new Uint8Array(20)]), // a 16-byte group: over spec 48's 15
      new Uint8Array([0x80]), // aborts a libzmq 4.3.5 DISH (a signed length byte)
      new Uint8Array([255, 1, 2]),
      new Uint8Array([5, 0x67]), // shorter than its group
    ];
    const dropped = nextEvents(dish, "datagramDropped", hostile.length);
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
    for (const d of hostile) await raw.send(d, to);
    await raw.send(new Uint8Array([1, 0x67, 0x6f, 0x6b]), to); // group "g", body "ok"
    const events = await dropped;
    for (const e of events) {
      assert.equal(e.error.code, "EPROTO");
      assert.equal(e.endpoint, dish.lastEndpoint);
      assert.match(e.remote, /^udp:\/\/127\.0\.0\.1:[0-9]+$/);
    }
    assert.match(events[1].reason, /16-byte group/);
    assert.match(events[2].reason, /128-byte group/);
    assert.equal(show(await receive(dish)), "g:ok");
  } finally {
    raw.close();
  }
});

udpTest("RadioSocket drops a message over libzmq's 8192-byte datagram, with an event", async () => {
  await using dish = new DishSocket();
  dish.join("g");
  await dish.bind("udp://127.0.0.1:0");
  await using radio = new RadioSocket();
  radio.connect(dish.lastEndpoint!);
  const dropped = nextEvents(radio, "datagramDropped");
  await radio.send(new Uint8Array(8191), { group: "g" }); // 1 + 1 + 8191 bytes: resolves, not sent
  const [event] = await dropped;
  assert.equal(event.error.code, "EMSGSIZE");
  assert.equal(event.endpoint, dish.lastEndpoint);
  await radio.send(new Uint8Array(8190).fill(1), { group: "g" }); // exactly 8192 bytes
  const m = await receive(dish);
  assert.equal(m[0].length, 8190);
});

udpTest(
  "udp:// is ENOCOMPATPROTO where libzmq refuses it: RADIO bind, DISH connect, other types",
  async () => {
    await using radio = new RadioSocket();
    await using dish = new DishSocket();
    await using push = new PushSocket();
    await using pull = new PullSocket();
    await rejectsWith(radio.bind("udp://127.0.0.1:0"), "ENOCOMPATPROTO");
    throwsWith(() => dish.connect("udp://127.0.0.1:5555"), "ENOCOMPATPROTO");
    throwsWith(() => push.connect("udp://127.0.0.1:5555"), "ENOCOMPATPROTO");
    await rejectsWith(pull.bind("udp://127.0.0.1:0"), "ENOCOMPATPROTO");
    throwsWith(() => radio.connect("udp://*:5555"), "EINVAL");
    await rejectsWith(dish.bind("udp://127.0.0.1;127.0.0.2:5555"), "EINVAL");
  },
);

udpTest("DishSocket unbinds a udp endpoint by either name and frees its port", async () => {
  await using dish = new DishSocket();
  dish.join("g");
  await dish.bind("udp://127.0.0.1:0");
  const resolved = dish.lastEndpoint!;
  const closed = nextEvents(dish, "closed");
  await dish.unbind(resolved);
  assert.equal((await closed)[0].endpoint, resolved);
  await rejectsWith(dish.unbind(resolved), "ENOENT");
  await dish.bind(resolved); // the port is free again
  await using other = new DishSocket();
  await rejectsWith(other.bind(resolved), "EADDRINUSE");
  await dish.unbind(resolved);
  await dish.bind("udp://127.0.0.1:0");
  await dish.unbind("udp://127.0.0.1:0"); // as requested
});

udpTest("RadioSocket disconnects a udp endpoint; ENOENT for one it never connected", async () => {
  await using radio = new RadioSocket();
  throwsWith(() => radio.disconnect("udp://127.0.0.1:5555"), "ENOENT");
  const connected = nextEvents(radio, "connected");
  radio.connect("udp://127.0.0.1:5555");
  throwsWith(() => radio.connect("udp://127.0.0.1:5555"), "EINVAL");
  assert.equal((await connected)[0].endpoint, "udp://127.0.0.1:5555");
  radio.disconnect("udp://127.0.0.1:5555");
  await radio.send("after", { group: "g" }); // nowhere to go: dropped, no error
  radio.connect("udp://127.0.0.1:5555");
});

udpTest(
  "RadioSocket: an unusable interface is a connectDelayed event, and sends still resolve",
  async () => {
    await using radio = new RadioSocket();
    const delayed = nextEvents(radio, "connectDelayed");
    radio.connect("udp://192.0.2.77;239.1.1.1:5555"); // TEST-NET-1: not an address of this host
    const [event] = await delayed;
    assert.equal((event.error as { code?: string }).code, "EADDRNOTAVAIL");
    await radio.send("dropped", { group: "g" });
  },
);

udpTest("RadioSocket's close sends what it queued for udp first (linger)", async () => {
  await using dish = new DishSocket();
  dish.join("g");
  await dish.bind("udp://127.0.0.1:0");
  const radio = new RadioSocket();
  radio.connect(dish.lastEndpoint!);
  for (let i = 0; i < 50; i++) await radio.send(`m${i}`, { group: "g" });
  await radio.close();
  for (let i = 0; i < 50; i++) assert.equal(text((await receive(dish))[0]), `m${i}`);
});

udpTest(
  "RadioSocket never waits on udp: sends past the high-water mark resolve and are dropped",
  async () => {
    await using radio = new RadioSocket({ sendHighWaterMark: 4, linger: 0 });
    radio.connect("udp://127.0.0.1:9"); // discard port: nobody reads
    const before = liveMemory();
    let peak = 0;
    for (let i = 1; i <= 20_000; i++) {
      await radio.send(new Uint8Array(4096), { group: "g" });
      if (i % 2000 === 0) peak = Math.max(peak, liveMemory() - before);
    }
    assert.ok(peak < 8 * 1024 * 1024, `memory grew by up to ${peak} bytes while sending 80 MB`);
  },
);

udpTest(
  "DishSocket stops reading a udp endpoint at its high-water mark: memory stays bounded",
  async () => {
    await using dish = new DishSocket({ receiveHighWaterMark: 8 });
    dish.join("g");
    await dish.bind("udp://127.0.0.1:0");
    const port = portOf(dish.lastEndpoint!);
    const raw = rawUdp();
    try {
      const datagram = new Uint8Array(60_000);
      datagram.set([1, 0x67]); // group "g"
      const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
      const before = liveMemory();
      // 30 MB offered while nobody receives, paced so the DISH could read every datagram:
      // it reads 8, then what it does not read the kernel drops.
      for (let i = 0; i < 500; i++) {
        await raw.send(datagram, to);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const growth = liveMemory() - before;
      assert.ok(growth < 8 * 1024 * 1024, `memory grew by ${growth} bytes`);
      // It still serves: drain, then a marker gets through.
      const marker = new Uint8Array([1, 0x67, 0x21]);
      const deadline = Date.now() + WAIT;
      let seen = false;
      while (!seen && Date.now() < deadline) {
        await raw.send(marker, to);
        const m = await dish.receive({ signal: AbortSignal.timeout(WAIT) });
        seen = m[0].length === 1;
      }
      assert.ok(seen, "the marker arrived after the backlog");
    } finally {
      raw.close();
    }
  },
);

udpTest(
  "DishSocket receives from a udp endpoint and tcp peers together, each in order",
  async () => {
    await using dish = new DishSocket();
    dish.join("g");
    await dish.bind("udp://127.0.0.1:0");
    const udpEndpoint = dish.lastEndpoint!;
    await dish.bind("tcp://127.0.0.1:0");
    await using overTcp = new RadioSocket();
    overTcp.connect(dish.lastEndpoint!);
    // The JOIN travels over tcp: probe until one lands.
    const deadline = Date.now() + WAIT;
    let synced = false;
    while (!synced && Date.now() < deadline) {
      await overTcp.send("tcp-probe", { group: "g" });
      synced = await dish.receive({ signal: AbortSignal.timeout(20) }).then(
        () => true,
        () => false,
      );
    }
    assert.ok(synced, "the JOIN reached the tcp RADIO");
    await using overUdp = new RadioSocket();
    overUdp.connect(udpEndpoint);
    for (let i = 0; i < 20; i++) {
      await overUdp.send(`udp${i}`, { group: "g" });
    }
    for (let i = 0; i < 20; i++) await overTcp.send(`tcp${i}`, { group: "g" });
    const got: string[] = [];
    while (got.length < 40) {
      const m = text((await receive(dish))[0]);
      if (!m.includes("probe")) got.push(m);
    }
    assert.deepEqual(
      got.filter((m) => m.startsWith("udp")),
      [...Array(20)].map((_, i) => `udp${i}`),
    );
    assert.deepEqual(
      got.filter((m) => m.startsWith("tcp")),
      [...Array(20)].map((_, i) => `tcp${i}`),
    );
  },
);

udpTest("DishSocket over udp serves for await and readable like any other endpoint", async () => {
  await using dish = new DishSocket();
  dish.join("g");
  await dish.bind("udp://127.0.0.1:0");
  await using radio = new RadioSocket();
  radio.connect(dish.lastEndpoint!);
  for (const body of ["one", "two", "three"]) await radio.send(body, { group: "g" });
  const seen: string[] = [];
  for await (const m of dish.messages({ signal: AbortSignal.timeout(WAIT) })) {
    seen.push(show(m));
    if (seen.length === 2) break;
  }
  const reader = dish.readableStream().getReader();
  const { value } = await withTimeout(reader.read(), WAIT, "readable");
  await reader.cancel();
  assert.deepEqual([...seen, show(value!)], ["g:one", "g:two", "g:three"]);
});

udpTest("with peerMetadata a udp message carries no tcp peer's metadata", async () => {
  await using dish = new DishSocket({ peerMetadata: true });
  dish.join("g");
  await dish.bind("udp://127.0.0.1:0");
  const udpEndpoint = dish.lastEndpoint!;
  await dish.bind("tcp://127.0.0.1:0");
  await using overTcp = new RadioSocket();
  overTcp.connect(dish.lastEndpoint!);
  // The JOIN travels over tcp: probe until one lands; that message has a peer.
  const deadline = Date.now() + WAIT;
  let fromTcp: DishMessage | undefined;
  while (fromTcp === undefined && Date.now() < deadline) {
    await overTcp.send("tcp-probe", { group: "g" });
    fromTcp = await dish.receive({ signal: AbortSignal.timeout(20) }).catch(() => undefined);
  }
  assert.ok(fromTcp?.peer !== undefined, "a tcp message carries its peer's metadata");
  await using overUdp = new RadioSocket();
  overUdp.connect(udpEndpoint);
  await overUdp.send("udp", { group: "g" });
  for (;;) {
    const m = await receive(dish);
    if (text(m[0]) !== "udp") continue;
    assert.equal(m.peer, undefined);
    break;
  }
});
