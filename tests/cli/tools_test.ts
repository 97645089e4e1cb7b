/**
 * The tool commands end to end: `keygen` output decodes as Z85 CURVE keys,
 * `monitor` prints a socket's events as libzmq peers come and go, `proxy`
 * forwards between libzmq peers and obeys TERMINATE on its control socket.
 */

import assert from "node:assert/strict";
import { curvePublicKey, z85Decode } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { Cli, cli } from "./_cli.ts";

const LOOPBACK = "tcp://127.0.0.1:0";
const td = new TextDecoder();
const str = (frames: Uint8Array[] | undefined) => frames?.map((f) => td.decode(f));

Deno.test("`monocoque keygen` prints a CURVE key pair whose keys decode as Z85 and match", async () => {
  const r = await cli(["keygen"]);
  assert.equal(r.code, 0, r.stderr);
  const m = /^public-key: (\S{40})\nsecret-key: (\S{40})\n$/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const [, publicKey, secretKey] = m;
  assert.equal(z85Decode(publicKey).length, 32);
  assert.equal(z85Decode(secretKey).length, 32);
  assert.equal(curvePublicKey(secretKey), publicKey);
});

Deno.test("`monocoque keygen --secret --json` derives the public key of a secret key", async () => {
  const first = JSON.parse((await cli(["keygen", "--json"])).stdout);
  const r = await cli(["keygen", "--json", "--secret", first.secretKey]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), first);
});

Deno.test("`monocoque monitor` prints listening, accepted, handshake and disconnect events live", async () => {
  await using monitor = Cli.start(["monitor", "pull", "-b", LOOPBACK, "-J"]);
  const events = () => monitor.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  await monitor.until(() => monitor.stdout.includes("LISTENING"), "LISTENING");
  const endpoint = events()[0].endpoint;
  const push = await Peer.start({ type: "PUSH", connect: endpoint });
  await monitor.until(() => monitor.stdout.includes("HANDSHAKE_SUCCEEDED"), "the handshake");
  await push.close();
  await monitor.until(() => monitor.stdout.includes("DISCONNECTED"), "the disconnection");
  monitor.kill("SIGINT");
  const r = await monitor.result();
  assert.equal(r.code, 130);
  const names = events().map((e) => e.event);
  assert.deepEqual(names.slice(0, 4), [
    "LISTENING",
    "ACCEPTED",
    "HANDSHAKE_SUCCEEDED",
    "DISCONNECTED",
  ]);
  assert.equal(events()[2].peer, "PUSH");
});

Deno.test("`monocoque monitor` on a connecting socket shows the handshake with a libzmq REP", async () => {
  await using rep = await Peer.start({ type: "REP", bind: LOOPBACK });
  // Waits for the handshake line rather than a fixed -t, which a loaded machine can outlast.
  await using monitor = Cli.start(["monitor", "req", "-c", rep.endpoint]);
  await monitor.until(() => monitor.stdout.includes("HANDSHAKE_SUCCEEDED"), "the handshake");
  monitor.kill("SIGINT");
  const r = await monitor.result();
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stdout, /CONNECTED tcp:\/\/127\.0\.0\.1:\d+\n/);
  assert.match(r.stdout, /HANDSHAKE_SUCCEEDED tcp:\/\/127\.0\.0\.1:\d+ peer="REP"/);
});

Deno.test("`monocoque proxy pull push` forwards between libzmq peers, copies to --capture and stops on TERMINATE", async () => {
  await using proxy = Cli.start([
    "proxy",
    "pull",
    "push",
    "--frontend-bind",
    LOOPBACK,
    "--backend-bind",
    LOOPBACK,
    "--capture",
    LOOPBACK,
    "--control",
    LOOPBACK,
    "-v",
  ]);
  const bound = (name: string) => new RegExp(`${name} bound (\\S+)`).exec(proxy.stderr)?.[1];
  await proxy.until(() => bound("control") !== undefined, "the control endpoint");
  await using producer = await Peer.start({ type: "PUSH", connect: bound("frontend") });
  await using worker = await Peer.start({ type: "PULL", connect: bound("backend") });
  await using capture = await Peer.start({
    type: "SUB",
    connect: bound("capture"),
    options: { subscribe: "" },
  });
  // libzmq sends a SUB's subscription from its application thread: wait in a receive.
  await proxy.until(() => /capture .*HANDSHAKE_SUCCEEDED/.test(proxy.stderr), "capture handshake");
  const copied = capture.recv(20_000);
  await proxy.until(() => /backend .*HANDSHAKE_SUCCEEDED/.test(proxy.stderr), "worker handshake");
  // The capture subscription may still be in flight: send until a copy shows up.
  await producer.send(["task", "1"]);
  assert.deepEqual(str(await worker.recv(20_000)), ["task", "1"]);
  let copy = await copied;
  for (let i = 2; copy === undefined && i < 20; i++) {
    await producer.send(["task", String(i)]);
    await worker.recv(20_000);
    copy = await capture.recv(1000);
  }
  assert.equal(str(copy)?.[0], "task");
  await using control = await Peer.start({ type: "REQ", connect: bound("control") });
  await control.send(["TERMINATE"]);
  assert.deepEqual(str(await control.recv(20_000)), [""]);
  const r = await proxy.result();
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("`monocoque proxy router dealer` is a broker between libzmq REQ and REP peers", async () => {
  await using proxy = Cli.start([
    "proxy",
    "router",
    "dealer",
    "--frontend-bind",
    LOOPBACK,
    "--backend-bind",
    LOOPBACK,
    "-v",
  ]);
  const bound = (name: string) => new RegExp(`${name} bound (\\S+)`).exec(proxy.stderr)?.[1];
  await proxy.until(() => bound("backend") !== undefined, "the backend endpoint");
  await using rep = await Peer.start({ type: "REP", connect: bound("backend") });
  await using req = await Peer.start({ type: "REQ", connect: bound("frontend") });
  const served = rep.echo(1, 20_000);
  await req.send(["through the broker"]);
  assert.deepEqual(str(await req.recv(20_000)), ["through the broker"]);
  assert.equal(await served, 1);
  proxy.kill("SIGINT");
  assert.equal((await proxy.result()).code, 130);
});
