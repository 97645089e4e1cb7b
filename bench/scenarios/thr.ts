/**
 * PUSH→PULL throughput, 16 B to 64 KiB over tcp and ipc: one sender and one
 * receiver of the implementation under test, timed at the receiver from its
 * first to its last message. The tcp rows also run the native transport
 * (sender and receiver).
 *
 * @module
 */

import { DEFAULT_IMPLS, type Impl, WITH_NATIVE } from "../_runner/impls.ts";
import { fmtSize } from "../_runner/summary.ts";
import type { ProcSpec, Scenario } from "../_runner/types.ts";
import { receiverRate, THROUGHPUT } from "./_measure.ts";

/** Message sizes of the throughput rows. */
export const SIZES = [16, 256, 4096, 65536];

/** First guesses of each implementation's rate per size. */
export const THR_PRIOR: Record<number, Record<Impl, number>> = {
  16: { libzmq: 3e6, zeromqjs: 1.5e5, monocoque: 1.5e6, native: 1.5e6 },
  256: { libzmq: 1.2e6, zeromqjs: 1.3e5, monocoque: 8e5, native: 8e5 },
  4096: { libzmq: 2e5, zeromqjs: 1e5, monocoque: 1e5, native: 1e5 },
  65536: { libzmq: 2e4, zeromqjs: 1.5e4, monocoque: 1.5e4, native: 1.5e4 },
};

/** The id of the plain PUSH→PULL row of `transport` and `size` (idiom rows refer to it). */
export const thrId = (transport: string, size: number): string => `thr-${transport}-${size}`;

/** A PULL receiver bound at `ep` and a PUSH sender of `count` messages of `size` bytes. */
export function pushPullPlan(ep: string, count: number, size: number): ProcSpec[] {
  return [
    {
      role: "receiver",
      impl: "self",
      args: ["pull_recv", `@${ep}`, `${count}`],
      order: 1,
      holds: false,
    },
    {
      role: "sender",
      impl: "self",
      args: ["push_send", `>${ep}`, `${count}`, `${size}`],
      order: 2,
      holds: true,
    },
  ];
}

/** `thr-tcp-16` … `thr-ipc-65536`. */
export function thrScenarios(): Scenario[] {
  const list: Scenario[] = [];
  for (const transport of ["tcp", "ipc"] as const) {
    for (const size of SIZES) {
      list.push({
        id: thrId(transport, size),
        label: `PUSH→PULL ${transport} ${fmtSize(size)}`,
        transport,
        plan: (ep, count) => pushPullPlan(ep, count, size),
        measure: receiverRate,
        metrics: THROUGHPUT,
        prior: THR_PRIOR[size],
        bounds: [2000, 20_000_000],
        impls: transport === "tcp" ? WITH_NATIVE : DEFAULT_IMPLS,
      });
    }
  }
  return list;
}
