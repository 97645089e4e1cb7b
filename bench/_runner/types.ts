/**
 * What a benchmark scenario is: the processes of one run, how their results
 * become figures, and the figures' table rows. A scenario family is one file
 * under bench/scenarios/ that returns a list of these; bench/scenarios/mod.ts
 * registers the families.
 *
 * @module
 */

import type { GcEvent } from "./gc_trace.ts";
import type { Impl } from "./impls.ts";
import type { Json } from "./proc.ts";

/** One harness process of a run. */
export interface ProcSpec {
  /** Its name in the results ("receiver", "subscribers0", ...). */
  role: string;
  /**
   * Which implementation runs it: the one under test ("self"), the one under
   * test without the native transport ("base": native runs default
   * Monocoque there), or a fixed one.
   */
  impl: Impl | "self" | "base";
  args: string[];
  /** 1: started first (binds); 2: started once every 1 is ready. */
  order: 1 | 2;
  /** Holders keep their socket open until the others reported (stdin closed). */
  holds: boolean;
  /** Extra `deno run` flags when a Monocoque harness runs it (e.g. `--v8-flags=--trace-gc`). */
  denoFlags?: string[];
}

/** What one process of a finished run reported. */
export interface RoleResult {
  role: string;
  result: Json;
  /** Its `--trace-gc` collections, if it ran with the flag. */
  gc: readonly GcEvent[];
}

/** One figure of a scenario: a table row. */
export interface Metric {
  key: string;
  label: string;
  better: "higher" | "lower";
}

/** One benchmark scenario: one or more table rows. */
export interface Scenario {
  /** Unique; `--filter` matches substrings of it. */
  id: string;
  label: string;
  /** Endpoint transport (default tcp). */
  transport?: "tcp" | "ipc";
  /** Processes for one run of `impl` with `count` messages on endpoint `ep`. */
  plan(ep: string, count: number, impl: Impl): ProcSpec[];
  /** The figures of one run; `rate` (per second, what `count` scales with) is required. Throws on losses. */
  measure(results: RoleResult[]): Record<string, number>;
  /** The table rows: which of `measure`'s figures are shown. */
  metrics: Metric[];
  /** Initial guess of the rate that `count` scales with, per second. */
  prior: Record<Impl, number>;
  /** Smallest and largest sensible count. */
  bounds: [number, number];
  /** Implementations that run it (default DEFAULT_IMPLS). */
  impls?: Impl[];
  /** Environment of its processes beyond the runner's own. */
  env?: () => Record<string, string>;
  /** Runs once before the first run of any scenario sharing this function (e.g. key generation). */
  before?: () => Promise<void>;
  /**
   * Another scenario this one is read against (e.g. an idiom against the
   * `await receive()` loop row): the runner includes it when filtering and
   * prints the ratio of this row's Monocoque figure to it.
   */
  reference?: string;
}
