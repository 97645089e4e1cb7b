/**
 * Runs every example as a subprocess and checks that it exits 0 on its own,
 * within a bounded time, printing its final line.
 *
 * @module
 */

import assert from "node:assert/strict";

const EXAMPLES: [file: string, expected: RegExp][] = [
  ["req_rep.ts", /^req_rep: 3 requests answered$/m],
  [
    "router_dealer.ts",
    /^router_dealer: 15 replies routed to 5 clients \(worker-1=\d+ worker-2=\d+ worker-3=\d+\)$/m,
  ],
  ["pub_sub.ts", /^pub_sub: all-weather got 3 messages, paris\+sports got 3$/m],
  ["push_pull.ts", /^push_pull: 12 results collected \(worker-1=\d+ worker-2=\d+ worker-3=\d+\)$/m],
  [
    "secure_pub_sub.ts",
    /^secure_pub_sub: trusted subscriber got prices\.eurusd=1\.0842; stranger refused$/m,
  ],
  ["streams.ts", /^streams: 3 messages relayed through a TransformStream$/m],
  [
    "proxy_queue.ts",
    /^proxy_queue: 9 requests answered through the queue \(worker-1=\d+ worker-2=\d+\)$/m,
  ],
  [
    "proxy_forwarder.ts",
    /^proxy_forwarder: weather got 3, sports got 3 through the XSUB\/XPUB forwarder$/m,
  ],
  [
    "proxy_streamer.ts",
    /^proxy_streamer: 12 tasks streamed \(worker-1=4 worker-2=4 worker-3=4\), 12 captured$/m,
  ],
  ["demo.ts", /^ {2}queries answered +5 \(2 from REQ, 3 from DEALER\)$/m],
  [
    "lru_broker.ts",
    /^lru_broker: 10 requests answered by \d workers \(worker-1=\d+( worker-\d=\d+)*\)$/m,
  ],
  ["shutdown.ts", /^shutdown: 3 jobs handled, every socket closed$/m],
  [
    "client_server.ts",
    /^client_server: 6 requests answered for 3 clients \(alice=2 bob=2 carol=2\)$/m,
  ],
  [
    "radio_dish.ts",
    /^radio_dish: news dish got 3 news, sport\+news dish got 3 sport and 3 news, nobody got the weather$/m,
  ],
  ["radio_dish_udp.ts", /^radio_dish_udp: thermometer got 2, everything got 4 over udp$/m],
  [
    "length_prefixed.ts",
    /^length_prefixed: 3 requests answered: olleh dlrow \/ euqoconom \/ lenrek$/m,
  ],
  [
    "line_server.ts",
    /^line_server: 3 lines answered, last replies HELLO KERNEL \| LINES PLEASE \| bye$/m,
  ],
];

/** Generous: each example takes well under a second, but CI machines are slow. */
const TIMEOUT_MS = 30_000;

for (const [file, expected] of EXAMPLES) {
  Deno.test(`example ${file} runs to completion`, async () => {
    const url = new URL(`../../examples/${file}`, import.meta.url);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-net", url.pathname], // udp:// needs Deno.listenDatagram
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    const { code, signal, stdout, stderr } = await child.output().finally(() =>
      clearTimeout(timer)
    );
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert.equal(signal, null, `${file} was killed after ${TIMEOUT_MS} ms\n${out}\n${err}`);
    assert.equal(code, 0, `${file} exited with ${code}\n${out}\n${err}`);
    assert.match(out, expected, `${file} did not print ${expected}\n${out}`);
  });
}

Deno.test("demo reports the libzmq interop step", async () => {
  const url = new URL("../../examples/demo.ts", import.meta.url);
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", url.pathname],
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).output();
  assert.equal(code, 0);
  const out = new TextDecoder().decode(stdout);
  let pyzmq = false;
  try {
    const probe = new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import zmq"],
      stderr: "null",
    });
    pyzmq = (await probe.output()).success;
  } catch {
    // no Python at that path
  }
  if (pyzmq) assert.match(out, /libzmq interop +served a real libzmq peer \(pyzmq .+\)/);
  else assert.match(out, /libzmq interop +skipped/);
});
