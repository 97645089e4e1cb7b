/**
 * Message metadata against real libzmq 4.3.4 (pyzmq under /usr/bin/python3, a separate
 * process): a pyzmq peer's custom `ZMQ_METADATA` property, its Socket-Type and Peer-Address, and
 * the User-Id of its PLAIN login judged by our `Authenticator`, read from `message.peer`; and our
 * `metadata` option read by pyzmq's `Frame.get()` (libzmq's `zmq_msg_gets`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Authenticator, PullSocket, PushSocket } from "../../mod.ts";
import { withTimeout } from "../_util/timeout.ts";

const PYTHON = "/usr/bin/python3";
const WAIT_MS = 15_000;

/** A pyzmq PUSH that connects to argv[1] with custom metadata (and PLAIN with argv[2]) and sends one message. */
const PYZMQ_PUSH = `
import sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PUSH)
s.setsockopt(zmq.METADATA, b"X-Color:blue")
if len(sys.argv) > 2:
    s.plain_username = sys.argv[2].encode()
    s.plain_password = b"wonderland"
s.sndtimeo = 10000
s.linger = 5000
s.connect(sys.argv[1])
s.send(b"from pyzmq")
s.close()
ctx.term()
`;

/** A pyzmq PULL that binds, prints its port, then prints what zmq_msg_gets says of one message. */
const PYZMQ_PULL = `
import json, sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PULL)
s.rcvtimeo = 10000
s.linger = 0
port = s.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
frame = s.recv(copy=False)
def gets(name):
    try:
        return frame.get(name)
    except zmq.ZMQError:
        return None
print(json.dumps({"body": frame.bytes.decode(), "tenant": gets("X-Tenant"),
                  "type": gets("Socket-Type"), "address": gets("Peer-Address")}), flush=True)
s.close()
ctx.term()
`;

function python(script: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(PYTHON, {
    args: ["-c", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finished(child: Deno.ChildProcess): Promise<string> {
  const out = await withTimeout(child.output(), WAIT_MS, "pyzmq peer");
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("a pyzmq peer's custom property, Socket-Type and Peer-Address reach message.peer", async () => {
  await using pull = new PullSocket({ peerMetadata: true });
  await pull.bind("tcp://127.0.0.1:0");
  const child = python(PYZMQ_PUSH, [pull.lastEndpoint!]);
  try {
    const message = await pull.receive({ signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(new TextDecoder().decode(message[0]), "from pyzmq");
    assert.equal(message.peer?.get("X-Color"), "blue");
    assert.equal(message.peer?.socketType, "PUSH");
    assert.equal(message.peer?.get("Peer-Address"), "127.0.0.1");
    assert.equal(message.peer?.userId, undefined);
  } finally {
    await finished(child);
  }
});

Deno.test("a pyzmq PLAIN client accepted by our Authenticator arrives with its User-Id", async () => {
  await using auth = new Authenticator();
  await auth.start();
  auth.configurePlain({ alice: "wonderland" });
  await using pull = new PullSocket({ plainServer: true, peerMetadata: true });
  await pull.bind("tcp://127.0.0.1:0");
  const child = python(PYZMQ_PUSH, [pull.lastEndpoint!, "alice"]);
  try {
    const message = await pull.receive({ signal: AbortSignal.timeout(WAIT_MS) });
    assert.equal(message.peer?.userId, "alice");
    assert.equal(message.peer?.get("User-Id"), "alice");
    assert.equal(message.peer?.get("X-Color"), "blue");
  } finally {
    await finished(child);
  }
});

Deno.test("pyzmq reads our metadata option with zmq_msg_gets", async () => {
  const child = python(PYZMQ_PULL, []);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!out.includes("\n")) {
      const { value, done } = await withTimeout(lines.read(), WAIT_MS, "pyzmq port");
      if (done) break;
      out += value;
    }
    const port = Number(out.split("\n")[0]);
    assert.ok(port > 0, out);
    await using push = new PushSocket({ metadata: { "X-Tenant": "green" }, linger: 5000 });
    push.connect(`tcp://127.0.0.1:${port}`);
    await push.send("from monocoque", { signal: AbortSignal.timeout(WAIT_MS) });
    while (out.split("\n").length < 3) {
      const { value, done } = await withTimeout(lines.read(), WAIT_MS, "pyzmq report");
      if (done) break;
      out += value;
    }
  } finally {
    await lines.cancel();
    const status = await withTimeout(child.status, WAIT_MS, "pyzmq exit");
    const err = await new Response(child.stderr).text();
    assert.ok(status.success, err);
  }
  const report = JSON.parse(out.split("\n")[1]);
  assert.deepEqual(report, {
    body: "from monocoque",
    tenant: "green",
    type: "PUSH",
    address: "127.0.0.1",
  });
});
