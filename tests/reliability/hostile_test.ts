/**
 * Hostile input over real TCP: a corpus of broken, malicious and idle byte
 * streams is fired at a bound Monocoque ROUTER, PUB and REP. Each one must
 * drop only its own connection with a reason (handshakeFailed and/or
 * disconnected), while a well-behaved libzmq peer (pyzmq DEALER, SUB, REQ)
 * connected to the same socket keeps being served, and nothing is thrown
 * into user code.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PubSocket, RepSocket, RouterSocket } from "../../mod.ts";
import type { Socket, SocketEvent } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import {
  brief,
  cat,
  command,
  EventLog,
  frame,
  greeting,
  message,
  metadata,
  ofType,
  RawPeer,
  ready,
  text,
  ThrowGuard,
  utf8,
} from "./_helpers.ts";

type Target = "ROUTER" | "PUB" | "REP";

interface HostileCase {
  name: string;
  /** Chunks written one after the other. */
  chunks: Uint8Array[];
  /** Close our side after writing (else wait for the socket to drop us). */
  close: boolean;
  /** The socket must report a handshake failure (else only a disconnect is required). */
  handshakeFailed: boolean;
}

/** The socket type a well-behaved peer of `target` announces. */
const GOOD_PEER: Record<Target, "DEALER" | "SUB" | "REQ"> = {
  ROUTER: "DEALER",
  PUB: "SUB",
  REP: "REQ",
};

/** A valid greeting and READY for `target`: the prefix of post-handshake attacks. */
function handshake(target: Target): Uint8Array {
  return cat(greeting(), ready(GOOD_PEER[target]));
}

