/**
 * `monocoque perf` end to end: each of the four tools against the other end
 * played by our own `perf`, by a libzmq peer (pyzmq), and — where libzmq's
 * own perf tools are installed (`local_thr` ... on PATH, or in
 * `$LIBZMQ_PERF_DIR`) — by those tools. Only the output's shape and counts
 * are asserted, never a speed.
 */

import assert from "node:assert/strict";
import { Peer } from "../_util/peer.ts";
import { Cli, cli, type CliResult } from "./_cli.ts";

const THR =
  /^message size: (\d+) \[B\]\nmessage count: (\d+)\nmean throughput: \d+ \[msg\/s\]\nmean throughput: \d+\.\d{3} \[Mb\/s\]\n$/;
const LAT =
  /^message size: (\d+) \[B\]\nroundtrip count: (\d+)\naverage latency: \d+\.\d{3} \[us\]\n$/;

function freePort(): number {
  using l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return l.addr.port;
}

/** libzmq's perf tool `name`, if installed. */
function libzmqTool(name: string): string | undefined {
  const dirs = [Deno.env.get("LIBZMQ_PERF_DIR"), ...(Deno.env.get("PATH") ?? "").split(":")];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not there */ }
  }
  return undefined;
}

async function runTool(path: string, args: string[]): Promise<CliResult> {
  const out = await new Deno.Command(path, { args, stdout: "piped", stderr: "piped" }).output();
  const td = new TextDecoder();
  return {
    code: out.code,
    stdout: td.decode(out.stdout),
    bytes: out.stdout,
    stderr: td.decode(out.stderr),
  };
}

function assertFigures(r: CliResult, shape: RegExp, size: number, count: number): void {
  assert.equal(r.code, 0, r.stderr);
  const m = shape.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[1]), size);
  assert.equal(Number(m[2]), count);
}

Deno.test("`monocoque perf local-thr` and `remote-thr` measure each other over tcp", async () => {
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  await using local = Cli.start(["perf", "local-thr", endpoint, "64", "20000"]);
  const remote = await cli(["perf", "remote-thr", endpoint, "64", "20000", "--quiet"]);
  assert.equal(remote.code, 0, remote.stderr);
  assertFigures(await local.result(), THR, 64, 20000);
});

Deno.test("`monocoque perf local-lat` and `remote-lat` measure each other over tcp", async () => {
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  await using local = Cli.start(["perf", "local-lat", endpoint, "16", "500"]);
  const remote = await cli(["perf", "remote-lat", endpoint, "16", "500"]);
  assertFigures(remote, LAT, 16, 500);
  assert.equal((await local.result()).code, 0);
});

Deno.test("`monocoque perf local-thr` counts what a libzmq PUSH sends", async () => {
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  await using local = Cli.start(["perf", "local-thr", endpoint, "100", "5000"]);
  // The PUSH connects and queues: libzmq reconnects until the CLI has bound.
  await using push = await Peer.start({ type: "PUSH", connect: endpoint });
  await push.sendMany(5000, { size: 100, timeout: 20_000 });
  assertFigures(await local.result(), THR, 100, 5000);
});

Deno.test("`monocoque perf remote-thr` feeds a libzmq PULL every message", async () => {
  await using pull = await Peer.start({ type: "PULL", bind: "tcp://127.0.0.1:0" });
  const counting = pull.recvCount(5000, { timeout: 20_000 });
  const r = await cli(["perf", "remote-thr", pull.endpoint, "100", "5000"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await counting).count, 5000);
});

Deno.test("`monocoque perf remote-lat` times round trips to a libzmq REP", async () => {
  await using rep = await Peer.start({ type: "REP", bind: "tcp://127.0.0.1:0" });
  const echoing = rep.echo(300, 20_000);
  assertFigures(await cli(["perf", "remote-lat", rep.endpoint, "32", "300"]), LAT, 32, 300);
  assert.equal(await echoing, 300);
});

Deno.test("`monocoque perf local-thr` fails with 1 on a message of the wrong size", async () => {
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  await using local = Cli.start(["perf", "local-thr", endpoint, "100", "10"]);
  await cli(["perf", "remote-thr", endpoint, "50", "10"]);
  const r = await local.result();
  assert.equal(r.code, 1);
  assert.match(r.stderr, /message of incorrect size received/);
});

const tools = ["local_thr", "remote_thr", "local_lat", "remote_lat"].map(libzmqTool);

Deno.test({
  name: "`monocoque perf` runs against libzmq's own perf tools, both ways",
  ignore: tools.includes(undefined),
  async fn() {
    const [localThr, remoteThr, localLat, remoteLat] = tools as string[];
    let endpoint = `tcp://127.0.0.1:${freePort()}`;
    await using ours = Cli.start(["perf", "local-thr", endpoint, "100", "20000"]);
    assert.equal((await runTool(remoteThr, [endpoint, "100", "20000"])).code, 0);
    assertFigures(await ours.result(), THR, 100, 20000);

    endpoint = `tcp://127.0.0.1:${freePort()}`;
    const theirs = runTool(localThr, [endpoint, "100", "20000"]);
    assert.equal((await cli(["perf", "remote-thr", endpoint, "100", "20000"])).code, 0);
    assertFigures(await theirs, THR, 100, 20000);

    endpoint = `tcp://127.0.0.1:${freePort()}`;
    await using echo = Cli.start(["perf", "local-lat", endpoint, "100", "1000"]);
    assertFigures(await runTool(remoteLat, [endpoint, "100", "1000"]), LAT, 100, 1000);
    assert.equal((await echo.result()).code, 0);

    endpoint = `tcp://127.0.0.1:${freePort()}`;
    const server = runTool(localLat, [endpoint, "100", "1000"]);
    assertFigures(await cli(["perf", "remote-lat", endpoint, "100", "1000"]), LAT, 100, 1000);
    assert.equal((await server).code, 0);
  },
});
