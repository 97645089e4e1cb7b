/**
 * CURVE for the benchmark harnesses (bench/run.ts's `curve-*` scenarios):
 * when the environment variable BENCH_CURVE holds four Z85 keys separated by
 * spaces (server public, server secret, client public, client secret), the
 * zeromq.js and Monocoque harnesses give their sockets these options, the
 * names both libraries share. The socket that binds in the benchmark modes
 * (PULL, REP, ROUTER, XPUB) is the CURVE server, the others are clients, as
 * in bench/c/zmq_bench.c where the binding socket is the server.
 *
 * Plain JavaScript so that Node 20 runs it without a build step.
 *
 * @module
 */

const SERVER_KINDS = new Set(["pull", "rep", "router", "xpub"]);

/**
 * The CURVE socket options for a socket of `kind`, or none without BENCH_CURVE.
 * @param {string} kind
 * @param {string | undefined} env the value of BENCH_CURVE
 * @returns {Record<string, unknown>}
 */
export function curveOptions(kind, env) {
  if (!env || !env.trim()) return {};
  const keys = env.trim().split(/\s+/);
  if (keys.length !== 4 || keys.some((k) => k.length !== 40)) {
    throw new Error("BENCH_CURVE needs four 40-character Z85 keys");
  }
  const [serverPublic, serverSecret, clientPublic, clientSecret] = keys;
  return SERVER_KINDS.has(kind)
    ? { curveServer: true, curveSecretKey: serverSecret }
    : { curveServerKey: serverPublic, curvePublicKey: clientPublic, curveSecretKey: clientSecret };
}
