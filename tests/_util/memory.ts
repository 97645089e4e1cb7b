/**
 * Live memory for the tests that bound it: V8's full collection, exposed at
 * run time (`--expose-gc` set through `node:v8`, the function taken from a new
 * context) so the tests need no command-line flag, and heap plus external
 * memory after it.
 *
 * @module
 */

import v8 from "node:v8";
import vm from "node:vm";

/** V8's full collection; a no-op when the runtime does not let us expose it. */
export const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => {
  try {
    v8.setFlagsFromString("--expose-gc");
    return vm.runInNewContext("gc") as () => void;
  } catch {
    return () => {};
  }
})();

/** Heap plus external memory in use, in bytes, after a full collection. */
export function liveMemory(): number {
  gc();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}
