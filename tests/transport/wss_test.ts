/**
 * wss:// (ZWS 2.0 over TLS) between Monocoque peers with a throwaway certificate made by
 * openssl: the server is a `WsTransport` with `cert` and `key`, registered as the wss row of
 * the transport registry; the client runs in a child Deno process started with `--cert` (the
 * WHATWG WebSocket takes no CA of its own), and a client that does not trust the CA is refused.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RepSocket, WsTransport, type ZmqError } from "../../mod.ts";
import { registerTransport } from "../../src/transport/registry.ts";
import { formatWs, wsAddressParser, type WsEndpoint } from "../../src/transport/ws.ts";
import { withTimeout } from "../_util/timeout.ts";
import { recv, send, WAIT } from "../socket/_helpers.ts";

const DEFAULT = new WsTransport();

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** A CA and a certificate it signed for 127.0.0.1 and localhost, in a fresh directory. */
async function throwawayCertificate(): Promise<{ dir: string; cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "monocoque-wss-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=monocoque test CA",
  ], dir);
  await run("openssl", [
    "req",
    ...ec,
    "-keyout",
    "key.pem",
    "-out",
    "leaf.csr",
    "-subj",
    "/CN=localhost",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
  );
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "1",
    "-extfile",
    "leaf.ext",
  ], dir);
  return {
    dir,
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}

Deno.test("wss:// REQ/REP between Monocoque peers over TLS with a throwaway certificate", async () => {
  const { dir, cert, key } = await throwawayCertificate();
  const wss = new WsTransport({ cert, key });
  registerTransport<WsEndpoint>("wss", {
    parse: wsAddressParser("wss"),
    format: formatWs,
    transport: () => wss,
  });
  try {
    await using rep = new RepSocket({ receiveTimeout: WAIT });
    await rep.bind("wss://127.0.0.1:0");
    assert.match(rep.lastEndpoint!, /^wss:\/\/127\.0\.0\.1:\d+\/$/);

    // Without the CA the TLS handshake fails: the connect is refused.
    const endpoint = wsAddressParser("wss")(
      new URL(rep.lastEndpoint!).host,
      "connect",
      rep.lastEndpoint!,
    );
    await assert.rejects(
      withTimeout(new WsTransport().connect(endpoint), WAIT, "untrusted connect"),
      (e) => (e as ZmqError).code === "ECONNREFUSED",
    );

    const client = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--cert",
        `${dir}/ca.pem`,
        "tests/transport/_wss_client.ts",
        rep.lastEndpoint!,
      ],
      cwd: new URL("../../", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = client.output();
    try {
      const [request, body] = await recv(rep, 30_000);
      assert.equal(new TextDecoder().decode(request), "over tls");
      await send(rep, [request, body]);
    } finally {
      const result = await withTimeout(output, 30_000, "the wss client");
      const stdout = new TextDecoder().decode(result.stdout).trim();
      assert.equal(stdout, "over tls 100000", new TextDecoder().decode(result.stderr));
    }
  } finally {
    registerTransport<WsEndpoint>("wss", {
      parse: wsAddressParser("wss"),
      format: formatWs,
      transport: () => DEFAULT,
    });
    await Deno.remove(dir, { recursive: true });
  }
});
