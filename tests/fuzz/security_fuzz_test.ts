/**
 * Bounded fuzzing of the PLAIN and CURVE mechanisms and the CURVE MESSAGE
 * decoder (see `_security_properties.ts`). `FUZZ_RUNS` sets the cases per
 * cheap property (default 300); properties with key exchanges run a tenth of
 * that. `deno task fuzz` runs the same properties with a large count.
 *
 * @module
 */

import fc from "fast-check";
import { securityCounts, securityProperties } from "./_security_properties.ts";

const runs = Number(Deno.env.get("FUZZ_RUNS") ?? "300");

for (const { name, property, cheap } of securityProperties()) {
  Deno.test(`fuzz: ${name}`, () => {
    const numRuns = cheap ? runs : Math.max(1, Math.floor(runs / 10));
    const before = securityCounts[name];
    fc.assert(property, { numRuns });
    if (securityCounts[name] - before < numRuns) {
      throw new Error(`only ${securityCounts[name] - before} of ${numRuns} cases ran`);
    }
  });
}
