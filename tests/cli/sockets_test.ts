/**
 * The socket commands end to end, as child processes: pipes between two CLIs,
 * and each pattern against real libzmq peers (pyzmq on libzmq 4.3.4; the
 * draft types against zeromq.js under Node).
 */

import assert from "node:assert/strict";
import { Peer } from "../_util/peer.ts";
import { Cli, cli, CLI_WAIT } from "./_cli.ts";

const LOOPBACK = "tcp://127.0.0.1:0";
const te = new TextEncoder();
const td = new TextDecoder();
const str = (frames: Uint8Array[] | undefined) => frames?.map((f) => td.decode(f));

Deno.test("lines piped into `monocoque push` come out of `monocoque pull`, tabs splitting frames", async () => {
  await using pull = Cli.start(["pull", "-b", LOOPBACK, "-v", "-n", "3", "-J"]);
  const endpoint = await pull.listening();
  const push = await cli(["push", "-c", endpoint], { stdin: "a\tb\nc\n\td\n" });
  assert.equal(push.code, 0, push.stderr);
  const r = await pull.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '["a","b"]\n["c"]\n["","d"]\n');
});

Deno.test("`monocoque push` over ipc reaches a libzmq PULL with its frames intact", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using pull = await Peer.start({ type: "PULL", bind: `ipc://${dir}/pull.sock` });
    const push = await cli(["push", "-c", pull.endpoint, "-Q", "hello\\x00\tworld"]);
    assert.equal(push.code, 0, push.stderr);
    const got = await pull.recv();
    assert.deepEqual(got, [te.encode("hello\0"), te.encode("world")]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`monocoque pull` prints what a libzmq PUSH sends, binary frames as base64 in JSON lines", async () => {
  await using pull = Cli.start(["pull", "-b", LOOPBACK, "-v", "-n", "2", "-J"]);
  await using push = await Peer.start({ type: "PUSH", connect: await pull.listening() });
  await push.send(["text", new Uint8Array([0, 255])]);
  await push.send(["second"]);
  const r = await pull.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '["text",{"base64":"AP8="}]\n["second"]\n');
});

Deno.test("`monocoque req` prints the replies of a libzmq REP, one per request", async () => {
  await using rep = await Peer.start({ type: "REP", bind: LOOPBACK });
  const echoing = rep.echo(2, 20_000);
  const r = await cli(["req", "-c", rep.endpoint, "one", "-D", "two\tparts"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await echoing, 2);
  assert.equal(r.stdout, "one\ntwo\tparts\n");
});

Deno.test("`monocoque rep --echo` answers a libzmq REQ", async () => {
  await using rep = Cli.start(["rep", "-b", LOOPBACK, "-v", "--echo", "-n", "1"]);
  await using req = await Peer.start({ type: "REQ", connect: await rep.listening() });
  await req.send(["ping", "pong"]);
  assert.deepEqual(str(await req.recv(20_000)), ["ping", "pong"]);
  const r = await rep.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "ping\tpong\n");
});

Deno.test("`monocoque rep` replies with stdin lines in turn", async () => {
  await using rep = Cli.start(["rep", "-b", LOOPBACK, "-v", "-n", "2"], { stdin: true });
  await using req = await Peer.start({ type: "REQ", connect: await rep.listening() });
  await rep.write("first reply\nsecond reply\n");
  await req.send(["q1"]);
  assert.deepEqual(str(await req.recv(20_000)), ["first reply"]);
  await req.send(["q2"]);
  assert.deepEqual(str(await req.recv(20_000)), ["second reply"]);
  assert.equal((await rep.result()).stdout, "q1\nq2\n");
});

Deno.test("`monocoque sub -s` prints only the matching messages of a libzmq PUB", async () => {
  await using pub = await Peer.start({ type: "PUB", bind: LOOPBACK });
  await using sub = Cli.start(["sub", "-c", pub.endpoint, "-s", "weather.", "-n", "2"]);
  // A PUB drops what it sends before the subscription arrives, and pyzmq's PUB says nothing
  // when it does: publish rounds until two matching messages got through.
  // Bounded by time, not rounds: the CLI's own start-up can take seconds on a loaded machine.
  let round = 0;
  const deadline = Date.now() + CLI_WAIT;
  while (sub.stdout.split("\n").length < 3) {
    await pub.send([`sports.${round}`]);
    await pub.send([`weather.${round++}`]);
    await sub.until(() => sub.stdout.split("\n").length >= 3, "two messages", 200).catch(() => {});
    assert.ok(Date.now() < deadline, `the subscriber got nothing in ${round} rounds`);
  }
  const r = await sub.result();
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 2);
  for (const line of lines) assert.match(line, /^weather\.\d+$/);
});

