import assert from "node:assert/strict";
import { Session, type SessionEvent } from "./session.ts";
import { isCompatible, isSocketType, type SocketType } from "./socket_type.ts";

const ALL: SocketType[] = [
  "PAIR",
  "PUB",
  "SUB",
  "REQ",
  "REP",
  "DEALER",
  "ROUTER",
  "PULL",
  "PUSH",
  "XPUB",
  "XSUB",
  "CLIENT",
  "SERVER",
  "SCATTER",
  "GATHER",
  "RADIO",
  "DISH",
  "PEER",
  "CHANNEL",
  "STREAM",
];

Deno.test("isCompatible() follows the RFC 23 table with XPUB/XSUB and the draft types", () => {
  const valid = new Set([
    "REQ-REP",
    "REQ-ROUTER",
    "REP-DEALER",
    "DEALER-DEALER",
    "DEALER-ROUTER",
    "ROUTER-ROUTER",
    "PUB-SUB",
    "PUB-XSUB",
    "XPUB-SUB",
    "XPUB-XSUB",
    "PUSH-PULL",
    "PAIR-PAIR",
    "CLIENT-SERVER",
    "SCATTER-GATHER",
    "RADIO-DISH",
    // libzmq src/mechanism.cpp check_socket_type: PEER and CHANNEL talk only to their own kind.
    "PEER-PEER",
    "CHANNEL-CHANNEL",
    // STREAM speaks raw bytes (libzmq src/stream.cpp): no ZMTP peer fits it.
  ]);
  for (const a of ALL) {
    for (const b of ALL) {
      const expected = valid.has(`${a}-${b}`) || valid.has(`${b}-${a}`);
      assert.equal(isCompatible(a, b), expected, `${a} with ${b}`);
    }
  }
});

Deno.test("isCompatible() refuses unknown and differently cased types", () => {
  assert.equal(isCompatible("PAIR", "pair"), false);
  assert.equal(isCompatible("PAIR", ""), false);
  assert.equal(isCompatible("PAIR", "toString"), false);
  assert.equal(isSocketType("constructor"), false);
});

/** Moves bytes between two sessions until both are quiet. */
function pump(a: Session, b: Session): void {
  for (let moved = true; moved;) {
    moved = false;
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const out = from.takeOutput();
      for (const chunk of out) to.receive(chunk, 0);
      if (out.length > 0) moved = true;
    }
  }
}

function lastEvent(s: Session): SessionEvent | undefined {
  return s.takeEvents().at(-1);
}

Deno.test("Sessions of PEER and CHANNEL handshake with their own kind only", () => {
  for (const type of ["PEER", "CHANNEL"] as const) {
    const a = new Session({ socketType: type, now: 0 });
    const b = new Session({ socketType: type, now: 0 });
    pump(a, b);
    assert.equal(lastEvent(a)?.type, "ready", type);
    assert.equal(lastEvent(b)?.type, "ready", type);
    assert.equal(a.peer?.socketType, type);
    assert.equal(b.peer?.socketType, type);

    for (const other of ["PAIR", "SERVER", "CLIENT", "PEER", "CHANNEL"] as const) {
      if (other === type) continue;
      const ours = new Session({ socketType: type, now: 0 });
      const theirs = new Session({ socketType: other, now: 0 });
      pump(ours, theirs);
      const event = lastEvent(ours);
      assert.ok(event?.type === "error", `${type} with ${other}: ${JSON.stringify(event)}`);
      assert.equal(event.code, "EPROTO");
      assert.equal(ours.phase, "closed");
    }
  }
});
