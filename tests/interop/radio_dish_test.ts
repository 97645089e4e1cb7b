/**
 * RADIO/DISH (spec 48) against real libzmq built with drafts (zeromq.js
 * 6.8.0's `zeromq/draft` Radio and Dish under Node, libzmq 4.3.5), both role
 * directions over tcp: the JOIN command, the group frame then the body, and
 * exact-match filtering. `udp://` is in udp_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DishSocket, RadioSocket, text } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";

const WAIT = 10_000;

Deno.test("RadioSocket publishes by group to a libzmq DISH (zeromq.js draft)", async () => {
  await using radio = new RadioSocket();
  await radio.bind("tcp://127.0.0.1:0");
  await using dish = await Peer.start({
    impl: "zeromqjs",
    type: "DISH",
    connect: radio.lastEndpoint!,
    options: { join: ["weather", "x"] },
  });
  // The DISH's JOIN reaches us asynchronously: publish probes until one lands.
  const deadline = Date.now() + WAIT;
  let synced = false;
  while (!synced && Date.now() < deadline) {
    await radio.send("probe", { group: "weather" });
    synced = (await dish.recv(20)) !== undefined;
  }
  assert.ok(synced, "the libzmq DISH's JOIN reached the RADIO");
  await radio.send("not joined", { group: "weathe" });
  await radio.send("not joined either", { group: "weather!" });
  await radio.send("sunny", { group: "weather" });
  await radio.send("other", { group: "x" });
  const got: string[] = [];
  while (got.length < 2) {
    const m = await dish.recv(WAIT);
    assert.ok(m !== undefined, "a message within the wait");
    if (text(m[0]) !== "probe") got.push(`${text(m.group!)}:${text(m[0])}`);
  }
  assert.deepEqual(got, ["weather:sunny", "x:other"]);
});

Deno.test("DishSocket joins and receives from a libzmq RADIO (zeromq.js draft)", async () => {
  await using radio = await Peer.start({
    impl: "zeromqjs",
    type: "RADIO",
    bind: "tcp://127.0.0.1:0",
  });
  await using dish = new DishSocket();
  dish.join("weather", "x");
  dish.connect(radio.endpoint);
  const deadline = Date.now() + WAIT;
  let synced = false;
  while (!synced && Date.now() < deadline) {
    await radio.send(["probe"], { group: "weather" });
    // Aborted, not abandoned: a receive left pending would take a later message.
    synced = await dish.receive({ signal: AbortSignal.timeout(20) }).then(() => true, () => false);
  }
  assert.ok(synced, "our JOIN reached the libzmq RADIO");
  dish.leave("x");
  await radio.send(["not joined"], { group: "weathe" });
  await radio.send(["left"], { group: "x" });
  await radio.send(["sunny"], { group: "weather" });
  while (true) {
    const m = await withTimeout(dish.receive(), WAIT, "receive");
    if (text(m[0]) === "probe") continue;
    assert.deepEqual([text(m.group), text(m[0]), m.length], ["weather", "sunny", 1]);
    break;
  }
});
