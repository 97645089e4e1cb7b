/**
 * Throwaway TLS material for the wss:// and quic:// tests: a CA and a leaf
 * certificate it signed for 127.0.0.1 and localhost, made with openssl and
 * valid for a day.
 *
 * @module
 */

import { withTimeout } from "./timeout.ts";

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await withTimeout(
    new Deno.Command("openssl", { args, cwd, stdin: "null", stdout: "piped", stderr: "piped" })
      .output(),
    30_000,
    "openssl",
  );
  if (!out.success) throw new Error(`openssl failed: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * Writes `<prefix>ca.pem` (the CA), `<prefix>cert.pem` and `<prefix>key.pem`
 * (the leaf for 127.0.0.1 and localhost) into `dir`.
 */
export async function makeCertificate(dir: string, prefix = ""): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const ca = `${prefix}ca`;
  await openssl([
    "req",
    "-x509",
    ...ec,
    ...["-keyout", `${ca}.key`, "-out", `${ca}.pem`, "-days", "1", "-subj", `/CN=${ca}`],
  ], dir);
  await openssl([
    "req",
    ...ec,
    ...["-keyout", `${prefix}key.pem`, "-out", `${prefix}leaf.csr`, "-subj", "/CN=localhost"],
  ], dir);
  await Deno.writeTextFile(
    `${dir}/${prefix}leaf.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
  );
  await openssl([
    "x509",
    "-req",
    ...["-in", `${prefix}leaf.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial"],
    ...["-out", `${prefix}cert.pem`, "-days", "1", "-extfile", `${prefix}leaf.ext`],
  ], dir);
}
