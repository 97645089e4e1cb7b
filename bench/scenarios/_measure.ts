/**
 * How the common harness results become figures, shared by the scenario
 * families: receiver throughput, client round-trip latency, and messages
 * delivered across several receiving processes. Each throws when a run lost
 * messages, so a lossy run is reported as failed rather than fast.
 *
 * @module
 */

import type { Metric, RoleResult } from "../_runner/types.ts";

/** The result of `role`; throws if it did not report. */
export function resultOf(results: RoleResult[], role: string): RoleResult["result"] {
  const r = results.find((x) => x.role === role)?.result;
  if (!r) throw new Error(`${role} reported nothing`);
  return r;
}

/** PULL receiver throughput (`pull_recv`, `idiom_recv`), first to last message. */
export function receiverRate(results: RoleResult[]): Record<string, number> {
  const r = resultOf(results, "receiver");
  if (r.count !== r.expected) throw new Error(`receiver got ${r.count} of ${r.expected}`);
  return { msgs_per_s: +r.msgs_per_s, mb_per_s: +r.mb_per_s, rate: +r.msgs_per_s };
}

/** Round-trip latency at the client (`req_rtt`, `dealer_rtt`). */
export function roundTrips(results: RoleResult[]): Record<string, number> {
  const r = resultOf(results, "client");
  return {
    p50_us: +r.p50_us,
    p99_us: +r.p99_us,
    p999_us: +r.p999_us,
    mean_us: +r.mean_us,
    rate: +r.rtt_per_s,
  };
}

/**
 * Messages (or round trips) per second over every process whose role starts
 * with `prefix`, from the first any of them got to the last.
 */
export function delivered(prefix: string): (results: RoleResult[]) => Record<string, number> {
  return (results) => {
    const subs = results.filter((x) => x.role.startsWith(prefix)).map((x) => x.result);
    const got = subs.reduce((n, r) => n + +r.count, 0);
    const expected = subs.reduce((n, r) => n + +r.expected, 0);
    const first = Math.min(...subs.map((r) => +r.t_first_us));
    const last = Math.max(...subs.map((r) => +r.t_last_us));
    const secs = (last - first) / 1e6;
    if (got !== expected) {
      throw new Error(
        `lossy: ${prefix} got ${got} of ${expected} (${(100 * got / expected).toFixed(1)} %)`,
      );
    }
    const rate = secs > 0 ? got / secs : 0;
    return { msgs_per_s: rate, rate };
  };
}

/** The throughput row. */
export const THROUGHPUT: Metric[] = [{ key: "msgs_per_s", label: "msgs/s", better: "higher" }];
/** The latency rows. */
export const LATENCY: Metric[] = [
  { key: "p50_us", label: "RTT p50 µs", better: "lower" },
  { key: "p99_us", label: "RTT p99 µs", better: "lower" },
  { key: "p999_us", label: "RTT p99.9 µs", better: "lower" },
];
