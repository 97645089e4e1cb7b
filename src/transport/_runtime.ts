/**
 * Which runtime we run on, for choosing transports at load. The only file
 * outside a transport's own that asks; nothing outside `src/transport/`
 * knows the runtime.
 *
 * @module
 */

type Versions = { node?: unknown };
const versions = (globalThis as { process?: { versions?: Versions } }).process?.versions;

/** Deno with its socket API (`Deno.listen`, `Deno.connect`). */
export const DENO_NET: boolean =
  typeof (globalThis as { Deno?: { listen?: unknown } }).Deno?.listen === "function";

/**
 * Node, or Bun (which runs `node:net` too; Bun's own `Bun.listen` and
 * `Bun.connect` are not used), and not Deno: Deno also has a `process`
 * global, but its own socket API is the one to use there.
 */
export const NODE_NET: boolean = !DENO_NET && typeof versions?.node === "string";
