/**
 * RADIO and DISH (rfc.zeromq.org spec 48) over every transport, against
 * libzmq's src/radio.cpp and src/dish.cpp: exact-match groups of up to 15
 * bytes, JOIN/LEAVE commands resent on reconnect, the group frame then the
 * body on the wire, and hostile peers dropped.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type DishMessage, DishSocket, RadioSocket, text } from "../../mod.ts";
import { cat, command, greeting, message, RawPeer, ready } from "../reliability/_helpers.ts";
import {
  bindAny,
  eachTransport,
  freeEndpoint,
  nextEvents,
  rejectsWith,
  throwsWith,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * Publishes `probe` to `group` until `dish` receives it (a JOIN travels
 * asynchronously, and RADIO drops what nobody joined yet); bounded by WAIT.
 * Other messages received meanwhile are returned, in order.
 */
async function syncGroup(radio: RadioSocket, dish: DishSocket, group: string, probe = "probe") {
  const others: string[] = [];
  let received = dish.receive();
  received.catch(() => {});
  const deadline = Date.now() + WAIT;
  while (Date.now() < deadline) {
    await radio.send(probe, { group });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 10)));
    const got = await Promise.race([received, tick]);
    clearTimeout(timer);
    if (got === undefined) continue;
    if (text(got[0]) === probe && text(got.group) === group) return others;
    others.push(`${text(got.group)}:${text(got[0])}`);
    received = dish.receive();
    received.catch(() => {});
  }
  throw new Error(`No JOIN for ${group} reached the RADIO within ${WAIT} ms`);
}

/** Receives until a message that is not a late probe; returns `group:payload`. */
async function next(dish: DishSocket): Promise<string> {
  while (true) {
    const m = await withTimeout(dish.receive(), WAIT, "receive");
    if (!text(m[0]).startsWith("probe")) return `${text(m.group)}:${text(m[0])}`;
  }
}

eachTransport("RadioSocket delivers by exact group, never by prefix", async (t) => {
  await using radio = new RadioSocket();
  const ep = await bindAny(radio, t);
  await using short = new DishSocket();
  await using long = new DishSocket();
  short.join("a");
  long.join("ab");
  short.connect(ep);
  long.connect(ep);
  await syncGroup(radio, short, "a");
  await syncGroup(radio, long, "ab");
  await radio.send("to-ab", { group: "ab" });
  await radio.send("to-a", { group: "a" });
  await radio.send("to-nobody", { group: "" });
  await radio.send("last-a", { group: "a" });
  await radio.send("last-ab", { group: "ab" });
  assert.equal(await next(short), "a:to-a");
  assert.equal(await next(short), "a:last-a");
  assert.equal(await next(long), "ab:to-ab");
  assert.equal(await next(long), "ab:last-ab");
});

eachTransport("DishSocket stops receiving a group it leaves", async (t) => {
  await using radio = new RadioSocket();
  const ep = await bindAny(radio, t);
  await using dish = new DishSocket();
  dish.join("x", utf8("y"));
  dish.connect(ep);
  await syncGroup(radio, dish, "x");
  await syncGroup(radio, dish, "y");
  await radio.send("x1", { group: "x" });
  assert.equal(await next(dish), "x:x1");
  // What arrives after leave() is not delivered, even before the RADIO has
  // read the LEAVE: libzmq filters at receive (dish.cpp xxrecv).
  dish.leave("x");
  for (let i = 0; i < 3; i++) await radio.send(`late${i}`, { group: "x" });
  await radio.send("y2", { group: "y" });
  assert.equal(await next(dish), "y:y2");
});

eachTransport("DishSocket sends its joins again to a RADIO that restarts", async (t) => {
  const ep = freeEndpoint(t);
  await using dish = new DishSocket({ reconnectInterval: 20 });
  dish.join("g");
  {
    await using radio = new RadioSocket();
    await radio.bind(ep);
    dish.connect(radio.lastEndpoint!);
    await syncGroup(radio, dish, "g");
  }
  await using again = new RadioSocket();
  await again.bind(ep);
  await syncGroup(again, dish, "g"); // never joined again by the application
  await again.send("back", { group: "g" });
  assert.equal(await next(dish), "g:back");
});

