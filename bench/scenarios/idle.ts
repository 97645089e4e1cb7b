/**
 * Memory per idle connection: one ROUTER of the implementation under test,
 * N libzmq DEALER peers in one other process that each send one hello; the
 * ROUTER's RSS growth ÷ N.
 *
 * @module
 */

import type { Scenario } from "../_runner/types.ts";
import { resultOf } from "./_measure.ts";

/** `idle-conns` with `connections` peers. */
export function idleScenarios(connections: number): Scenario[] {
  return [{
    id: "idle-conns",
    label: `memory per idle connection (${connections} peers)`,
    plan: (ep) => [
      {
        role: "server",
        impl: "self",
        args: ["idle_router", `@${ep}`, `${connections}`],
        order: 1,
        holds: false,
      },
      // The peers are always libzmq: only the server side is measured.
      {
        role: "peers",
        impl: "libzmq",
        args: ["idle_dealers", `>${ep}`, `${connections}`],
        order: 2,
        holds: true,
      },
    ],
    measure: (results) => ({
      kb_per_conn: +resultOf(results, "server").bytes_per_conn / 1024,
      rate: 1,
    }),
    metrics: [{ key: "kb_per_conn", label: "KiB/conn", better: "lower" }],
    prior: { libzmq: 1, zeromqjs: 1, monocoque: 1, native: 1 },
    bounds: [1, 1],
  }];
}
