/**
 * `deno task fuzz`: runs the session and frame-decoder fuzz properties of
 * `tests/fuzz/_properties.ts`, and the PLAIN/CURVE ones of
 * `tests/fuzz/_security_properties.ts` and `tests/fuzz/_handshake_state_properties.ts`, with a large case count and prints how many
 * cases each one ran. `deno task test` runs the same properties with a small
 * count (`FUZZ_RUNS`, default 300).
 *
 * Usage: `deno task fuzz [runs-per-property] [seed] [--only=text]` (default
 * 100000 runs per property, or `FUZZ_RUNS`; a random seed, printed so a
 * failure can be replayed; `--only` runs the properties whose name contains
 * the text, or any of comma-separated texts, e.g. `--only=subscription` for the
 * subscription table's, `--only=PLAIN,CURVE` for the security ones).
 *
 * @module
 */

import fc from "fast-check";
import { counts, properties } from "../tests/fuzz/_properties.ts";
import { securityCounts, securityProperties } from "../tests/fuzz/_security_properties.ts";
import {
  handshakeStateProperties,
  stateCounts,
} from "../tests/fuzz/_handshake_state_properties.ts";

const onlyList = Deno.args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
/** Whether `--only=a,b` (any of the texts) selects the property named `name`. */
const selected = (name: string) =>
  onlyList === undefined || onlyList.split(",").some((text) => name.includes(text));
const args = Deno.args.filter((a) => !a.startsWith("--only="));
const runs = Number(args[0] ?? Deno.env.get("FUZZ_RUNS") ?? "100000");
const seed = Number(args[1] ?? Math.floor(Math.random() * 0x7fffffff));
if (!Number.isInteger(runs) || runs <= 0) {
  console.error(`Invalid run count: ${args[0]}`);
  Deno.exit(2);
}

console.log(`Monocoque fuzz: ${runs} cases per property, seed ${seed}`);
let failed = 0;
let total = 0;
for (const { name, property } of properties()) {
  if (!selected(name)) continue;
  const started = performance.now();
  try {
    fc.assert(property, { numRuns: runs, seed });
    console.log(
      `ok     ${counts[name]} cases in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s: ${name}`,
    );
  } catch (e) {
    failed++;
    console.log(`FAILED after ${counts[name]} cases: ${name}\n${(e as Error).message}`);
  }
  total += counts[name];
}
// PLAIN/CURVE: those with a key exchange per case run a tenth of the count (each case of
// those is up to ~11 X25519 operations); the handshake-state ones reuse pooled mechanisms.
const security = [
  ...securityProperties().map((p) => ({ ...p, counts: securityCounts })),
  ...handshakeStateProperties().map((p) => ({ ...p, counts: stateCounts })),
];
let securityTotal = 0;
for (const { name, property, cheap, counts: seen } of security) {
  if (!selected(name)) continue;
  const started = performance.now();
  const numRuns = cheap ? runs : Math.max(1, Math.floor(runs / 10));
  try {
    fc.assert(property, { numRuns, seed });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`ok     ${seen[name]} cases in ${seconds} s: ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAILED after ${seen[name]} cases: ${name}\n${(e as Error).message}`);
  }
  total += seen[name];
  securityTotal += seen[name];
}
console.log(`${securityTotal} of them PLAIN/CURVE handshake and MESSAGE cases`);
console.log(`${total} generated cases in total, ${failed} properties failed`);
if (failed > 0) Deno.exit(1);
