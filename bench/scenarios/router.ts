/**
 * ROUTER ← 100 DEALERs, 16 B over tcp: one ROUTER echo of the implementation
 * under test; the load is always libzmq, 4 processes of 25 DEALERs, each
 * DEALER keeping 10 requests in flight. Figure: round trips per second.
 *
 * @module
 */

import { WITH_NATIVE } from "../_runner/impls.ts";
import type { ProcSpec, Scenario } from "../_runner/types.ts";
import { delivered } from "./_measure.ts";

/** DEALERs in all, load processes, and requests in flight per DEALER. */
const ROUTER_DEALERS = 100;
const ROUTER_PROCS = 4;
const ROUTER_WINDOW = 10; // WINDOW in bench/c/zmq_bench.c

/** `router-100`. */
export function routerScenarios(): Scenario[] {
  return [{
    id: `router-${ROUTER_DEALERS}`,
    label: `ROUTER ← ${ROUTER_DEALERS} DEALERs tcp 16 B`,
    plan: (ep, count) => [
      {
        role: "server",
        impl: "self",
        args: ["router_echo", `@${ep}`, "0", "16"],
        order: 1,
        holds: true,
      },
      ...Array.from({ length: ROUTER_PROCS }, (_, i): ProcSpec => ({
        role: `load${i}`,
        impl: "libzmq",
        args: [
          "dealers_load",
          `>${ep}`,
          `${Math.max(1, Math.round(count / ROUTER_PROCS))}`,
          "16",
          `${ROUTER_DEALERS / ROUTER_PROCS}`,
        ],
        order: 2,
        holds: false,
      })),
    ],
    measure: delivered("load"),
    metrics: [{ key: "msgs_per_s", label: "round trips/s", better: "higher" }],
    prior: { libzmq: 2.5e5, zeromqjs: 5e4, monocoque: 8e4, native: 8e4 },
    bounds: [ROUTER_DEALERS * ROUTER_WINDOW * 4, 50_000_000],
    impls: WITH_NATIVE,
  }];
}
