/**
 * Self-test of the interop harness (tests/_util/peer.ts and the peer programs), with no
 * Monocoque code: real libzmq peers talk to each other through it. If these fail, interop
 * failures elsewhere say nothing about Monocoque.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MessageDigest, sequenceMessage } from "../_util/bytes.ts";
import { Peer } from "../_util/peer.ts";

const decoder = new TextDecoder();
const text = (frames: Uint8Array[] | undefined) => frames?.map((f) => decoder.decode(f));

Deno.test("pyzmq PUSH delivers a pipeline to pyzmq PULL exactly once and in order", async () => {
  await using pull = await Peer.start({ type: "PULL", bind: "tcp://127.0.0.1:0" });
  assert.match(pull.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(pull.libzmq, "4.3.4");
  await using push = await Peer.start({ type: "PUSH", connect: pull.endpoint });

  await push.send(["hello", new Uint8Array([0, 255])]);
  assert.deepEqual(await pull.recv(5000), [
    new TextEncoder().encode("hello"),
    new Uint8Array([0, 255]),
  ]);

  const prefix = new Uint8Array([0xab]);
  const [sent, received] = await Promise.all([
    push.sendMany(2000, { size: 64, prefix }),
    pull.recvCount(2000, { timeout: 5000 }),
  ]);
  assert.equal(sent.count, 2000);
  assert.deepEqual({ count: received.count, timedOut: received.timedOut }, {
    count: 2000,
    timedOut: false,
  });
  assert.equal(received.digest, sent.digest);
  assert.equal(sent.digest, MessageDigest.ofSequence(2000, 64, prefix));
  assert.equal(await pull.recv(50), undefined);
});

Deno.test("zeromq.js PUSH under Node delivers to pyzmq PULL over ipc", async () => {
  const path = await Deno.makeTempFile({ prefix: "monocoque-harness-", suffix: ".sock" });
  await Deno.remove(path);
  try {
    await using pull = await Peer.start({ type: "PULL", bind: `ipc://${path}` });
    await using push = await Peer.start({ impl: "zeromqjs", type: "PUSH", connect: pull.endpoint });
    assert.equal(push.libzmq, "4.3.5");
    await push.send(["from", "node"]);
    assert.deepEqual(text(await pull.recv(5000)), ["from", "node"]);
    const [sent, received] = await Promise.all([
      push.sendMany(500, { size: 10 }),
      pull.recvCount(500),
    ]);
    assert.equal(received.count, 500);
    assert.equal(received.digest, sent.digest);
  } finally {
    await Deno.remove(path).catch(() => {});
  }
});

Deno.test("peers answer REQ/REP, time out, report errors and monitor events", async () => {
  await using rep = await Peer.start({
    impl: "zeromqjs",
    type: "REP",
    bind: "tcp://127.0.0.1:0",
    options: { monitor: true },
  });
  await using req = await Peer.start({
    type: "REQ",
    connect: rep.endpoint,
    options: { routingId: "client-1" },
  });
  const echoed = rep.echo(1, 5000);
  await req.send(["ping"]);
  assert.deepEqual(text(await req.recv(5000)), ["ping"]);
  assert.equal(await echoed, 1);
  assert.equal((await rep.waitEvent("HANDSHAKE_SUCCEEDED", 5000))?.event, "HANDSHAKE_SUCCEEDED");
  assert.equal(await rep.recv(20), undefined);
  // REQ cannot send twice without a reply: libzmq says EFSM.
  await req.send(["one"]);
  await assert.rejects(req.send(["two"]), { name: "PeerError", code: "EFSM" });
  const ev = await req.request({ op: "no_such_op" });
  assert.deepEqual([ev.event, ev.code], ["error", "EBADCMD"]);
});

Deno.test("a peer that cannot bind fails to start with the libzmq error", async () => {
  await assert.rejects(Peer.start({ type: "PUB", bind: "tcp://192.0.2.1:1" }), {
    code: "EADDRNOTAVAIL",
  });
  const seq = sequenceMessage(7, 6, new Uint8Array([1]));
  assert.deepEqual(seq, new Uint8Array([1, 0, 0, 0, 7, 0]));
});
