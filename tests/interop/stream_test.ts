/**
 * STREAM interop with libzmq's ZMQ_STREAM (pyzmq on libzmq 4.3.4, a plain
 * STREAM type there, not a draft): a pyzmq STREAM serving our StreamSocket,
 * and our StreamSocket serving a pyzmq STREAM, over tcp. Both sides see the
 * other's connection notice, raw bytes cross unchanged both ways, and an
 * empty send from either side closes the connection, which the other side
 * sees as a disconnect notice. The peer is a short inline pyzmq script, run
 * as a separate process under `/usr/bin/python3`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { StreamSocket, text } from "../../mod.ts";
import type { Message } from "../../mod.ts";
import { withTimeout } from "../_util/timeout.ts";

const WAIT = 15_000;

/**
 * bind: serve one connection (echo "echo:" + data, close after "bye"), print
 * each event. connect: greet with "hello from pyzmq", print the reply, close.
 */
const SCRIPT = `
import sys, zmq
mode, ep = sys.argv[1], sys.argv[2]
ctx = zmq.Context()
s = ctx.socket(zmq.STREAM)
s.linger = 0
s.rcvtimeo = 15000
def say(*words):
    print(*words, flush=True)
if mode == "bind":
    s.bind(ep)
    say("endpoint", s.getsockopt(zmq.LAST_ENDPOINT).decode())
    while True:
        rid, data = s.recv_multipart()
        if data == b"":
            say("notice", rid.hex())
            continue
        say("data", data.decode())
        if data == b"bye":
            s.send_multipart([rid, b""])
            break
        s.send_multipart([rid, b"echo:" + data])
else:
    s.connect(ep)
    rid, data = s.recv_multipart()
    say("notice", rid.hex(), len(data))
    s.send_multipart([rid, b"hello from pyzmq"])
    rid2, reply = s.recv_multipart()
    say("reply", reply.decode())
    s.send_multipart([rid, b""])
    say("closed")
s.close()
ctx.term()
`;

class PyStream {
  #child: Deno.ChildProcess;
  #lines: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(mode: "bind" | "connect", endpoint: string) {
    this.#child = new Deno.Command("/usr/bin/python3", {
      args: ["-c", SCRIPT, mode, endpoint],
      stdout: "piped",
      stderr: "inherit",
      stdin: "null",
    }).spawn();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line the script prints, split into words. */
  async line(): Promise<string[]> {
    for (;;) {
      const at = this.#buffer.indexOf("\n");
      if (at >= 0) {
        const line = this.#buffer.slice(0, at);
        this.#buffer = this.#buffer.slice(at + 1);
        return line.split(" ");
      }
      const { value, done } = await withTimeout(this.#lines.read(), WAIT, "a pyzmq line");
      if (done) throw new Error("The pyzmq STREAM peer exited");
      this.#buffer += value;
    }
  }

  async close(): Promise<void> {
    try {
      this.#child.kill();
    } catch {
      // already exited
    }
    await this.#lines.cancel().catch(() => {});
    await this.#child.status;
  }
}

async function receive(socket: StreamSocket): Promise<Message> {
  return await withTimeout(socket.receive(), WAIT, "a STREAM message");
}

Deno.test("a pyzmq STREAM serves our StreamSocket over tcp (libzmq 4.3.4)", async () => {
  const peer = new PyStream("bind", "tcp://127.0.0.1:*");
  try {
    const [, endpoint] = await peer.line();
    await using client = new StreamSocket();
    client.connect(endpoint, { routingId: "py" });
    const [id, notice] = await receive(client);
    assert.equal(text(id), "py");
    assert.equal(notice.length, 0);
    const [event] = await peer.line();
    assert.equal(event, "notice", "libzmq announced our connection");
    await client.send(["py", "raw"]);
    assert.deepEqual(await peer.line(), ["data", "raw"]);
    let echoed = "";
    while (echoed.length < "echo:raw".length) echoed += text((await receive(client))[1]);
    assert.equal(echoed, "echo:raw");
    await client.send(["py", "bye"]);
    assert.deepEqual(await peer.line(), ["data", "bye"]);
    // libzmq's empty send closed the connection: our disconnect notice.
    const [from, empty] = await receive(client);
    assert.equal(text(from), "py");
    assert.equal(empty.length, 0);
  } finally {
    await peer.close();
  }
});

Deno.test("our StreamSocket serves a pyzmq STREAM over tcp (libzmq 4.3.4)", async () => {
  await using server = new StreamSocket();
  await server.bind("tcp://127.0.0.1:0");
  const peer = new PyStream("connect", server.lastEndpoint!);
  try {
    const [notice, , size] = await peer.line();
    assert.equal(notice, "notice");
    assert.equal(size, "0", "libzmq announced the connection with an empty message");
    const [id, connected] = await receive(server);
    assert.equal(connected.length, 0);
    let request = "";
    while (request.length < "hello from pyzmq".length) {
      const [from, data] = await receive(server);
      assert.deepEqual(from, id);
      request += text(data);
    }
    assert.equal(request, "hello from pyzmq");
    await server.send([id, "hello from Monocoque"]);
    assert.deepEqual(await peer.line(), ["reply", "hello", "from", "Monocoque"]);
    // pyzmq closes with an empty send (libzmq tells only the other side): our disconnect notice.
    assert.deepEqual(await peer.line(), ["closed"]);
    const [gone, empty] = await receive(server);
    assert.deepEqual(gone, id);
    assert.equal(empty.length, 0);
  } finally {
    await peer.close();
  }
});
