/**
 * Which runtime we run on, for choosing transports at load. The only file
 * outside a transport's own that asks; nothing outside `src/transport/`
 * knows the runtime.
 *
 * @module
 */

/** Deno with its socket API (`Deno.listen`, `Deno.connect`). */
export const DENO_NET: boolean =
  typeof (globalThis as { Deno?: { listen?: unknown } }).Deno?.listen === "function";
