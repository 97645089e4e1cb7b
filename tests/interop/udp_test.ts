/**
 * RADIO/DISH over `udp://` against real libzmq built with drafts
 * (zeromq.js 6.8.0's `zeromq/draft` Radio and Dish under Node, libzmq
 * 4.3.5), both role directions, unicast and multicast on the loopback
 * interface: libzmq's datagram (length byte, group, body; src/udp_engine.cpp),
 * its address grammar, and DISH-side group filtering. libzmq binds a udp
 * DISH in its I/O thread after `bind()` returns, and there is no handshake
 * to wait for, so each test publishes probes until one lands. Needs
 * `--unstable-net` (Deno.listenDatagram); skipped without it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type DishMessage, DishSocket, RadioSocket, text } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";

const WAIT = 10_000;
const UDP = typeof (Deno as { listenDatagram?: unknown }).listenDatagram === "function";

/** A UDP port free now on 127.0.0.1 (libzmq reports no resolved port for `udp://...:0`). */
function freeUdpPort(): number {
  const conn = (Deno as unknown as {
    listenDatagram(o: { transport: "udp"; hostname: string; port: number }): {
      addr: { port: number };
      close(): void;
    };
  }).listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = conn.addr.port;
  conn.close();
  return port;
}

function randomGroupAddress(): string {
  return `239.255.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
}

/** Monocoque RADIO → libzmq DISH bound at `endpoint`, which joined "weather" and "x". */
async function radioToLibzmq(endpoint: string): Promise<void> {
  await using dish = await Peer.start({
    impl: "zeromqjs",
    type: "DISH",
    bind: endpoint,
    options: { join: ["weather", "x"] },
  });
  await using radio = new RadioSocket();
  radio.connect(endpoint);
  const deadline = Date.now() + WAIT;
  let synced = false;
  while (!synced && Date.now() < deadline) {
    await radio.send("probe", { group: "weather" });
    synced = (await dish.recv(20)) !== undefined;
  }
  assert.ok(synced, "a datagram reached the libzmq DISH");
  await radio.send("not joined", { group: "weathe" });
  await radio.send("sunny", { group: "weather" });
  await radio.send(new Uint8Array(0), { group: "x" });
  await radio.send(new Uint8Array(8000).fill(0x41), { group: "x" });
  const got: string[] = [];
  while (got.length < 3) {
    const m = await dish.recv(WAIT);
    assert.ok(m !== undefined, "a message within the wait");
    if (text(m[0]) === "probe") continue;
    assert.equal(m.length, 1);
    const body = text(m[0]);
    got.push(`${text(m.group!)}:${body.length > 16 ? `A×${body.length}` : body}`);
  }
  assert.deepEqual(got, ["weather:sunny", "x:", "x:A×8000"]);
}

/** libzmq RADIO connected to `endpoint` → Monocoque DISH bound there. */
async function libzmqToDish(bindTo: string, connectTo: (bound: string) => string): Promise<void> {
  await using dish = new DishSocket();
  dish.join("weather", "x");
  await dish.bind(bindTo);
  await using radio = await Peer.start({
    impl: "zeromqjs",
    type: "RADIO",
    connect: connectTo(dish.lastEndpoint!),
  });
  const deadline = Date.now() + WAIT;
  let synced = false;
  while (!synced && Date.now() < deadline) {
    await radio.send(["probe"], { group: "weather" });
    synced = await dish.receive({ signal: AbortSignal.timeout(20) }).then(() => true, () => false);
  }
  assert.ok(synced, "a libzmq datagram reached our DISH");
  dish.leave("x");
  await radio.send(["not joined"], { group: "weathe" });
  await radio.send(["left"], { group: "x" });
  await radio.send(["sunny"], { group: "weather" });
  await radio.send([new Uint8Array(8000).fill(0x42)], { group: "weather" });
  const got: DishMessage[] = [];
  while (got.length < 2) {
    const m = await withTimeout(dish.receive(), WAIT, "receive");
    if (text(m[0]) !== "probe") got.push(m);
  }
  assert.deepEqual([text(got[0].group), text(got[0][0]), got[0].length], ["weather", "sunny", 1]);
  assert.deepEqual([text(got[1].group), got[1][0].length, got[1][0][7999]], [
    "weather",
    8000,
    0x42,
  ]);
}

Deno.test({
  name: "RadioSocket publishes over udp unicast to a libzmq DISH (zeromq.js draft)",
  ignore: !UDP,
  fn: () => radioToLibzmq(`udp://127.0.0.1:${freeUdpPort()}`),
});

Deno.test({
  name: "RadioSocket publishes over udp multicast to a libzmq DISH (zeromq.js draft)",
  ignore: !UDP,
  fn: () => radioToLibzmq(`udp://127.0.0.1;${randomGroupAddress()}:${freeUdpPort()}`),
});

Deno.test({
  name: "DishSocket receives over udp unicast from a libzmq RADIO (zeromq.js draft)",
  ignore: !UDP,
  fn: () => libzmqToDish("udp://127.0.0.1:0", (bound) => bound),
});

Deno.test({
  name: "DishSocket receives over udp multicast from a libzmq RADIO (zeromq.js draft)",
  ignore: !UDP,
  fn: () => libzmqToDish(`udp://127.0.0.1;${randomGroupAddress()}:0`, (bound) => bound),
});
