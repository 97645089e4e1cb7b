/**
 * Young-generation GC per round trip (issue 10's tails): Monocoque REQ/REP
 * 16 B over tcp with both processes run under
 * `--v8-flags=--trace-gc,--expose-gc`. Each harness calls `gc()` at the start
 * and the end of its window (bench/_modes.mjs `gcMark`): the client's window
 * is its timed round trips (after warm-up), the server's everything it echoed
 * after it was ready. The runner counts the Scavenges between the marks
 * (bench/_runner/gc_trace.ts) and reports them, with their total pause, per
 * 10 000 round trips, so allocation cuts on the hot path show as numbers.
 *
 * @module
 */

import { tallyGc } from "../_runner/gc_trace.ts";
import type { RoleResult, Scenario } from "../_runner/types.ts";
import { resultOf } from "./_measure.ts";

const FLAGS = ["--v8-flags=--trace-gc,--expose-gc"];
const PER = 10_000;

/** Scavenges and their pause per 10 000 round trips of `role` (`trips` in its window). */
function perTrips(results: RoleResult[], role: string, trips: number): Record<string, number> {
  const gc = results.find((x) => x.role === role)?.gc ?? [];
  const t = tallyGc(gc);
  if (!t.windowed) throw new Error(`${role}: no gc() marks in its --trace-gc output`);
  if (!(trips > 0)) throw new Error(`${role}: no round trips`);
  return {
    [`${role}_young_per_10k`]: t.young * PER / trips,
    [`${role}_young_ms_per_10k`]: t.youngPauseMs * PER / trips,
    [`${role}_full`]: t.full,
    [`${role}_young`]: t.young,
  };
}

/** `gc-req-16`. */
export function gcScenarios(): Scenario[] {
  return [{
    id: "gc-req-16",
    label: "GC: REQ/REP tcp 16 B, per 10k round trips",
    plan: (ep, count) => [
      {
        role: "server",
        impl: "self",
        args: ["rep_echo", `@${ep}`, "0", "16"],
        order: 1,
        holds: true,
        denoFlags: FLAGS,
      },
      {
        role: "client",
        impl: "self",
        args: ["req_rtt", `>${ep}`, `${count}`, "16"],
        order: 2,
        holds: false,
        denoFlags: FLAGS,
      },
    ],
    measure: (results) => {
      const client = resultOf(results, "client");
      const server = resultOf(results, "server");
      return {
        ...perTrips(results, "client", +client.count),
        ...perTrips(results, "server", +server.count),
        p99_us: +client.p99_us,
        rate: +client.rtt_per_s,
      };
    },
    metrics: [
      { key: "client_young_per_10k", label: "client Scavenges", better: "lower" },
      { key: "client_young_ms_per_10k", label: "client Scavenge ms", better: "lower" },
      { key: "server_young_per_10k", label: "server Scavenges", better: "lower" },
      { key: "server_young_ms_per_10k", label: "server Scavenge ms", better: "lower" },
    ],
    prior: { libzmq: 12000, zeromqjs: 6000, monocoque: 8000, native: 8000 },
    // Enough round trips that a few dozen Scavenges fall in the window even in --quick.
    bounds: [20_000, 200_000],
    impls: ["monocoque"],
  }];
}
