/**
 * Every scenario of `deno task bench`, in table order. A scenario family is
 * one file of this directory returning `Scenario`s (bench/_runner/types.ts);
 * to add one, write the file and list it here.
 *
 * @module
 */

import type { Scenario } from "../_runner/types.ts";
import { curveScenarios } from "./curve.ts";
import { fanoutScenarios } from "./fanout.ts";
import { gcScenarios } from "./gc.ts";
import { idiomScenarios } from "./idioms.ts";
import { idleScenarios } from "./idle.ts";
import { pubLibzmqScenarios } from "./pub_libzmq.ts";
import { routerScenarios } from "./router.ts";
import { rttScenarios } from "./rtt.ts";
import { thrScenarios } from "./thr.ts";

/** What scenario families may depend on. */
export interface ScenarioOptions {
  /** Peers of the idle-connection scenario (1000; 200 with --quick). */
  idleConnections: number;
}

/** The scenarios, in the order they run and are printed. */
export function scenarios(o: ScenarioOptions): Scenario[] {
  const thr = thrScenarios();
  const rtt = rttScenarios();
  return [
    ...thr,
    ...idiomScenarios(),
    ...rtt,
    ...gcScenarios(),
    ...fanoutScenarios(),
    ...pubLibzmqScenarios(),
    ...curveScenarios([...thr, ...rtt]),
    ...routerScenarios(),
    ...idleScenarios(o.idleConnections),
  ];
}
