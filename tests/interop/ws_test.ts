/**
 * ZWS 2.0 interop against libzmq: zeromq.js 6.8.0 (libzmq 4.3.5, built with ws://) under Node,
 * REQ/REP, DEALER/ROUTER, PUB/SUB and PUSH/PULL over `ws://`, Monocoque binding (libzmq's client
 * offers `ZWS2.0/NULL,ZWS2.0` and runs the NULL handshake) and libzmq binding (our WHATWG client
 * offers bare `ZWS2.0`, which libzmq serves with its routing-id handshake), with multipart and
 * 1 MiB messages.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  curveKeyPair,
  DealerSocket,
  PubSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  type Socket,
  SubSocket,
} from "../../mod.ts";
import { Peer, type PeerSocketType } from "../_util/peer.ts";
import {
  assertFrames,
  b,
  BOUNDED,
  monoReceiveData,
  pattern,
  peerRecvData,
  receive,
  syncMonoSubscriber,
  syncPeerSubscriber,
} from "./_matrix.ts";

const MIB = pattern(1 << 20, 7);
const MULTIPART = [b("a"), new Uint8Array(0), pattern(300, 1), b("last")];

/** Links a Monocoque socket and a zeromq.js peer over ws://, `monoBinds` deciding who binds. */
async function link(
  mono: Socket,
  type: PeerSocketType,
  monoBinds: boolean,
  options: Record<string, string> = {},
): Promise<Peer> {
  if (monoBinds) {
    await mono.bind("ws://127.0.0.1:0");
    assert.match(mono.lastEndpoint!, /^ws:\/\/127\.0\.0\.1:[1-9]\d*\/$/);
    return await Peer.start({ impl: "zeromqjs", type, connect: mono.lastEndpoint!, options });
  }
  const peer = await Peer.start({ impl: "zeromqjs", type, bind: "ws://127.0.0.1:*", options });
  mono.connect(peer.endpoint);
  return peer;
}

const side = (monoBinds: boolean) => monoBinds ? "Monocoque binds" : "libzmq binds";

