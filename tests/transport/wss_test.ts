/**
 * wss:// (ZWS 2.0 over TLS) between Monocoque peers with a throwaway certificate made by
 * openssl: the server is a REP socket given them as `wssCertPem` and `wssKeyPem` (libzmq's
 * ZMQ_WSS_CERT_PEM / ZMQ_WSS_KEY_PEM); the client runs in a child Deno process started with `--cert` (the
 * WHATWG WebSocket takes no CA of its own), and a client that does not trust the CA is refused.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RepSocket, WsTransport, type ZmqError } from "../../mod.ts";
import { wsAddressParser } from "../../src/transport/ws.ts";
import { makeCertificate } from "../_util/certs.ts";
import { withTimeout } from "../_util/timeout.ts";
import { recv, send, WAIT } from "../socket/_helpers.ts";

/** A CA and a certificate it signed for 127.0.0.1 and localhost, in a fresh directory. */
async function throwawayCertificate(): Promise<{ dir: string; cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "monocoque-wss-" });
  await makeCertificate(dir);
  return {
    dir,
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}

Deno.test("wss:// REQ/REP between Monocoque peers over TLS with a throwaway certificate", async () => {
  const { dir, cert, key } = await throwawayCertificate();
  try {
    await using rep = new RepSocket({ receiveTimeout: WAIT, wssCertPem: cert, wssKeyPem: key });
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
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wssCertPem and wssKeyPem go together, as strings; wsCheckOrigin is a function", () => {
  assert.throws(() => new RepSocket({ wssCertPem: "x" }), TypeError);
  assert.throws(() => new RepSocket({ wssKeyPem: "x" }), TypeError);
  assert.throws(() => new RepSocket({ wssCertPem: 1 as never, wssKeyPem: "x" }), TypeError);
  assert.throws(() => new RepSocket({ wsCheckOrigin: true as never }), TypeError);
});
