/**
 * Bounded fuzzing of each PLAIN and CURVE handshake state on its own (see
 * `_handshake_state_properties.ts`). `FUZZ_RUNS` sets the cases per cheap
 * property (default 300); those that build a handshake per case run a tenth
 * of that. `deno task fuzz` runs the same properties with a large count.
 *
 * @module
 */

import fc from "fast-check";
import { handshakeStateProperties, stateCounts } from "./_handshake_state_properties.ts";

const runs = Number(Deno.env.get("FUZZ_RUNS") ?? "300");

for (const { name, property, cheap } of handshakeStateProperties()) {
  Deno.test(`fuzz: ${name}`, () => {
    const numRuns = cheap ? runs : Math.max(1, Math.floor(runs / 10));
    const before = stateCounts[name];
    fc.assert(property, { numRuns });
    if (stateCounts[name] - before < numRuns) {
      throw new Error(`only ${stateCounts[name] - before} of ${numRuns} cases ran`);
    }
  });
}