Deno.test("`monocoque pub` waits for a libzmq SUB to subscribe, then publishes", async () => {
  await using sub = await Peer.start({
    type: "SUB",
    bind: LOOPBACK,
    options: { subscribe: "t " },
  });
  // libzmq sends a SUB's subscriptions from the application thread: keep it in a receive.
  const first = sub.recv(20_000);
  const r = await cli(["pub", "-c", sub.endpoint, "t hello", "x dropped", "t bye", "-t", "20"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(str(await first), ["t hello"]);
  assert.deepEqual(str(await sub.recv()), ["t bye"]);
});

Deno.test("`monocoque dealer --identity` talks to a libzmq ROUTER", async () => {
  await using router = await Peer.start({ type: "ROUTER", bind: LOOPBACK });
  await using dealer = Cli.start([
    "dealer",
    "-c",
    router.endpoint,
    "--identity",
    "w1",
    "-n",
    "1",
    "hi",
  ]);
  assert.deepEqual(str(await router.recv(20_000)), ["w1", "hi"]);
  await router.send(["w1", "welcome"]);
  const r = await dealer.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "welcome\n");
});

Deno.test("`monocoque router --echo` prints the sender's routing id and answers it", async () => {
  await using router = Cli.start(["router", "-b", LOOPBACK, "-v", "--echo", "-n", "1"]);
  await using dealer = await Peer.start({
    type: "DEALER",
    connect: await router.listening(),
    options: { routingId: "d1" },
  });
  await dealer.send(["job"]);
  assert.deepEqual(str(await dealer.recv(20_000)), ["job"]);
  assert.equal((await router.result()).stdout, "d1\tjob\n");
});

Deno.test("`monocoque pair` sends stdin lines and prints what a libzmq PAIR sends", async () => {
  await using pair = Cli.start(["pair", "-b", LOOPBACK, "-v", "-n", "1"], { stdin: true });
  await using peer = await Peer.start({ type: "PAIR", connect: await pair.listening() });
  await pair.write("from the cli\n");
  assert.deepEqual(str(await peer.recv(20_000)), ["from the cli"]);
  await peer.send(["from libzmq"]);
  const r = await pair.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "from libzmq\n");
});

Deno.test("`monocoque xpub -Q` prints the subscriptions of a libzmq SUB", async () => {
  await using xpub = Cli.start(["xpub", "-b", LOOPBACK, "-v", "-n", "1", "-Q"]);
  await using _sub = await Peer.start({
    type: "SUB",
    connect: await xpub.listening(),
    options: { subscribe: "news" },
  });
  const r = await xpub.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "\\x01news\n");
});

Deno.test("`monocoque push -i -n` repeats a message on an interval", async () => {
  await using pull = await Peer.start({ type: "PULL", bind: LOOPBACK });
  const r = await cli(["push", "-c", pull.endpoint, "-D", "tick", "-i", "0.01", "-n", "3"]);
  assert.equal(r.code, 0, r.stderr);
  const run = await pull.recvCount(3, { timeout: 20_000 });
  assert.equal(run.count, 3);
});

Deno.test("`monocoque push -F` sends a file as one message", async () => {
  const file = await Deno.makeTempFile();
  try {
    const content = new Uint8Array(100_000).map((_, i) => i % 251);
    await Deno.writeFile(file, content);
    await using pull = await Peer.start({ type: "PULL", bind: LOOPBACK });
    const r = await cli(["push", "-c", pull.endpoint, "-F", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await pull.recv(), [content]);
  } finally {
    await Deno.remove(file);
  }
});

for (const format of ["raw", "msgpack"] as const) {
  Deno.test(`\`monocoque pull --${format}\` output piped into \`monocoque push --${format}\` keeps every byte`, async () => {
    const frames = [new Uint8Array([0, 1, 2, 255]), new Uint8Array(300).fill(7)];
    await using source = await Peer.start({ type: "PUSH", bind: LOOPBACK });
    await using sink = await Peer.start({ type: "PULL", bind: LOOPBACK });
    await using pull = Cli.start(["pull", "-c", source.endpoint, `--${format}`, "-n", "2"]);
    await source.send(frames);
    await source.send(["end"]);
    const captured = await pull.result();
    assert.equal(captured.code, 0, captured.stderr);
    const push = await cli(["push", "-c", sink.endpoint, `--${format}`], { stdin: captured.bytes });
    assert.equal(push.code, 0, push.stderr);
    assert.deepEqual(await sink.recv(), frames);
    assert.deepEqual(str(await sink.recv()), ["end"]);
  });
}

Deno.test("`monocoque client` gets replies from a zeromq.js SERVER", async () => {
  await using server = await Peer.start({ impl: "zeromqjs", type: "SERVER", bind: LOOPBACK });
  await using client = Cli.start(["client", "-c", server.endpoint, "hello"]);
  const request = await server.recv(20_000);
  assert.deepEqual(str(request), ["hello"]);
  await server.send(["world"], { routingId: request!.routingId });
  const r = await client.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "world\n");
});

