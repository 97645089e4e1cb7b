/**
 * Which runtime we run on, for choosing transports at load. The only file
 * outside a transport's own that asks; nothing outside `src/transport/`
 * knows the runtime.
 *
 * @module
 */

type Versions = { node?: unknown; bun?: unknown };
const versions = (globalThis as { process?: { versions?: Versions } }).process?.versions;

/** Deno with its socket API (`Deno.listen`, `Deno.connect`). */
export const DENO_NET: boolean =
  typeof (globalThis as { Deno?: { listen?: unknown } }).Deno?.listen === "function";

/**
 * Node (or Bun, which runs `node:net` too) and not Deno: Deno also has a
 * `process` global, but its own socket API is the faster one there.
 */
export const NODE_NET: boolean = !DENO_NET && typeof versions?.node === "string";

/** Bun (also {@linkcode NODE_NET}): its own `Bun.listen`/`Bun.connect` exist but are not used. */
export const BUN: boolean = typeof versions?.bun === "string";
