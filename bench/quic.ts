/**
 * quic:// beside tcp:// between Monocoque peers in one process: PUSH→PULL
 * 16 B messages per second and REQ/REP round trips per second, the two
 * transports interleaved repetition by repetition so load on the machine
 * hits both alike; the table gives medians and the quic/tcp ratio. libzmq
 * has no QUIC, so there is no libzmq column.
 *
 *   deno task bench:quic [--count 200000] [--trips 5000] [--reps 3]
 *
 * Needs `--unstable-net` (the task passes it) and openssl, for a throwaway
 * certificate; the client trusts its CA through `QuicTransport`'s `caCerts`.
 *
 * @module
 */

import { PullSocket, PushSocket, RepSocket, ReqSocket } from "../mod.ts";
import { registerTransport } from "../src/transport/registry.ts";
import { formatQuic, hasQuic, parseQuic, QuicTransport } from "../src/transport/quic.ts";

function arg(name: string, fallback: string): number {
  const i = Deno.args.indexOf(`--${name}`);
  return parseInt(i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback, 10);
}

const count = arg("count", "200000");
const trips = arg("trips", "5000");
const reps = arg("reps", "3");

if (!hasQuic()) {
  console.error("No QUIC API: run with --unstable-net (deno task bench:quic)");
  Deno.exit(1);
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

const dir = await Deno.makeTempDir({ prefix: "monocoque-quic-bench-" });
const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
await openssl(
  ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=ca"],
  dir,
);
await openssl(
  ["req", ...ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=localhost"],
  dir,
);
await Deno.writeTextFile(`${dir}/leaf.ext`, "subjectAltName=IP:127.0.0.1\n");
await openssl([
  "x509",
  "-req",
  ...["-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"],
  ...["-out", "cert.pem", "-extfile", "leaf.ext"],
], dir);
const tls = {
  wssCertPem: await Deno.readTextFile(`${dir}/cert.pem`),
  wssKeyPem: await Deno.readTextFile(`${dir}/key.pem`),
};
const quic = new QuicTransport({ caCerts: [await Deno.readTextFile(`${dir}/ca.pem`)] });
registerTransport("quic", { parse: parseQuic, format: formatQuic, transport: () => quic });
await Deno.remove(dir, { recursive: true });

type Scheme = "tcp" | "quic";

async function pushPull(scheme: Scheme): Promise<number> {
  await using pull = new PullSocket(tls);
  await using push = new PushSocket();
  await pull.bind(`${scheme}://127.0.0.1:0`);
  push.connect(pull.lastEndpoint!);
  const payload = new Uint8Array(16);
  await push.send(payload);
  await pull.receive();
  const t0 = performance.now();
  const sending = (async () => {
    for (let i = 0; i < count; i++) await push.send(payload);
  })();
  for (let i = 0; i < count; i++) await pull.receive();
  const ms = performance.now() - t0;
  await sending;
  return count / ms * 1000;
}

async function reqRep(scheme: Scheme): Promise<number> {
  await using rep = new RepSocket(tls);
  await using req = new ReqSocket();
  await rep.bind(`${scheme}://127.0.0.1:0`);
  req.connect(rep.lastEndpoint!);
  const serving = (async () => {
    for (let i = 0; i <= trips; i++) {
      const [m] = await rep.receive();
      await rep.send(m);
    }
  })();
  const payload = new Uint8Array(16);
  await req.send(payload);
  await req.receive();
  const t0 = performance.now();
  for (let i = 0; i < trips; i++) {
    await req.send(payload);
    await req.receive();
  }
  const ms = performance.now() - t0;
  await serving;
  return trips / ms * 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: [string, (s: Scheme) => Promise<number>, string][] = [
  [`PUSH→PULL 16 B ×${count}`, pushPull, "msg/s"],
  [`REQ/REP 16 B ×${trips}`, reqRep, "trips/s"],
];
console.log(`quic:// vs tcp:// (Monocoque ↔ Monocoque, one process, median of ${reps})`);
console.log("| case | tcp:// | quic:// | quic/tcp |");
console.log("| --- | ---: | ---: | ---: |");
for (const [name, run, unit] of rows) {
  const got: Record<Scheme, number[]> = { tcp: [], quic: [] };
  for (let r = 0; r < reps; r++) {
    for (const scheme of ["tcp", "quic"] as const) got[scheme].push(await run(scheme));
  }
  const tcp = median(got.tcp);
  const q = median(got.quic);
  const fmt = (x: number) => `${Math.round(x).toLocaleString("en-US")} ${unit}`;
  console.log(`| ${name} | ${fmt(tcp)} | ${fmt(q)} | ${(q / tcp).toFixed(2)}× |`);
}