Deno.test("`monocoque server --echo` prints the routing id and answers a zeromq.js CLIENT", async () => {
  await using server = Cli.start(["server", "-b", LOOPBACK, "-v", "--echo", "-n", "1"]);
  await using client = await Peer.start({
    impl: "zeromqjs",
    type: "CLIENT",
    connect: await server.listening(),
  });
  await client.send(["marco"]);
  assert.deepEqual(str(await client.recv(20_000)), ["marco"]);
  assert.match((await server.result()).stdout, /^\d+\tmarco\n$/);
});

Deno.test("`monocoque scatter` feeds a zeromq.js GATHER", async () => {
  await using gather = await Peer.start({ impl: "zeromqjs", type: "GATHER", bind: LOOPBACK });
  const r = await cli(["scatter", "-c", gather.endpoint, "piece"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(str(await gather.recv()), ["piece"]);
});

Deno.test("`monocoque dish -j` prints the group and message a zeromq.js RADIO publishes", async () => {
  await using dish = Cli.start(["dish", "-b", LOOPBACK, "-v", "-j", "news", "-n", "1"]);
  await using radio = await Peer.start({
    impl: "zeromqjs",
    type: "RADIO",
    connect: await dish.listening(),
  });
  // The JOIN travels after the handshake; RADIO drops until it lands.
  const deadline = Date.now() + CLI_WAIT;
  while (!dish.stdout && Date.now() < deadline) {
    await radio.send(["flash"], { group: "news" });
    await dish.until(() => dish.stdout !== "", "a message", 200).catch(() => {});
  }
  const r = await dish.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "news\tflash\n");
});

Deno.test("`monocoque pull -e` transforms and filters what a libzmq PUSH sends", async () => {
  await using pull = Cli.start([
    "pull",
    "-b",
    LOOPBACK,
    "-v",
    "-n",
    "3",
    "-e",
    "_.startsWith('#') ? null : [F.length, ..._.toUpperCase()]",
  ]);
  await using push = await Peer.start({ type: "PUSH", connect: await pull.listening() });
  for (const m of [["ab", "c"], ["#skip"], ["x"]]) await push.send(m);
  const r = await pull.result();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "2\tA\tB\n1\tX\n");
});

Deno.test("`monocoque pub -E -i -n` makes its messages and a libzmq SUB gets them", async () => {
  await using sub = await Peer.start({ type: "SUB", bind: LOOPBACK, options: { subscribe: "" } });
  const first = sub.recv(20_000);
  const r = await cli([
    "pub",
    "-c",
    sub.endpoint,
    "-E",
    "`tick ${Date.now()}`",
    "-i",
    "0.01",
    "-n",
    "3",
  ]);
  assert.equal(r.code, 0, r.stderr);
  for (const m of [await first, await sub.recv(), await sub.recv()]) {
    assert.match(str(m)![0], /^tick \d+$/);
  }
});

Deno.test("`monocoque pull` binds several endpoints and prints what arrives on each", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using pull = Cli.start([
      "pull",
      "-b",
      LOOPBACK,
      "-b",
      `ipc://${dir}/second.sock`,
      "-v",
      "-n",
      "2",
    ]);
    await pull.until(() => pull.stderr.split("LISTENING").length === 3, "two LISTENING lines");
    const [tcp, ipc] = [...pull.stderr.matchAll(/LISTENING (\S+)/g)].map((m) => m[1]);
    await using a = await Peer.start({ type: "PUSH", connect: tcp });
    await a.send(["over tcp"]);
    await pull.until(() => pull.stdout.includes("over tcp"), "the tcp message");
    await using b = await Peer.start({ type: "PUSH", connect: ipc });
    await b.send(["over ipc"]);
    const r = await pull.result();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "over tcp\nover ipc\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`monocoque push --reconnect-ivl` keeps dialling until a libzmq PULL binds", async () => {
  const port = (() => {
    using l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return l.addr.port;
  })();
  await using push = Cli.start([
    "push",
    "-c",
    `tcp://127.0.0.1:${port}`,
    "--reconnect-ivl",
    "0.05..0.2",
    "-v",
    "late",
  ]);
  await push.until(() => push.stderr.includes("CONNECT_RETRIED"), "a retried connect");
  await using pull = await Peer.start({ type: "PULL", bind: `tcp://127.0.0.1:${port}` });
  assert.deepEqual(str(await pull.recv(20_000)), ["late"]);
  assert.equal((await push.result()).code, 0);
});