for (const monoBinds of [true, false]) {
  Deno.test(`ws:// Monocoque REQ ↔ libzmq REP (${side(monoBinds)}): multipart and 1 MiB`, async () => {
    await using req = new ReqSocket(BOUNDED);
    await using rep = await link(req, "REP", monoBinds);
    for (const message of [[b("hello")], MULTIPART, [MIB]]) {
      await req.send(message);
      assertFrames(await rep.recv(), message, "request at libzmq");
      await rep.send([...message].reverse());
      assertFrames(await receive(req), [...message].reverse(), "reply at Monocoque");
    }
  });

  Deno.test(`ws:// libzmq REQ ↔ Monocoque REP (${side(monoBinds)}): multipart and 1 MiB`, async () => {
    await using rep = new RepSocket(BOUNDED);
    await using req = await link(rep, "REQ", monoBinds);
    for (const message of [[b("hello")], MULTIPART, [MIB]]) {
      await req.send(message);
      const got = await receive(rep);
      assertFrames(got, message, "request at Monocoque");
      await rep.send(got);
      assertFrames(await req.recv(), message, "reply at libzmq");
    }
  });

  Deno.test(`ws:// Monocoque DEALER ↔ libzmq ROUTER (${side(monoBinds)})`, async () => {
    await using dealer = new DealerSocket({ ...BOUNDED, routingId: "mono-dealer" });
    await using router = await link(dealer, "ROUTER", monoBinds);
    await dealer.send(MULTIPART);
    const got = await router.recv();
    assert.ok(got !== undefined);
    // Both handshakes carry our routing id: READY's Identity, or bare ZWS2.0's first message.
    assert.equal(new TextDecoder().decode(got[0]), "mono-dealer");
    assertFrames(got.slice(1), MULTIPART, "message at libzmq ROUTER");
    await router.send([got[0], MIB]);
    assertFrames(await receive(dealer), [MIB], "reply at Monocoque DEALER");
  });

  Deno.test(`ws:// libzmq DEALER ↔ Monocoque ROUTER (${side(monoBinds)})`, async () => {
    await using router = new RouterSocket(BOUNDED);
    await using dealer = await link(router, "DEALER", monoBinds, { routingId: "js-dealer" });
    await dealer.send(MULTIPART);
    const [id, ...rest] = await receive(router);
    assert.equal(new TextDecoder().decode(id), "js-dealer");
    assertFrames(rest, MULTIPART, "message at Monocoque ROUTER");
    await router.send([id, MIB]);
    assertFrames(await dealer.recv(), [MIB], "reply at libzmq DEALER");
  });

  Deno.test(`ws:// Monocoque PUB → libzmq SUB (${side(monoBinds)}): prefix filtering`, async () => {
    await using pub = new PubSocket(BOUNDED);
    await using sub = await link(pub, "SUB", monoBinds, { subscribe: "sync" });
    // The subscription arrives as a 0x01-prefixed message (libzmq's ws_encoder sends it so).
    await syncPeerSubscriber(pub, sub, [b("sync-marker")]);
    await pub.send([b("other"), b("dropped")]);
    await pub.send([b("sync-data"), MIB]);
    assertFrames(await peerRecvData(sub), [b("sync-data"), MIB], "message at libzmq SUB");
  });

  Deno.test(`ws:// libzmq PUB → Monocoque SUB (${side(monoBinds)}): prefix filtering`, async () => {
    await using sub = new SubSocket(BOUNDED);
    sub.subscribe("sync");
    await using pub = await link(sub, "PUB", monoBinds);
    await syncMonoSubscriber(pub, sub, [b("sync-marker")]);
    await pub.send([b("other"), b("dropped")]);
    await pub.send([b("sync-data"), MIB]);
    assertFrames(await monoReceiveData(sub), [b("sync-data"), MIB], "message at Monocoque SUB");
  });

  Deno.test(`ws:// Monocoque PUSH → libzmq PULL (${side(monoBinds)}): 200 messages in order`, async () => {
    await using push = new PushSocket(BOUNDED);
    await using pull = await link(push, "PULL", monoBinds);
    for (let i = 0; i < 200; i++) await push.send([b(`m${i}`), pattern(i, i)]);
    await push.send(MIB);
    for (let i = 0; i < 200; i++) {
      assertFrames(await pull.recv(), [b(`m${i}`), pattern(i, i)], `m${i}`);
    }
    assertFrames(await pull.recv(), [MIB], "1 MiB at libzmq PULL");
  });

  Deno.test(`ws:// libzmq PUSH → Monocoque PULL (${side(monoBinds)}): 200 messages in order`, async () => {
    await using pull = new PullSocket(BOUNDED);
    await using push = await link(pull, "PUSH", monoBinds);
    for (let i = 0; i < 200; i++) await push.send([b(`m${i}`), pattern(i, i)]);
    await push.send([MIB]);
    for (let i = 0; i < 200; i++) {
      assertFrames(await receive(pull), [b(`m${i}`), pattern(i, i)], `m${i}`);
    }
    assertFrames(await receive(pull), [MIB], "1 MiB at Monocoque PULL");
  });
}

Deno.test("ws:// libzmq CURVE REQ ↔ Monocoque CURVE REP (Monocoque binds: ZWS2.0/CURVE)", async () => {
  const server = curveKeyPair();
  const client = curveKeyPair();
  await using rep = new RepSocket({
    ...BOUNDED,
    curveServer: true,
    curvePublicKey: server.publicKey,
    curveSecretKey: server.secretKey,
  });
  await using req = await link(rep, "REQ", true, {
    curveServerkey: server.publicKey,
    curvePublickey: client.publicKey,
    curveSecretkey: client.secretKey,
  });
  for (const message of [MULTIPART, [MIB]]) {
    await req.send(message);
    const got = await receive(rep);
    assertFrames(got, message, "request at Monocoque");
    await rep.send(got);
    assertFrames(await req.recv(), message, "reply at libzmq");
  }
});
