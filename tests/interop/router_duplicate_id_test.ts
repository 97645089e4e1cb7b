/**
 * What libzmq (pyzmq, 4.3.4) does when two peers connect to its ROUTER with the
 * same routing id, with and without ZMQ_ROUTER_HANDOVER — the reference for
 * Monocoque's ROUTER (tests/socket/dealer_router_test.ts and
 * tests/reliability/router_attack_test.ts). libzmq keeps the losing connection
 * open but unused (src/router.cpp identify_peer: a refused pipe stays in
 * `_anonymous_pipes`; a displaced one is terminated while its session and
 * engine stay up): nobody is disconnected, nobody redials, and only the
 * rightful peer is heard and answered.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DealerSocket } from "../../mod.ts";
import type { SocketEvent } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { withTimeout } from "../_util/timeout.ts";

const decoder = new TextDecoder();
const texts = (m: Uint8Array[] | undefined) => m?.map((f) => decoder.decode(f));

/** A DEALER named "same" whose events are recorded from construction on. */
function dealer(): { socket: DealerSocket; events: SocketEvent[]; handshake: Promise<void> } {
  const socket = new DealerSocket({ routingId: "same", reconnectInterval: 10 });
  const events: SocketEvent[] = [];
  let shaken: () => void = () => {};
  const handshake = new Promise<void>((r) => (shaken = r));
  (async () => {
    for await (const e of socket.events()) {
      events.push(e);
      if (e.type === "handshakeSucceeded") shaken();
    }
  })();
  return { socket, events, handshake: withTimeout(handshake, 5000, "DEALER handshake") };
}

const count = (events: SocketEvent[], type: SocketEvent["type"]) =>
  events.filter((e) => e.type === type).length;

for (const handover of [false, true]) {
  Deno.test(
    `ROUTER (pyzmq${
      handover ? ", handover" : ""
    }) ↔ 2 DEALERs (monocoque) with the same routing id: ${
      handover ? "the newcomer" : "the first"
    } is served, the other stays connected and unused, nobody redials`,
    async () => {
      await using router = await Peer.start({
        type: "ROUTER",
        bind: "tcp://127.0.0.1:0",
        options: { routerHandover: handover, monitor: true },
      });
      const a = dealer();
      const b = dealer();
      try {
        a.socket.connect(router.endpoint);
        await a.handshake;
        await a.socket.send("a0");
        assert.deepEqual(texts(await router.recv()), ["same", "a0"]);
        b.socket.connect(router.endpoint);
        await b.handshake;
        const [served, other] = handover ? [b, a] : [a, b];
        await other.socket.send("from the loser"); // libzmq never delivers it
        for (let i = 0; i < 20; i++) {
          await served.socket.send(`ping ${i}`);
          assert.deepEqual(texts(await router.recv()), ["same", `ping ${i}`]);
          await router.send(["same", `pong ${i}`]);
          const reply = await withTimeout(served.socket.receive(), 5000, "reply");
          assert.deepEqual(texts(reply), [`pong ${i}`]);
        }
        for (const d of [a, b]) {
          assert.equal(count(d.events, "connected"), 1, "each DEALER connected once");
          assert.equal(count(d.events, "disconnected"), 0, "and was never dropped");
        }
        const ev = await router.request({ op: "events" });
        const names = (ev.events as { event: string }[]).map((e) => e.event);
        assert.equal(names.filter((n) => n === "DISCONNECTED").length, 0, names.join(","));
        assert.equal(names.filter((n) => n === "ACCEPTED").length, 2, names.join(","));
        const lost = await other.socket.receive({ signal: AbortSignal.timeout(50) }).catch(
          (e) => e.code,
        );
        assert.equal(lost, "EAGAIN", "the loser gets nothing");
        assert.equal(await router.recv(50), undefined, "its message was never delivered");
      } finally {
        await a.socket.close();
        await b.socket.close();
      }
    },
  );
}
