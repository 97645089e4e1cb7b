/**
 * RADIO/DISH over UDP: a RADIO publishes readings to groups as datagrams,
 * DISHes bound to UDP addresses keep the groups they joined. Over `udp://`
 * there is no connection and no handshake: a RADIO sends every message to
 * every address it connected to, one datagram each (libzmq's format: a
 * length byte, the group, the body), and each DISH filters by group. UDP
 * may lose datagrams on a real network; on the loopback interface here it
 * does not.
 *
 * - DISH "thermometer" binds `udp://127.0.0.1:0` and joins `temp`;
 * - DISH "everything" binds another address and joins `temp` and `wind`
 *   (on a LAN, bind `udp://eth0;239.192.1.1:5555`, a multicast group, on
 *   each host and connect the RADIO to it: one datagram reaches them all);
 * - the RADIO publishes `temp`, `wind` and `rain` readings, then `end`.
 *
 * Run: `deno run -A --unstable-net examples/radio_dish_udp.ts` (Deno's UDP
 * API, `Deno.listenDatagram`, needs `--unstable-net`).
 *
 * @module
 */

import { DishSocket, RadioSocket, text } from "../mod.ts";

await using thermometer = new DishSocket();
thermometer.join("temp", "end");
await thermometer.bind("udp://127.0.0.1:0"); // the DISH binds, as in libzmq

await using everything = new DishSocket();
everything.join("temp", "wind", "end");
await everything.bind("udp://127.0.0.1:0");

await using radio = new RadioSocket();
radio.connect(thermometer.lastEndpoint!); // the RADIO connects: no handshake, sends at once
radio.connect(everything.lastEndpoint!);

const readings: [group: string, value: string][] = [
  ["temp", "21.5"],
  ["wind", "12 km/h NW"],
  ["rain", "0 mm"], // nobody joined "rain": both DISHes drop it
  ["temp", "21.7"],
  ["wind", "15 km/h NW"],
];
for (const [group, value] of readings) await radio.send(value, { group });
await radio.send("", { group: "end" });

async function collect(name: string, dish: DishSocket): Promise<string[]> {
  const got: string[] = [];
  for await (const message of dish.messages({ signal: AbortSignal.timeout(10_000) })) {
    const group = text(message.group);
    if (group === "end") break;
    console.log(`${name} got ${group}: ${text(message[0])}`);
    got.push(group);
  }
  return got;
}

const [a, b] = await Promise.all([
  collect("thermometer", thermometer),
  collect("everything", everything),
]);
console.log(`radio_dish_udp: thermometer got ${a.length}, everything got ${b.length} over udp`);
