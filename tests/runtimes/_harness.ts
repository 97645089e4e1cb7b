/**
 * A tiny scenario runner for the Node and Bun suites: each scenario file
 * registers named async functions with {@linkcode scenario}, then calls
 * {@linkcode run}, which runs them one at a time, each bounded, and prints
 * one line per scenario (`ok - name` or `not ok - name: reason`), then
 * `N passed, M failed`, and exits non-zero on a failure. `runtimes_test.ts`
 * bundles the files with esbuild, runs them under `node` and `bun`, and reads
 * these lines. (Deno.test does not exist there, and node:test differs in Bun.)
 *
 * @module
 */

/** The runtime this bundle runs on, as the output names it. */
export const RUNTIME: string = typeof (globalThis as { Bun?: unknown }).Bun === "object"
  ? "bun"
  : "node";

/** The longest a scenario may take, in milliseconds. */
export const SCENARIO_MS = 60_000;
/** The bound of one wait on a handshake, reconnect or message, like tests/socket WAIT but loaded. */
export const WAIT = 15_000;

const scenarios: { name: string; fn: () => Promise<void> }[] = [];

/** Registers a scenario. */
export function scenario(name: string, fn: () => Promise<void>): void {
  scenarios.push({ name, fn });
}

/** Rejects if `promise` takes longer than `ms`; the timer is cleared either way. */
export async function within<T>(promise: Promise<T>, what: string, ms = WAIT): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits one macrotask turn (for polling loops bounded by a deadline). */
export function turn(ms = 10): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Strings of a message's frames. */
export function text(frames: readonly Uint8Array[]): string[] {
  return frames.map((f) => new TextDecoder().decode(f));
}

/**
 * Runs the registered scenarios (those whose name contains argv[2], if given),
 * then `cleanup`, and exits.
 */
export async function run(cleanup: () => void = () => {}): Promise<void> {
  const process = (globalThis as unknown as {
    process: { argv: string[]; exit(code: number): never };
  }).process;
  const only = process.argv[2];
  let passed = 0;
  let failed = 0;
  for (const { name, fn } of scenarios) {
    if (only !== undefined && !name.includes(only)) continue;
    try {
      await within(fn(), name, SCENARIO_MS);
      passed++;
      console.log(`ok - ${name}`);
    } catch (err) {
      failed++;
      const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
      console.log(`not ok - ${name}: ${why.replaceAll("\n", "\n  ")}`);
    }
  }
  cleanup();
  console.log(`${RUNTIME}: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
