/**
 * CURVE copies of PUSH→PULL tcp 16 B and 64 KiB and REQ/REP tcp 16 B: the same
 * processes with BENCH_CURVE set to a server and a client key pair (four Z85
 * keys), which every harness reads (bench/_curve.mjs, curve_opts in
 * bench/c/zmq_bench.c); the binding socket is the CURVE server. No ZAP
 * handler. Fresh key pairs each run, made by Monocoque's `curveKeyPair()`.
 *
 * @module
 */

import { DEFAULT_IMPLS, type Impl } from "../_runner/impls.ts";
import type { Scenario } from "../_runner/types.ts";

let keys = "";

/** Draws the run's key pairs (once; every CURVE scenario shares this function). */
async function makeKeys(): Promise<void> {
  const { curveKeyPair } = await import("../../mod.ts");
  const [server, client] = [curveKeyPair(), curveKeyPair()];
  keys = [server.publicKey, server.secretKey, client.publicKey, client.secretKey].join(" ");
}

/** BENCH_CURVE: server public, server secret, client public, client secret. */
function curveEnv(): Record<string, string> {
  if (!keys) throw new Error("CURVE keys were not generated");
  return { BENCH_CURVE: keys };
}

const PRIOR: Record<string, Record<Impl, number>> = {
  "thr-tcp-16": { libzmq: 8e5, zeromqjs: 1.2e5, monocoque: 1.5e5, native: 1.5e5 },
  "thr-tcp-65536": { libzmq: 1e4, zeromqjs: 8e3, monocoque: 2e3, native: 2e3 },
  "rtt-req-16": { libzmq: 10000, zeromqjs: 5000, monocoque: 5000, native: 5000 },
};

/** `curve-thr-tcp-16`, `curve-thr-tcp-65536`, `curve-rtt-req-16`, copied from `plain`. */
export function curveScenarios(plain: Scenario[]): Scenario[] {
  return plain.filter((s) => s.id in PRIOR).map((s) => ({
    ...s,
    id: `curve-${s.id}`,
    label: `CURVE ${s.label}`,
    prior: PRIOR[s.id],
    impls: DEFAULT_IMPLS,
    env: curveEnv,
    before: makeKeys,
  }));
}
