/**
 * Round-trip latency, REQ/REP and DEALER/ROUTER, 16 B and 4 KiB over tcp:
 * client and echo server of the implementation under test; p50, p99 and
 * p99.9 at the client. REQ/REP also runs the native transport (both sides).
 *
 * @module
 */

import { DEFAULT_IMPLS, WITH_NATIVE } from "../_runner/impls.ts";
import { fmtSize } from "../_runner/summary.ts";
import type { Scenario } from "../_runner/types.ts";
import { LATENCY, roundTrips } from "./_measure.ts";

/** `rtt-req-16`, `rtt-req-4096`, `rtt-dealer-16`, `rtt-dealer-4096`. */
export function rttScenarios(): Scenario[] {
  const list: Scenario[] = [];
  const patterns = [
    ["REQ/REP", "rep_echo", "req_rtt"],
    ["DEALER/ROUTER", "router_echo", "dealer_rtt"],
  ];
  for (const [pattern, server, client] of patterns) {
    for (const size of [16, 4096]) {
      list.push({
        id: `rtt-${client.split("_")[0]}-${size}`,
        label: `${pattern} tcp ${fmtSize(size)}`,
        plan: (ep, count) => [
          {
            role: "server",
            impl: "self",
            args: [server, `@${ep}`, "0", `${size}`],
            order: 1,
            holds: true,
          },
          {
            role: "client",
            impl: "self",
            args: [client, `>${ep}`, `${count}`, `${size}`],
            order: 2,
            holds: false,
          },
        ],
        measure: roundTrips,
        metrics: LATENCY,
        prior: { libzmq: 12000, zeromqjs: 6000, monocoque: 8000, native: 8000 },
        bounds: [500, 200_000],
        impls: client === "req_rtt" ? WITH_NATIVE : DEFAULT_IMPLS,
      });
    }
  }
  return list;
}