eachTransport(
  "DishSocket yields DishMessage through for await, messages() and readable",
  async (t) => {
    await using radio = new RadioSocket();
    const ep = await bindAny(radio, t);
    await using dish = new DishSocket();
    dish.join("s");
    dish.connect(ep);
    await syncGroup(radio, dish, "s");
    for (const m of ["one", "two", "three"]) await radio.send(m, { group: "s" });
    const seen: DishMessage[] = [];
    for await (const m of dish) {
      if (text(m[0]) === "probe") continue;
      seen.push(m);
      if (seen.length === 1) break;
    }
    const it = dish.messages();
    for (let r = await it.next(); !r.done; r = await it.next()) {
      if (text(r.value[0]) === "probe") continue;
      seen.push(r.value);
      break;
    }
    await it.return?.();
    const reader = dish.readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      if (text(r.value[0]) === "probe") continue;
      seen.push(r.value);
      break;
    }
    reader.releaseLock();
    assert.deepEqual(seen.map((m) => [text(m.group), text(m[0]), m.length]), [
      ["s", "one", 1],
      ["s", "two", 1],
      ["s", "three", 1],
    ]);
  },
);

eachTransport("RadioSocket republishes a received DishMessage to its own group", async (t) => {
  await using upstream = new RadioSocket();
  const ep = await bindAny(upstream, t);
  await using relayIn = new DishSocket();
  relayIn.join("r");
  relayIn.connect(ep);
  await using relayOut = new RadioSocket();
  const ep2 = await bindAny(relayOut, t);
  await using sink = new DishSocket();
  sink.join("r");
  sink.connect(ep2);
  await syncGroup(upstream, relayIn, "r");
  await syncGroup(relayOut, sink, "r");
  await upstream.send("relayed", { group: "r" });
  const m = await relayIn.receive();
  const writer = relayOut.writable.getWriter();
  await writer.write(m); // the message's own group, as ServerSocket's routingId
  writer.releaseLock();
  assert.equal(await next(sink), "r:relayed");
});

Deno.test("RADIO and DISH refuse what libzmq refuses, at the call", async () => {
  await using radio = new RadioSocket();
  await using dish = new DishSocket();
  const max = "g".repeat(15);
  dish.join(max, utf8("bytes"));
  assert.throws(() => dish.join("g".repeat(16)), RangeError);
  assert.throws(() => dish.join("é".repeat(8)), RangeError); // 16 bytes in UTF-8
  assert.throws(() => dish.leave("g".repeat(16)), RangeError);
  assert.throws(() => dish.join(42 as unknown as string), TypeError);
  throwsWith(() => dish.join(max), "EINVAL"); // twice (dish.cpp xjoin)
  throwsWith(() => dish.leave("never"), "EINVAL"); // not joined (dish.cpp xleave)
  dish.leave(max);
  dish.join(max);
  await assert.rejects(radio.send("x", { group: "g".repeat(16) }), RangeError);
  await assert.rejects(radio.send("x"), TypeError);
  await rejectsWith(radio.send(["a", "b"], { group: "g" }), "EINVAL");
  await rejectsWith(radio.receive(), "ENOTSUP");
  await rejectsWith(dish.send("x"), "ENOTSUP");
  await radio.send("nobody listens", { group: max }); // dropped, not waiting
});

Deno.test("RadioSocket drops a peer that JOINs a 16-byte group and keeps serving others", async () => {
  await using radio = new RadioSocket();
  await radio.bind("tcp://127.0.0.1:0");
  const ep = radio.lastEndpoint!;
  await using raw = await RawPeer.connect(ep);
  await raw.write(greeting());
  await raw.readExactly(64);
  await raw.write(ready("DISH"));
  await raw.write(command("JOIN", utf8("0123456789abcdef")));
  // libzmq 4.3.5 aborts the process here (radio.cpp radio_session_t::push_msg, errno_assert).
  assert.equal(await raw.closedByRemote(), true);
  await using dish = new DishSocket();
  dish.join("ok");
  dish.connect(ep);
  await syncGroup(radio, dish, "ok");
});

