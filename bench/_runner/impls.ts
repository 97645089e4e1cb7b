/**
 * The implementations the side-by-side runner compares, where their harnesses
 * live, and the command line that starts one harness process of each.
 *
 * @module
 */

/** The repository root, without a trailing slash. */
export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** Where the runner builds the C harness (git-ignored). */
export const BUILD = `${ROOT}/bench/build`;
/** The libzmq harness, built from bench/c/zmq_bench.c. */
export const C_BIN = `${BUILD}/zmq_bench`;
/** The zeromq.js harness's directory (its node_modules is git-ignored). */
export const NODE_DIR = `${ROOT}/bench/node`;
/** The zeromq.js version installed for the harness. */
export const ZEROMQ_VERSION = "6.8.0";
/** The io_uring library of the native implementation. */
export const NATIVE_LIB = `${ROOT}/native/build/libmonocoque.so`;

/** An implementation under test. */
export type Impl = "libzmq" | "zeromqjs" | "monocoque" | "native";
/** Every implementation, in table order. */
export const ALL_IMPLS: Impl[] = ["libzmq", "zeromqjs", "monocoque", "native"];
/** Column titles. */
export const LABEL: Record<Impl, string> = {
  libzmq: "libzmq",
  zeromqjs: "zeromq.js",
  monocoque: "Monocoque",
  native: "Monocoque (native)",
};
/** Short names for ratio column headers. */
export const SHORT: Record<Impl, string> = {
  libzmq: "libzmq",
  zeromqjs: "zeromq.js",
  monocoque: "Monocoque",
  native: "native",
};
/** The implementations a scenario runs unless it says otherwise. */
export const DEFAULT_IMPLS: Impl[] = ["libzmq", "zeromqjs", "monocoque"];
/** The default implementations and Monocoque with the io_uring transport. */
export const WITH_NATIVE: Impl[] = [...DEFAULT_IMPLS, "native"];

/**
 * The command line of one harness process; `denoFlags` go to `deno run`
 * (Monocoque only, e.g. `--v8-flags=--trace-gc`).
 */
export function command(impl: Impl, args: string[], denoFlags: string[] = []): string[] {
  const deno = [Deno.execPath(), "run", "-A", "--quiet", ...denoFlags];
  switch (impl) {
    case "libzmq":
      return [C_BIN, ...args];
    case "zeromqjs":
      return ["node", `${NODE_DIR}/zmq_bench.mjs`, ...args];
    case "monocoque":
      return [...deno, `${ROOT}/bench/monocoque_bench.ts`, ...args];
    case "native":
      return [...deno, `${ROOT}/bench/monocoque_bench.ts`, "--native", ...args];
  }
}
