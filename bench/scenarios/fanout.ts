/**
 * PUB fan-out to 1, 10 and 100 subscribers, 16 B over tcp, lossless (XPUB
 * with no-drop): the publisher and its subscribers are of the implementation
 * under test (whole systems compared), at most 10 SUB sockets per process.
 * In the native column only the publisher is native.
 *
 * @module
 */

import { WITH_NATIVE } from "../_runner/impls.ts";
import type { ProcSpec, Scenario } from "../_runner/types.ts";
import { delivered } from "./_measure.ts";

/** `fanout-1`, `fanout-10`, `fanout-100`. */
export function fanoutScenarios(): Scenario[] {
  return [1, 10, 100].map((nsubs): Scenario => {
    // Subscribers of one implementation, at most 10 SUB sockets per process to fit 2 cores.
    const nprocs = Math.ceil(nsubs / 10);
    const perProc = nsubs / nprocs;
    return {
      id: `fanout-${nsubs}`,
      label: `PUB→${nsubs} SUB tcp 16 B`,
      plan: (ep, count) => {
        const perSub = Math.max(1, Math.round(count / nsubs));
        return [
          {
            role: "publisher",
            impl: "self",
            args: ["pub_send", `@${ep}`, `${perSub}`, "16", `${nsubs}`],
            order: 1,
            holds: true,
          },
          // The native run's subscribers are default Monocoque: only its publisher is native.
          ...Array.from({ length: nprocs }, (_, i): ProcSpec => ({
            role: `subscribers${i}`,
            impl: "base",
            args: ["sub_recv", `>${ep}`, `${perSub}`, `${perProc}`],
            order: 2,
            holds: false,
          })),
        ];
      },
      measure: delivered("subscribers"),
      metrics: [{ key: "msgs_per_s", label: "delivered msgs/s", better: "higher" }],
      prior: { libzmq: 2.5e6, zeromqjs: 1.5e5, monocoque: 3e5, native: 3e5 },
      // At least 10 000 messages per subscriber, whatever the measured rate: a
      // slower implementation's runs are otherwise so short (a few thousand
      // messages each) that start-up and JIT warm-up are most of what they time.
      bounds: [nsubs * 10_000, 50_000_000],
      impls: WITH_NATIVE,
    };
  });
}