Deno.test("RadioSocket writes the group frame then the body to a raw DISH that joined", async () => {
  await using radio = new RadioSocket();
  await radio.bind("tcp://127.0.0.1:0");
  await using raw = await RawPeer.connect(radio.lastEndpoint!);
  await raw.write(greeting());
  await raw.readExactly(64);
  await raw.write(ready("DISH"));
  await raw.write(command("JOIN", utf8("grp")));
  await raw.write(command("X-UNKNOWN", utf8("ignored")));
  const readyBytes = ready("RADIO");
  assert.deepEqual(await raw.readExactly(readyBytes.length), readyBytes);
  // The JOIN is processed once the RADIO read it: publish until a message comes out.
  const expected = message("grp", "body");
  const timer = setInterval(() => radio.send("body", { group: "grp" }).catch(() => {}), 10);
  try {
    assert.deepEqual(await raw.readExactly(expected.length), expected);
  } finally {
    clearInterval(timer);
  }
});

Deno.test("DishSocket sends JOIN commands and drops a RADIO message without a group frame", async () => {
  await using dish = new DishSocket();
  dish.join("grp");
  await dish.bind("tcp://127.0.0.1:0");
  await using raw = await RawPeer.connect(dish.lastEndpoint!);
  await raw.write(greeting());
  await raw.readExactly(64);
  await raw.write(ready("RADIO"));
  const expected = cat(ready("DISH"), command("JOIN", utf8("grp")));
  assert.deepEqual(await raw.readExactly(expected.length), expected);
  await raw.write(message("other", "not joined"));
  await raw.write(message("grp", "hello"));
  const m = await withTimeout(dish.receive(), WAIT, "receive");
  assert.deepEqual([text(m.group), text(m[0])], ["grp", "hello"]);
  await raw.write(message("no group frame")); // dish.cpp dish_session_t::push_msg: EFAULT
  assert.equal(await raw.closedByRemote(), true);
});

Deno.test("DishSocket drops a RADIO whose group frame is over 15 bytes", async () => {
  await using dish = new DishSocket();
  dish.join("grp");
  await dish.bind("tcp://127.0.0.1:0");
  await using raw = await RawPeer.connect(dish.lastEndpoint!);
  await raw.write(greeting());
  await raw.readExactly(64);
  await raw.write(ready("RADIO"));
  await raw.write(message("0123456789abcdef", "x"));
  assert.equal(await raw.closedByRemote(), true);
});

Deno.test("RadioSocket drops a peer that joins more than 10 000 groups and keeps serving others", async () => {
  await using radio = new RadioSocket();
  await radio.bind("tcp://127.0.0.1:0");
  const ep = radio.lastEndpoint!;
  await using raw = await RawPeer.connect(ep);
  await raw.write(greeting());
  await raw.readExactly(64);
  await raw.write(ready("DISH"));
  // At the bound, joining a group again and leaving then joining another are fine.
  const joins: Uint8Array[] = [];
  for (let i = 0; i < 10_000; i++) joins.push(command("JOIN", utf8(`g${i}`)));
  joins.push(command("JOIN", utf8("g0")));
  joins.push(command("LEAVE", utf8("g1")), command("JOIN", utf8("other")));
  await raw.write(cat(...joins));
  // The RADIO saw them all once a message to the last group comes out.
  const expected = message("other", "body");
  const readyBytes = ready("RADIO");
  assert.deepEqual(await raw.readExactly(readyBytes.length), readyBytes);
  const timer = setInterval(() => radio.send("body", { group: "other" }).catch(() => {}), 10);
  try {
    assert.deepEqual(await raw.readExactly(expected.length), expected);
  } finally {
    clearInterval(timer);
  }
  const dropped = nextEvents(radio, "disconnected");
  await raw.write(command("JOIN", utf8("one too many")));
  // Messages to "other" may still be in flight: the close is what counts.
  assert.equal(await raw.closedByRemote(), true);
  const [ev] = await dropped;
  assert.equal(ev.error.code, "EPROTO");
  assert.match(ev.error.message, /more than 10000 groups/);
  await using dish = new DishSocket();
  dish.join("ok");
  dish.connect(ep);
  await syncGroup(radio, dish, "ok");
});
