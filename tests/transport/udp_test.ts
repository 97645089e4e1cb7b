/**
 * The `udp://` address grammar (libzmq's src/udp_address.cpp) and the Deno
 * datagram transport under it. The transport tests need `--unstable-net`
 * (Deno.listenDatagram); without it they are skipped, and the transport says
 * `EPROTONOSUPPORT`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ZmqError } from "../../mod.ts";
import { formatEndpoint, parseEndpoint } from "../../src/transport/endpoint.ts";
import { datagramTransportFor, isDatagramEndpoint } from "../../src/transport/datagram.ts";
import { transportFor } from "../../src/transport/registry.ts";
import { type UdpEndpoint, UdpTransport } from "../../src/transport/udp.ts";
import { withTimeout } from "../_util/timeout.ts";

const UDP = typeof (Deno as { listenDatagram?: unknown }).listenDatagram === "function";
const WAIT = 5000;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ZmqError ? e.code : `not a ZmqError: ${e}`;
  }
  return undefined;
}

Deno.test("udp:// parses libzmq's unicast, multicast and interface forms", () => {
  const cases: [string, "bind" | "connect", Partial<UdpEndpoint>][] = [
    ["udp://127.0.0.1:5555", "connect", { host: "127.0.0.1", port: 5555 }],
    ["udp://*:0", "bind", { host: "*", port: 0 }],
    ["udp://*:*", "bind", { host: "*", port: 0 }],
    ["udp://localhost:5555", "connect", { host: "localhost", port: 5555 }],
    ["udp://[::1]:5555", "bind", { host: "::1", port: 5555 }],
    ["udp://239.0.0.1:5555", "connect", { host: "239.0.0.1", port: 5555 }],
    ["udp://127.0.0.1;239.0.0.1:5555", "bind", { host: "239.0.0.1", iface: "127.0.0.1" }],
    ["udp://*;224.0.0.251:5353", "connect", { host: "224.0.0.251", iface: "*" }],
    ["udp://eth0;239.1.2.3:7", "bind", { host: "239.1.2.3", iface: "eth0" }],
  ];
  for (const [text, use, expected] of cases) {
    const e = parseEndpoint(text, use) as unknown as UdpEndpoint;
    assert.equal(e.transport, "udp", text);
    for (const [k, v] of Object.entries(expected)) {
      assert.equal(e[k as keyof UdpEndpoint], v, `${text} ${k}`);
    }
  }
  assert.equal(
    formatEndpoint(parseEndpoint("udp://127.0.0.1;239.0.0.1:5555")),
    "udp://127.0.0.1;239.0.0.1:5555",
  );
  assert.equal(formatEndpoint(parseEndpoint("udp://[::1]:5")), "udp://[::1]:5");
});

Deno.test("udp:// refuses what libzmq refuses with EINVAL", () => {
  const bad: [string, "bind" | "connect"][] = [
    ["udp://127.0.0.1", "bind"], // no port
    ["udp://127.0.0.1:65536", "bind"],
    ["udp://:5555", "bind"],
    ["udp://*:5555", "connect"], // a wildcard to send to
    ["udp://127.0.0.1:0", "connect"],
    ["udp://127.0.0.1;127.0.0.2:5555", "bind"], // an interface with a unicast address
    ["udp://239.0.0.2;239.0.0.1:5555", "bind"], // a multicast interface
    ["udp://[ff02::1]:5555", "bind"], // IPv6 multicast: not supported
    ["udp://::1:5555", "bind"],
    ["udp://a b:5", "bind"],
  ];
  for (const [text, use] of bad) assert.equal(code(() => parseEndpoint(text, use)), "EINVAL", text);
});

Deno.test("udp:// has no byte-stream transport: other sockets get ENOCOMPATPROTO", () => {
  assert.ok(isDatagramEndpoint("udp://127.0.0.1:5555"));
  assert.ok(!isDatagramEndpoint("tcp://127.0.0.1:5555"));
  assert.ok(!isDatagramEndpoint(42 as unknown as string));
  assert.equal(
    code(() => transportFor(parseEndpoint("udp://127.0.0.1:5", "connect"))),
    "ENOCOMPATPROTO",
  );
  assert.equal(datagramTransportFor(parseEndpoint("tcp://127.0.0.1:5", "connect")), undefined);
});

Deno.test({
  name: "Without Deno.listenDatagram the udp transport is EPROTONOSUPPORT, saying which flag",
  ignore: UDP,
  fn() {
    try {
      new UdpTransport();
      assert.fail("constructed");
    } catch (e) {
      assert.ok(e instanceof ZmqError && e.code === "EPROTONOSUPPORT");
      assert.match(e.message, /--unstable-net/);
    }
  },
});

Deno.test({
  name: "UdpTransport carries a datagram to a bound receiver and names the sender",
  ignore: !UDP,
  async fn() {
    const udp = new UdpTransport();
    const receiver = await udp.listen({ transport: "udp", host: "127.0.0.1", port: 0 });
    assert.match(receiver.endpoint, /^udp:\/\/127\.0\.0\.1:[1-9][0-9]*$/);
    const port = Number(receiver.endpoint.split(":").at(-1));
    const sender = await udp.connect({ transport: "udp", host: "127.0.0.1", port });
    const big = new Uint8Array(60_000).fill(7);
    await sender.send(new Uint8Array([1, 2, 3]));
    await sender.send(big);
    const first = await withTimeout(receiver.receive(), WAIT, "receive");
    assert.deepEqual([...first!.data], [1, 2, 3]);
    assert.match(first!.remote, /^udp:\/\/127\.0\.0\.1:[0-9]+$/);
    const second = await withTimeout(receiver.receive(), WAIT, "receive");
    assert.equal(second!.data.length, big.length, "not cut short at Deno's default buffer");
    sender.close();
    sender.close();
    const pending = receiver.receive();
    receiver.close();
    receiver.close();
    assert.equal(await pending, null, "a pending receive ends with null on close");
    assert.equal(await receiver.receive(), null);
  },
});

Deno.test({
  name: "UdpTransport: a second receiver on the same unicast port is EADDRINUSE",
  ignore: !UDP,
  async fn() {
    const udp = new UdpTransport();
    const receiver = await udp.listen({ transport: "udp", host: "127.0.0.1", port: 0 });
    const port = Number(receiver.endpoint.split(":").at(-1));
    await assert.rejects(
      udp.listen({ transport: "udp", host: "127.0.0.1", port }),
      (e) => e instanceof ZmqError && e.code === "EADDRINUSE",
    );
    receiver.close();
  },
});

Deno.test({
  name: "UdpTransport joins a multicast group on the loopback interface, two receivers share it",
  ignore: !UDP,
  async fn() {
    const udp = new UdpTransport();
    const group = `239.255.${Math.floor(Math.random() * 250)}.${
      1 + Math.floor(Math.random() * 250)
    }`;
    const a = await udp.listen({ transport: "udp", host: group, port: 0, iface: "127.0.0.1" });
    const port = Number(a.endpoint.split(":").at(-1));
    assert.equal(a.endpoint, `udp://127.0.0.1;${group}:${port}`);
    const b = await udp.listen({ transport: "udp", host: group, port, iface: "127.0.0.1" });
    const sender = await udp.connect({ transport: "udp", host: group, port, iface: "127.0.0.1" });
    await sender.send(new Uint8Array([42]));
    for (const r of [a, b]) {
      const got = await withTimeout(r.receive(), WAIT, "multicast receive");
      assert.deepEqual([...got!.data], [42]);
    }
    sender.close();
    a.close();
    b.close();
  },
});

Deno.test({
  name: "UdpTransport: an interface that is not local is EADDRNOTAVAIL",
  ignore: !UDP,
  async fn() {
    const udp = new UdpTransport();
    await assert.rejects(
      udp.listen({ transport: "udp", host: "239.1.1.1", port: 0, iface: "no-such-nic0" }),
      (e) => e instanceof ZmqError && e.code === "EADDRNOTAVAIL",
    );
    await assert.rejects(
      udp.connect({ transport: "udp", host: "239.1.1.1", port: 5, iface: "192.0.2.77" }),
      (e) => e instanceof ZmqError && e.code === "EADDRNOTAVAIL",
    );
  },
});
