/**
 * PUB → 100 libzmq subscribers, 16 B over tcp, lossless: the publisher is of
 * the implementation under test, the 100 subscribers are always libzmq (two
 * C harness processes of 50 SUB sockets each, cheap enough on 2 cores that
 * the publisher is the bottleneck), so the figure compares publishers (issue
 * 10: a Monocoque PUB ≥ 1.0× a libzmq PUB feeding the same subscribers).
 *
 * @module
 */

import { WITH_NATIVE } from "../_runner/impls.ts";
import type { ProcSpec, Scenario } from "../_runner/types.ts";
import { delivered } from "./_measure.ts";

const SUBSCRIBERS = 100;
const PROCS = 2;

/** `pub-100-libzmq-subs`. */
export function pubLibzmqScenarios(): Scenario[] {
  return [{
    id: `pub-${SUBSCRIBERS}-libzmq-subs`,
    label: `PUB→${SUBSCRIBERS} libzmq SUB tcp 16 B`,
    plan: (ep, count) => {
      const perSub = Math.max(1, Math.round(count / SUBSCRIBERS));
      return [
        {
          role: "publisher",
          impl: "self",
          args: ["pub_send", `@${ep}`, `${perSub}`, "16", `${SUBSCRIBERS}`],
          order: 1,
          holds: true,
        },
        ...Array.from({ length: PROCS }, (_, i): ProcSpec => ({
          role: `subscribers${i}`,
          impl: "libzmq",
          args: ["sub_recv", `>${ep}`, `${perSub}`, `${SUBSCRIBERS / PROCS}`],
          order: 2,
          holds: false,
        })),
      ];
    },
    measure: delivered("subscribers"),
    metrics: [{ key: "msgs_per_s", label: "delivered msgs/s", better: "higher" }],
    prior: { libzmq: 2.5e6, zeromqjs: 1.5e5, monocoque: 4e5, native: 4e5 },
    // At least 10 000 messages per subscriber (see fanout.ts).
    bounds: [SUBSCRIBERS * 10_000, 50_000_000],
    impls: WITH_NATIVE,
  }];
}
