/**
 * CURVE and PLAIN from the command line against libzmq (pyzmq) peers, in both
 * roles: keys from `--curve-*` flags, logins from `--plain-*`, and a wrong
 * password refused by the CLI's ZAP handler.
 */

import assert from "node:assert/strict";
import { curveKeyPair } from "../../mod.ts";
import { Peer } from "../_util/peer.ts";
import { Cli, cli } from "./_cli.ts";

const LOOPBACK = "tcp://127.0.0.1:0";
const td = new TextDecoder();
const str = (frames: Uint8Array[] | undefined) => frames?.map((f) => td.decode(f));

Deno.test("`monocoque rep --curve-server` answers a libzmq CURVE client", async () => {
  const server = curveKeyPair();
  const client = curveKeyPair();
  await using rep = Cli.start([
    "rep",
    "-b",
    LOOPBACK,
    "-v",
    "--echo",
    "-n",
    "1",
    "--curve-server",
    "--curve-secretkey",
    server.secretKey,
  ]);
  await using req = await Peer.start({
    type: "REQ",
    connect: await rep.listening(),
    options: {
      curveServerkey: server.publicKey,
      curvePublickey: client.publicKey,
      curveSecretkey: client.secretKey,
    },
  });
  await req.send(["secret"]);
  assert.deepEqual(str(await req.recv(20_000)), ["secret"]);
  assert.equal((await rep.result()).code, 0);
});

Deno.test("`monocoque rep --curve-server` without a key prints the public key it made up", async () => {
  await using rep = Cli.start(["rep", "-b", LOOPBACK, "-v", "--echo", "-n", "1", "--curve-server"]);
  const endpoint = await rep.listening();
  await rep.until(() => /CURVE server public key: \S{40}/.test(rep.stderr), "the server key");
  const serverKey = /CURVE server public key: (\S{40})/.exec(rep.stderr)![1];
  const r = await cli(["req", "-c", endpoint, "--curve-serverkey", serverKey, "hush"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hush\n");
  assert.equal((await rep.result()).code, 0);
});

Deno.test("`monocoque req --curve-serverkey` talks to a libzmq CURVE server with a throwaway key", async () => {
  const server = curveKeyPair();
  await using rep = await Peer.start({
    type: "REP",
    bind: LOOPBACK,
    options: { curveServer: true, curveSecretkey: server.secretKey },
  });
  const echoing = rep.echo(1, 20_000);
  const r = await cli(["req", "-c", rep.endpoint, "--curve-serverkey", server.publicKey, "hi"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hi\n");
  assert.equal(await echoing, 1);
});

Deno.test("`monocoque rep --plain-server --plain-user` accepts a libzmq PLAIN client that knows the password", async () => {
  await using rep = Cli.start([
    "rep",
    "-b",
    LOOPBACK,
    "-v",
    "--echo",
    "-n",
    "1",
    "--plain-server",
    "--plain-user",
    "admin:s3cret",
  ]);
  const endpoint = await rep.listening();
  await using req = await Peer.start({
    type: "REQ",
    connect: endpoint,
    options: { plainUsername: "admin", plainPassword: "s3cret" },
  });
  await req.send(["let me in"]);
  assert.deepEqual(str(await req.recv(20_000)), ["let me in"]);
  assert.equal((await rep.result()).code, 0);
});

Deno.test("`monocoque rep --plain-server` refuses a wrong password and says so with -v", async () => {
  await using rep = Cli.start([
    "rep",
    "-b",
    LOOPBACK,
    "-v",
    "--echo",
    "--plain-server",
    "--plain-user",
    "admin:s3cret",
  ]);
  await using _req = await Peer.start({
    type: "REQ",
    connect: await rep.listening(),
    options: { plainUsername: "admin", plainPassword: "guess" },
  });
  await rep.until(() => /HANDSHAKE_FAILED .*kind="authentication"/.test(rep.stderr), "refusal");
  rep.kill("SIGINT");
  const r = await rep.result();
  assert.equal(r.code, 130);
  assert.equal(r.stdout, "");
});

Deno.test("`monocoque req --plain-username` logs in to a libzmq PLAIN server", async () => {
  await using rep = await Peer.start({
    type: "REP",
    bind: LOOPBACK,
    options: { plainServer: true, plainUsers: "bob:pw" },
  });
  const echoing = rep.echo(1, 20_000);
  const r = await cli([
    "req",
    "-c",
    rep.endpoint,
    "--plain-username",
    "bob",
    "--plain-password",
    "pw",
    "hello",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hello\n");
  assert.equal(await echoing, 1);
});