/** Long frame header declaring `size` octets (as a bigint, to reach 2^63). */
function longHeader(flags: number, size: bigint): Uint8Array {
  const head = new Uint8Array(9);
  head[0] = flags | 0x02;
  new DataView(head.buffer).setBigUint64(1, size);
  return head;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function corpus(target: Target): HostileCase[] {
  const hs = handshake(target);
  const valid = GOOD_PEER[target];
  // A 4-octet value length far beyond the command body.
  const badValueLength = cat([11], utf8("Socket-Type"), [0xff, 0xff, 0xff, 0xff], utf8(valid));
  const tinyFlood = new Uint8Array(100_000 * 3);
  for (let i = 0; i < tinyFlood.length; i += 3) tinyFlood.set([0x01, 1, 0x78], i); // MORE, 1 octet
  const longVersion1 = new Uint8Array(10); // 0xFF, 8-octet length, flags octet with bit 0 clear
  longVersion1[0] = 0xff;
  longVersion1[8] = 2;
  const version2 = cat([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0x01, 0x05], [0x00, 0x00]);
  return [
    {
      name: "HTTP request instead of a greeting",
      chunks: [utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "bad signature (0xFE)",
      chunks: [cat([0xfe], greeting().subarray(1))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "bad signature (no 0x7F)",
      chunks: [cat(greeting().subarray(0, 9), [0x00], greeting().subarray(10))],
      close: false,
      handshakeFailed: true,
    },
    { name: "ZMTP 2.0 greeting", chunks: [version2], close: false, handshakeFailed: true },
    {
      name: "ZMTP 1.0 greeting (short identity frame)",
      chunks: [cat([0x01, 0x00], [0x06, 0x00], utf8("hello"))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "ZMTP 1.0 greeting (long identity frame)",
      chunks: [cat(longVersion1, [0x00])],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "ZMTP major version 0",
      chunks: [greeting({ major: 0 })],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "unknown mechanism",
      chunks: [greeting({ mechanism: "FOO" })],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "PLAIN mechanism to a NULL socket",
      chunks: [greeting({ mechanism: "PLAIN" })],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "empty mechanism name",
      chunks: [greeting({ mechanism: "" })],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "truncated greeting then close",
      chunks: [greeting().subarray(0, 30)],
      close: true,
      handshakeFailed: false,
    },
    {
      name: "greeting then half a READY then close",
      chunks: [cat(greeting(), ready(valid).subarray(0, 12))],
      close: true,
      handshakeFailed: false,
    },
    {
      name: "message frame before READY",
      chunks: [cat(greeting(), message("early"))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "SUBSCRIBE before READY",
      chunks: [cat(greeting(), command("SUBSCRIBE", utf8("a")))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "PING before READY",
      chunks: [cat(greeting(), command("PING", new Uint8Array(2)))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "unknown command before READY",
      chunks: [cat(greeting(), command("HELLO", utf8("x")))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "READY with MORE flag",
      chunks: [
        cat(greeting(), frame(0x05, cat([5], utf8("READY"), metadata([["Socket-Type", valid]])))),
      ],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "command with empty body",
      chunks: [cat(greeting(), [0x04, 0x00])],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "command name longer than the body",
      chunks: [cat(greeting(), [0x04, 0x03, 0x09, 0x52, 0x45])],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "READY metadata: value length past the end",
      chunks: [cat(greeting(), command("READY", badValueLength))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "READY metadata: empty property name",
      chunks: [cat(greeting(), command("READY", cat([0], [0, 0, 0, 0])))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "READY metadata: truncated name",
      chunks: [cat(greeting(), command("READY", cat([40], utf8("Socket"))))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "READY metadata: invalid name character",
      chunks: [cat(greeting(), command("READY", metadata([["Socket Type", valid]])))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "READY without Socket-Type",
      chunks: [cat(greeting(), command("READY", metadata([["Identity", "x"]])))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "READY with unknown socket type",
      chunks: [cat(greeting(), ready("BOGUS"))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "wrong socket type (PUSH)",
      chunks: [cat(greeting(), ready("PUSH"))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "wrong socket type (PUB)",
      chunks: [cat(greeting(), ready("PUB"))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "ERROR command during the handshake",
      chunks: [cat(greeting(), command("ERROR", cat([4], utf8("nope"))))],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "over-declared frame then close",
      chunks: [cat(hs, [0x00, 200], utf8("only ten b"))],
      close: true,
      handshakeFailed: false,
    },
    {
      name: "over-declared long frame then close",
      chunks: [cat(hs, longHeader(0, 1000n), new Uint8Array(10))],
      close: true,
      handshakeFailed: false,
    },
    {
      name: "2^63 frame length",
      chunks: [cat(hs, longHeader(0, 1n << 63n))],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "2^64-1 frame length",
      chunks: [cat(hs, longHeader(0, (1n << 64n) - 1n))],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "2^63 command length",
      chunks: [cat(hs, longHeader(0x04, 1n << 63n))],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "frame over maxMessageSize (2000 > 1024)",
      chunks: [cat(hs, frame(0, new Uint8Array(2000)))],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "frame over maxMessageSize, header only",
      chunks: [cat(hs, longHeader(0, 1_000_000n))],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "command with MORE flag after READY",
      chunks: [cat(hs, frame(0x05, cat([4], utf8("PING"), [0, 0])))],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "command inside a multipart message",
      chunks: [cat(hs, frame(0x01, utf8("part")), command("PING", new Uint8Array(2)))],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "malformed PING",
      chunks: [cat(hs, command("PING"))],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "ERROR command after READY",
      chunks: [cat(hs, command("ERROR", cat([3], utf8("bye"))))],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "second greeting after READY",
      chunks: [cat(hs, greeting())],
      close: false,
      handshakeFailed: false,
    },
    {
      name: "flood of 100 000 tiny MORE frames, then vanish",
      chunks: [cat(hs, tinyFlood)],
      close: true,
      handshakeFailed: false,
    },
    {
      name: "vanishes mid-message (2 of 3 parts)",
      chunks: [cat(hs, frame(0x01, new Uint8Array(0)), frame(0x01, utf8("half")))],
      close: true,
      handshakeFailed: false,
    },
    {
      name: "vanishes mid-frame",
      chunks: [cat(hs, frame(0x00, new Uint8Array(0)).subarray(0, 1))],
      close: true,
      handshakeFailed: false,
    },
    { name: "idle: connect and send nothing", chunks: [], close: false, handshakeFailed: true },
    {
      name: "idle: one octet of greeting (slow loris)",
      chunks: [Uint8Array.of(0xff)],
      close: false,
      handshakeFailed: true,
    },
    {
      name: "idle: greeting but no READY",
      chunks: [greeting()],
      close: false,
      handshakeFailed: true,
    },
  ];
}

/** A well-behaved libzmq peer of the target and a round trip through the socket under test. */
interface Probe {
  peer: Peer;
  check(i: number): Promise<void>;
}

async function probeFor(target: Target, socket: Socket, endpoint: string): Promise<Probe> {
  const decoder = new TextDecoder();
  if (target === "ROUTER") {
    const router = socket as RouterSocket;
    const peer = await Peer.start({
      type: "DEALER",
      connect: endpoint,
      options: { routingId: "good" },
    });
    return {
      peer,
      async check(i) {
        await peer.send([`probe-${i}`]);
        // Skip anything a hostile peer managed to queue; bounded by receiveTimeout.
        for (let n = 0; n < 2000; n++) {
          const [id, body] = await router.receive();
          if (decoder.decode(id) === "good" && decoder.decode(body) === `probe-${i}`) break;
        }
        await router.send(["good", `reply-${i}`]);
        assert.equal(text((await peer.recv(5000))?.[0]), `reply-${i}`);
      },
    };
  }
  if (target === "REP") {
    const rep = socket as RepSocket;
    const peer = await Peer.start({ type: "REQ", connect: endpoint });
    return {
      peer,
      async check(i) {
        await peer.send([`probe-${i}`]);
        for (let n = 0; n < 2000; n++) {
          const [body] = await rep.receive();
          const mine = decoder.decode(body) === `probe-${i}`;
          await rep.send([mine ? `reply-${i}` : "stray"]);
          if (mine) break;
        }
        assert.equal(text((await peer.recv(5000))?.[0]), `reply-${i}`);
      },
    };
  }
  const pub = socket as PubSocket;
  const peer = await Peer.start({ type: "SUB", connect: endpoint, options: { subscribe: "" } });
  const check = async (i: number) => {
    // A subscription travels asynchronously: publish until one arrives (bounded).
    for (let attempt = 0; attempt < 100; attempt++) {
      await pub.send([`probe-${i}`]);
      for (;;) {
        const got = await peer.recv(100);
        if (got === undefined) break;
        if (text(got[0]) === `probe-${i}`) return;
      }
    }
    assert.fail(`PUB did not deliver probe-${i} to the pyzmq SUB`);
  };
  return { peer, check };
}

function newSocket(target: Target): Socket {
  const options = { maxMessageSize: 1024, handshakeInterval: 200, receiveTimeout: 5000, linger: 0 };
  if (target === "ROUTER") return new RouterSocket(options);
  if (target === "PUB") return new PubSocket(options);
  return new RepSocket(options);
}

async function runCorpus(target: Target): Promise<void> {
  using guard = new ThrowGuard();
  const socket = newSocket(target);
  const log = new EventLog(socket);
  let probe: Probe | undefined;
  try {
    await socket.bind("tcp://127.0.0.1:0");
    const endpoint = socket.lastEndpoint!;
    probe = await probeFor(target, socket, endpoint);
    await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "the good peer's handshake");
    await probe.check(-1);

    const cases = corpus(target);
    const hs = handshake(target);
    for (const [i, c] of cases.entries()) {
      const mark = log.mark();
      const raw = await RawPeer.connect(endpoint);
      try {
        const accepted = await log.waitFor(ofType("accepted"), mark, 5000, `${c.name}: accepted`);
        for (const chunk of c.chunks) if (!(await raw.write(chunk))) break;
        if (c.close) raw.close();
        const { event: gone, index } = await log.waitFor(
          ofType("disconnected"),
          accepted.index,
          5000,
          `${target} <- ${c.name}: disconnected`,
        );
        assert.ok(gone.type === "disconnected" && gone.reason.length > 0, `${c.name}: reason`);
        const failed = log.events.slice(accepted.index, index).filter(ofType("handshakeFailed"));
        if (c.handshakeFailed) {
          assert.equal(
            failed.length,
            1,
            `${target} <- ${c.name}: expected one handshakeFailed, got ${
              JSON.stringify(log.events.slice(accepted.index, index + 1).map(brief))
            }`,
          );
          const f = failed[0] as Extract<SocketEvent, { type: "handshakeFailed" }>;
          assert.ok(f.reason.length > 0 && f.error instanceof Error, `${c.name}: failure reason`);
          assert.ok(["protocol", "authentication", "other"].includes(f.kind));
        }
        // Nothing got through to the routing policy as a peer.
        const validPrefix = c.chunks.length > 0 && startsWith(c.chunks[0], hs);
        assert.equal(
          log.events.slice(accepted.index, index).filter(ofType("handshakeSucceeded")).length,
          validPrefix ? 1 : 0,
          `${c.name}: handshakeSucceeded count`,
        );
        if (!c.close) {
          assert.ok(
            await raw.closedByRemote(5000),
            `${target} <- ${c.name}: socket closed our connection`,
          );
        }
      } finally {
        raw.close();
      }
      await probe.check(i);
    }
    guard.check();
  } finally {
    await probe?.peer.close();
    await socket.close();
    await log.finished();
  }
  guard.check();
}

for (const target of ["ROUTER", "PUB", "REP"] as const) {
  Deno.test(`hostile: a bound ${target} survives the corpus and keeps serving a libzmq ${GOOD_PEER[target]}`, async () => {
    await runCorpus(target);
  });
}

Deno.test("hostile: without maxMessageSize, 2^63 and 2^53 frame lengths drop the peer, nothing is allocated", async () => {
  using guard = new ThrowGuard();
  const router = new RouterSocket({ linger: 0, receiveTimeout: 5000 });
  const log = new EventLog(router);
  try {
    await router.bind("tcp://127.0.0.1:0");
    const endpoint = router.lastEndpoint!;
    for (const size of [1n << 63n, 1n << 53n, (1n << 53n) + 1n, 1n << 40n]) {
      const mark = log.mark();
      await using raw = await RawPeer.connect(endpoint);
      const rss = Deno.memoryUsage().rss;
      await raw.write(cat(handshake("ROUTER"), longHeader(0, size)));
      // 2^40 is acceptable in principle (no limit): the socket waits for the body.
      if (size === 1n << 40n) {
        await log.waitFor(ofType("handshakeSucceeded"), mark, 5000, "handshake");
        raw.close();
      }
      const { event } = await log.waitFor(ofType("disconnected"), mark, 5000, `size ${size}`);
      assert.ok(event.type === "disconnected" && event.reason.length > 0);
      // Memory bound, not a duration: no buffer of the declared size was allocated.
      assert.ok(Deno.memoryUsage().rss - rss < 256 * 1024 * 1024, `size ${size}: memory`);
    }
    // Still serving.
    await using dealer = await Peer.start({
      type: "DEALER",
      connect: endpoint,
      options: { routingId: "d" },
    });
    await dealer.send(["hi"]);
    const [id, body] = await router.receive();
    assert.equal(text(id), "d");
    assert.equal(text(body), "hi");
  } finally {
    await router.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("hostile: a peer that never reads and floods PINGs does not take the socket down", async () => {
  using guard = new ThrowGuard();
  const router = new RouterSocket({ linger: 0, receiveTimeout: 5000 });
  const log = new EventLog(router);
  try {
    await router.bind("tcp://127.0.0.1:0");
    const endpoint = router.lastEndpoint!;
    const raw = await RawPeer.connect(endpoint);
    try {
      await raw.write(handshake("ROUTER"));
      await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "handshake");
      // 16-octet ping contexts: each PING asks for a PONG we never read.
      const ping = command("PING", cat([0, 0], new Uint8Array(16).fill(0x70)));
      const burst = new Uint8Array(ping.length * 20_000);
      for (let i = 0; i < burst.length; i += ping.length) burst.set(ping, i);
      for (let n = 0; n < 10; n++) if (!(await raw.write(burst))) break;
      // Meanwhile a good peer is served.
      await using dealer = await Peer.start({
        type: "DEALER",
        connect: endpoint,
        options: { routingId: "d" },
      });
      await dealer.send(["hi"]);
      const [id] = await router.receive();
      assert.equal(text(id), "d");
    } finally {
      raw.close();
    }
    await log.waitFor(ofType("disconnected"), 0, 5000, "the flooder's disconnect");
  } finally {
    await router.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("hostile: an ERROR command with an empty reason is reported with a reason", async () => {
  using guard = new ThrowGuard();
  const rep = new RepSocket({ linger: 0 });
  const log = new EventLog(rep);
  try {
    await rep.bind("tcp://127.0.0.1:0");
    await using raw = await RawPeer.connect(rep.lastEndpoint!);
    await raw.write(cat(greeting(), command("ERROR", Uint8Array.of(0))));
    const { event, index } = await log.waitFor(ofType("handshakeFailed"), 0, 5000, "failed");
    const { event: gone } = await log.waitFor(ofType("disconnected"), index, 5000, "disconnected");
    assert.ok(event.type === "handshakeFailed" && gone.type === "disconnected");
    assert.ok(event.reason.length > 0, `handshakeFailed reason is empty: ${brief(event)}`);
    assert.ok(gone.reason.length > 0, `disconnected reason is empty: ${brief(gone)}`);
  } finally {
    await rep.close();
    await log.finished();
  }
  guard.check();
});

/**
 * Writes `burst` up to `times` times or until the socket stops reading (a write that does not
 * finish within `ms`: backpressure). Returns the bytes written. Closes `raw` when pushed back.
 */
async function floodUntilPushedBack(
  raw: RawPeer,
  burst: Uint8Array,
  times: number,
  ms = 1000,
): Promise<{ written: number; pushedBack: boolean }> {
  let written = 0;
  for (let n = 0; n < times; n++) {
    let off = 0;
    while (off < burst.length) {
      const pending = raw.conn.write(burst.subarray(off));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<"stalled">((r) => (timer = setTimeout(() => r("stalled"), ms)));
      const got = await Promise.race([pending.catch(() => -1), stalled]);
      clearTimeout(timer);
      if (got === "stalled") {
        raw.close();
        await pending.catch(() => {});
        return { written, pushedBack: true };
      }
      if (got < 0) return { written, pushedBack: false };
      off += got;
      written += got;
    }
  }
  return { written, pushedBack: false };
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

Deno.test("hostile: an endless multipart message of tiny frames is not buffered without bound", async () => {
  // 3 MiB of empty MORE frames (1.5 M frames): with maxMessageSize 1024 and HWM 1000 the socket
  // must not hold them all (measured here: ~57 octets of heap per 2 octets received, so a few
  // tens of MiB from one peer exhaust the process's heap).
  using guard = new ThrowGuard();
  const router = new RouterSocket({ linger: 0, maxMessageSize: 1024 });
  const log = new EventLog(router);
  try {
    await router.bind("tcp://127.0.0.1:0");
    const raw = await RawPeer.connect(router.lastEndpoint!);
    try {
      await raw.write(handshake("ROUTER"));
      await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "handshake");
      const burst = new Uint8Array(2 * 262_144);
      for (let i = 0; i < burst.length; i += 2) burst[i] = 0x01; // MORE, size 0
      const before = Deno.memoryUsage();
      const { written } = await floodUntilPushedBack(raw, burst, 6);
      // Let the socket process what it read: a round trip through a good peer.
      await using dealer = await Peer.start({
        type: "DEALER",
        connect: router.lastEndpoint!,
        options: { routingId: "d" },
      });
      await dealer.send(["hi"]);
      await router.receive();
      const after = Deno.memoryUsage();
      const grown = after.heapUsed + after.external - before.heapUsed - before.external;
      assert.ok(
        grown < 100 * 1048576,
        `heap grew by ${mib(grown)} for ${mib(written)} of empty MORE frames from one peer`,
      );
    } finally {
      raw.close();
    }
  } finally {
    await router.close();
    await log.finished();
  }
  guard.check();
});

Deno.test("hostile: PONGs for a peer that PINGs but never reads are not buffered without bound", async () => {
  // 128 MiB of PINGs with 16-octet contexts: each asks for a 23-octet PONG. A peer that never
  // reads must be pushed back (or dropped), not answered into an ever-growing output buffer.
  using guard = new ThrowGuard();
  const router = new RouterSocket({ linger: 0 });
  const log = new EventLog(router);
  try {
    await router.bind("tcp://127.0.0.1:0");
    const raw = await RawPeer.connect(router.lastEndpoint!);
    try {
      await raw.write(handshake("ROUTER"));
      await log.waitFor(ofType("handshakeSucceeded"), 0, 5000, "handshake");
      const ping = command("PING", cat([0, 0], new Uint8Array(16).fill(0x70)));
      const burst = new Uint8Array(ping.length * 100_000);
      for (let i = 0; i < burst.length; i += ping.length) burst.set(ping, i);
      const before = Deno.memoryUsage();
      const { written, pushedBack } = await floodUntilPushedBack(
        raw,
        burst,
        Math.ceil(128 * 1048576 / burst.length),
      );
      await using dealer = await Peer.start({
        type: "DEALER",
        connect: router.lastEndpoint!,
        options: { routingId: "d" },
      });
      await dealer.send(["hi"]);
      await router.receive();
      const after = Deno.memoryUsage();
      // Output buffers are ArrayBuffers: external memory (unlike the heap, not blurred by the
      // garbage of earlier tests being collected meanwhile).
      const grown = after.external - before.external;
      assert.ok(
        grown < 32 * 1048576,
        `memory grew by ${mib(grown)} after ${
          mib(written)
        } of PINGs from a peer that never reads ` +
          `(pushed back: ${pushedBack})`,
      );
    } finally {
      raw.close();
    }
  } finally {
    await router.close();
    await log.finished();
  }
  guard.check();
});
