import assert from "node:assert/strict";
import type { FrameCodec, Mechanism, MechanismHost, MechanismStep } from "./mechanism.ts";
import { NullMechanism } from "./null_mechanism.ts";
import { Session } from "./session.ts";

Deno.test("NullMechanism sends READY with the host's metadata and accepts the peer's", () => {
  const sent: [string, Uint8Array][] = [];
  const host: MechanismHost = {
    socketType: "PAIR",
    metadata: Uint8Array.of(1, 2),
    peerAsServer: false,
    peerMinorVersion: 1,
    now: 0,
    sendCommand: (name, data) => void sent.push([name, data]),
  };
  const mechanism = new NullMechanism();
  assert.deepEqual(mechanism.start(host), { type: "continue" });
  assert.deepEqual(sent, [["READY", Uint8Array.of(1, 2)]]);
  assert.deepEqual(mechanism.receiveCommand(host, "READY", Uint8Array.of(3)), {
    type: "ready",
    metadata: Uint8Array.of(3),
  });
});

// A toy two-step mechanism with a frame codec, standing in for CURVE: HELLO/WELCOME, then
// READY, then every frame travels XOR-ed inside a MESSAGE command.
class ToyMechanism implements Mechanism {
  readonly name = "TOY";
  readonly asServer: boolean;
  constructor(asServer: boolean) {
    this.asServer = asServer;
  }
  start(host: MechanismHost): MechanismStep {
    if (!this.asServer) host.sendCommand("HELLO", new Uint8Array(0));
    return { type: "continue" };
  }
  receiveCommand(host: MechanismHost, name: string, data: Uint8Array): MechanismStep {
    if (name === "HELLO" && this.asServer) {
      host.sendCommand("WELCOME", new Uint8Array(0));
      host.sendCommand("READY", host.metadata);
      return { type: "continue" };
    }
    if (name === "WELCOME" && !this.asServer) {
      host.sendCommand("READY", host.metadata);
      return { type: "continue" };
    }
    if (name === "READY") return { type: "ready", metadata: data.slice(), codec: TOY_CODEC };
    return { type: "error", kind: "authentication", reason: `Unexpected ${name}` };
  }
}

const MESSAGE = new TextEncoder().encode("\x07MESSAGE");
const TOY_CODEC: FrameCodec = {
  wrap(flags, body) {
    const out = new Uint8Array(MESSAGE.length + 1 + body.length);
    out.set(MESSAGE);
    out[MESSAGE.length] = flags;
    for (let i = 0; i < body.length; i++) out[MESSAGE.length + 1 + i] = body[i] ^ 0x5a;
    return out;
  },
  unwrap(flags, body) {
    // Wrapped frames travel as data frames, as libzmq sends CURVE's MESSAGE: check the name.
    if (flags !== 0 || !MESSAGE.every((c, i) => body[i] === c)) {
      throw new Error("Expected a MESSAGE command");
    }
    const plain = body.slice(MESSAGE.length);
    for (let i = 1; i < plain.length; i++) plain[i] ^= 0x5a;
    return plain;
  },
};

Deno.test("A mechanism with a frame codec fits Session unchanged", () => {
  const client = new Session({ socketType: "SUB", now: 0, mechanism: new ToyMechanism(false) });
  const server = new Session({ socketType: "PUB", now: 0, mechanism: new ToyMechanism(true) });
  const pump = () => {
    for (let i = 0; i < 5; i++) {
      for (const c of client.takeOutput()) server.receive(c, 0);
      for (const c of server.takeOutput()) client.receive(c, 0);
    }
  };
  pump();
  assert.equal(client.takeEvents()[0]?.type, "ready");
  assert.equal(server.takeEvents()[0]?.type, "ready");
  assert.equal(server.peer?.mechanism, "TOY");
  client.subscribe(Uint8Array.of(7));
  server.send([Uint8Array.of(7, 1), new Uint8Array(300)]);
  client.receive(Uint8Array.of(0, 1, 0), 0); // a bare frame is refused by the codec
  assert.deepEqual(client.takeEvents().map((e) => e.type), ["error"]);
  pump();
  assert.deepEqual(server.takeEvents(), [{ type: "subscribe", topic: Uint8Array.of(7) }]);
});
