/**
 * quic:// between Monocoque peers. Deno 2.9 has its QUIC API only with
 * `--unstable-net`, which the main `deno test` does not pass: so this file
 * makes throwaway certificates with openssl (a CA the child trusts through
 * `--cert`, and a second one it does not) and runs `_quic_cases.ts` in a
 * child `deno test --unstable-net`, and the socket suite's transport-generic
 * cases too, over quic only (`MONOCOQUE_TEST_TRANSPORTS=quic`). Without the
 * flag, the scheme has no transport: `EPROTONOSUPPORT` at bind and connect.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PushSocket, type ZmqError } from "../../mod.ts";
import { formatQuic, hasQuic, parseQuic } from "../../src/transport/quic.ts";
import { makeCertificate } from "../_util/certs.ts";
import { withTimeout } from "../_util/timeout.ts";

/** Runs `deno test --unstable-net --cert ca.pem` in a child with fresh certificates; its output. */
async function childTest(args: string[], env: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "monocoque-quic-" });
  try {
    await makeCertificate(dir);
    await makeCertificate(dir, "rogue_");
    const child = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--unstable-net", "--cert", `${dir}/ca.pem`, ...args],
      cwd: new URL("../../", import.meta.url).pathname,
      env: { ...env, QUIC_TEST_CERTS: dir, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = await withTimeout(child.output(), 300_000, "the child deno test");
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    return text;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("quic:// cases run in a child deno test --unstable-net", async () => {
  const text = await childTest(["tests/transport/_quic_cases.ts"]);
  assert.match(text, /ok \| \d+ passed \| 0 failed/);
});

Deno.test("the socket suite's transport-generic cases run over quic://", async () => {
  // _quic_preload.ts gives quic binds the test certificate and ignores the three cases that
  // rebind a port in the same process (Deno keeps a closed QUIC endpoint's port until GC).
  const text = await childTest(
    ["--preload", "tests/transport/_quic_preload.ts", "--filter", "(quic)", "tests/socket/"],
    { MONOCOQUE_TEST_TRANSPORTS: "quic" },
  );
  const summary = text.match(/ok \| (\d+) passed \| 0 failed \| (\d+) ignored/);
  assert.ok(summary !== null, text);
  assert.ok(Number(summary[1]) >= 100, `only ${summary[1]} cases ran over quic`);
  assert.equal(summary[2], "3", text);
});

Deno.test({
  name: "quic:// without the QUIC API is EPROTONOSUPPORT at bind and connect",
  ignore: hasQuic(),
  fn: async () => {
    await using push = new PushSocket();
    await assert.rejects(
      push.bind("quic://127.0.0.1:0"),
      (e) => (e as ZmqError).code === "EPROTONOSUPPORT",
    );
    assert.throws(
      () => push.connect("quic://127.0.0.1:5555"),
      (e) => (e as ZmqError).code === "EPROTONOSUPPORT",
    );
  },
});

Deno.test("quic:// addresses parse like tcp ones and print back", () => {
  assert.deepEqual(parseQuic("127.0.0.1:5555", "connect", "quic://127.0.0.1:5555"), {
    transport: "quic",
    host: "127.0.0.1",
    port: 5555,
  });
  assert.deepEqual(parseQuic("*:*", "bind", "quic://*:*"), {
    transport: "quic",
    host: "*",
    port: 0,
  });
  assert.equal(formatQuic(parseQuic("[::1]:7", "connect", "quic://[::1]:7")), "quic://[::1]:7");
  for (const bad of ["*:1", "host:0", "host", "host:99999", "::1:5"]) {
    assert.throws(
      () => parseQuic(bad, "connect", `quic://${bad}`),
      (e) => (e as ZmqError).code === "EINVAL",
      bad,
    );
  }
});
