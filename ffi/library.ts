/**
 * Loading `libmonocoque.so`: {@linkcode NativeLibrary} (one loaded library,
 * io_uring and buffer slab), {@linkcode loadNative} (the same, or
 * `undefined` where it cannot work) and {@linkcode probeNative} (why not).
 *
 * @module
 */

import { attachRing, type Ring } from "./_ring.ts";
import { Ring as RingImpl } from "./_ring.ts";

/** How a parked event loop learns about io_uring completions. */
export type NativeWake = "doorbell" | "wait";

/** Options for {@linkcode NativeLibrary} and {@linkcode loadNative}. */
export interface NativeLibraryOptions {
  /**
   * Path of `libmonocoque.so`. Default: the `MONOCOQUE_NATIVE_LIB`
   * environment variable if set (and `--allow-env` granted), else
   * `native/build/libmonocoque.so` beside this package (local checkouts only).
   */
  path?: string | URL;
  /** Bytes per slab slot, a multiple of 4096. Default 65536. */
  slotSize?: number;
  /** Slots in the slab (address space is reserved, memory used on touch). Default 4096. */
  slotCount?: number;
  /** Submission queue entries. Default 1024. */
  submissionEntries?: number;
  /** Completion queue entries; also bounds the operations in flight. Default 16384. */
  completionEntries?: number;
  /**
   * `"doorbell"` (default): every operation JavaScript waits for (receives,
   * accepts, connects, sends left waiting for room) is hard-linked to an
   * 8-byte write to a unix socket that Deno reads natively, so waking costs no
   * extra thread; needs `--allow-net` (an abstract unix socket), and falls back to
   * `"wait"` without it. `"wait"`: a `nonblocking` `io_uring_enter` on Deno's
   * blocking pool.
   */
  wake?: NativeWake;
}

/** The result of {@linkcode probeNative}. */
export type NativeProbe =
  | { readonly available: true; readonly path: string }
  | { readonly available: false; readonly reason: string; readonly path: string | undefined };

/** Counters from {@linkcode NativeLibrary.stats}. */
export interface NativeStats {
  /** Slab slots allocated (buffered input, pending output, armed receives). */
  readonly slotsInUse: number;
  /** Sockets created or accepted through the library and not yet closed. */
  readonly socketsOpen: number;
  /** Operations submitted to the ring and not yet completed. */
  readonly operationsInFlight: number;
  /** The wake mechanism in use. */
  readonly wake: NativeWake;
}

const DEFAULTS = {
  slotSize: 65536,
  slotCount: 4096,
  submissionEntries: 1024,
  completionEntries: 16384,
  wake: "doorbell" as NativeWake,
};

/**
 * A loaded `libmonocoque.so` with its io_uring and buffer slab. Create one,
 * hand it to {@linkcode NativeTransport}, and `await close()` it when done:
 * closing closes every listener and connection made through it, waits until
 * the kernel has finished with every buffer, then unloads the library.
 *
 * The constructor throws an `Error` saying why when the library cannot work
 * here (not Linux, no `--allow-ffi`, not built, io_uring disabled); use
 * {@linkcode loadNative} to get `undefined` instead.
 *
 * @example Load, inspect, close (needs `--allow-ffi` and `deno task build:native`)
 * ```ts ignore
 * import { NativeLibrary } from "@monocoque/zmtp/native";
 *
 * await using native = new NativeLibrary({ slotCount: 1024 });
 * console.log(native.path, native.stats());
 * ```
 */
export class NativeLibrary implements AsyncDisposable {
  /** The path the library was loaded from. */
  readonly path: string;
  #ring: Ring;

  /**
   * Loads the library and creates its ring and slab.
   *
   * @param options Library path, slab and ring sizes, wake mechanism.
   * @throws {Error} With the reason the native transport is unavailable.
   */
  constructor(options: NativeLibraryOptions = {}) {
    const path = resolvePath(options.path);
    const reason = preflight(path);
    if (reason !== undefined) throw new Error(reason);
    this.#ring = RingImpl.open({
      path: path!,
      slotSize: options.slotSize ?? DEFAULTS.slotSize,
      slotCount: options.slotCount ?? DEFAULTS.slotCount,
      submissionEntries: options.submissionEntries ?? DEFAULTS.submissionEntries,
      completionEntries: options.completionEntries ?? DEFAULTS.completionEntries,
      maxOperations: options.completionEntries ?? DEFAULTS.completionEntries,
      wake: options.wake ?? DEFAULTS.wake,
    });
    this.path = path!;
    attachRing(this, this.#ring);
  }

  /** Whether {@linkcode NativeLibrary.close} has been called. */
  get closed(): boolean {
    return this.#ring.closed;
  }

  /**
   * Slab, socket and operation counters; all zero (but `wake`) once
   * everything is closed.
   *
   * @returns A snapshot of the counters.
   */
  stats(): NativeStats {
    const s = this.#ring.stats();
    return {
      slotsInUse: this.#ring.destroyed ? 0 : s[0],
      socketsOpen: this.#ring.destroyed ? 0 : s[1],
      operationsInFlight: this.#ring.inflight,
      wake: this.#ring.wake,
    };
  }

  /**
   * Closes every listener and connection made through this library, waits
   * until every in-flight operation has completed, then unmaps the ring and
   * slab and unloads the library. Idempotent.
   *
   * @returns A promise that settles once the library is unloaded.
   */
  close(): Promise<void> {
    return this.#ring.close();
  }

  /** Same as {@linkcode NativeLibrary.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Loads the native library, or returns `undefined` where it cannot work (see
 * {@linkcode probeNative} for why). Never throws.
 *
 * @example Opt in when available (needs `--allow-ffi` and `deno task build:native`)
 * ```ts ignore
 * import { loadNative, NativeTransport } from "@monocoque/zmtp/native";
 *
 * const native = loadNative();
 * const transport = native ? new NativeTransport(native) : undefined;
 * // new PushSocket({ transport }) ... then, at shutdown:
 * await native?.close();
 * ```
 *
 * @param options Library path, slab and ring sizes, wake mechanism.
 * @returns The loaded library, or `undefined`.
 */
export function loadNative(options?: NativeLibraryOptions): NativeLibrary | undefined {
  try {
    return new NativeLibrary(options);
  } catch {
    return undefined;
  }
}

/**
 * Checks whether the native transport can work here, without keeping
 * anything loaded: platform, `--allow-ffi`, the kernel's io_uring switch, the
 * built library, and creating a small ring.
 *
 * @example Explain why the native transport is off
 * ```ts
 * import { probeNative } from "@monocoque/zmtp/native";
 *
 * const probe = probeNative();
 * if (!probe.available) console.log(`native transport off: ${probe.reason}`);
 * ```
 *
 * @param options `path` of the library (other options are ignored).
 * @returns `{ available: true, path }` or `{ available: false, reason, path }`.
 */
export function probeNative(options?: Pick<NativeLibraryOptions, "path">): NativeProbe {
  let path: string | undefined;
  try {
    path = resolvePath(options?.path);
    const reason = preflight(path);
    if (reason !== undefined) return { available: false, reason, path };
    const ring = RingImpl.open({
      path: path!,
      slotSize: 4096,
      slotCount: 1,
      submissionEntries: 4,
      completionEntries: 8,
      maxOperations: 8,
      wake: "wait",
    });
    // Nothing was submitted: closing cannot wait on anything.
    ring.close().catch(() => {});
    return { available: true, path: path! };
  } catch (err) {
    return { available: false, reason: (err as Error)?.message ?? String(err), path };
  }
}

/** The library path: `path`, else `MONOCOQUE_NATIVE_LIB`, else the local build (shm:// shares it). */
export function resolvePath(path: string | URL | undefined): string | undefined {
  if (path instanceof URL) return fileUrlToPath(path);
  if (path !== undefined) return path;
  if (
    Deno.permissions.querySync({ name: "env", variable: "MONOCOQUE_NATIVE_LIB" }).state ===
      "granted"
  ) {
    const fromEnv = Deno.env.get("MONOCOQUE_NATIVE_LIB");
    if (fromEnv) return fromEnv;
  }
  return fileUrlToPath(new URL("../native/build/libmonocoque.so", import.meta.url));
}

function fileUrlToPath(url: URL): string | undefined {
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : undefined;
}

/** Why the library cannot be loaded, when that is knowable without loading it. */
function preflight(path: string | undefined): string | undefined {
  if (Deno.build.os !== "linux") return `io_uring needs Linux; this is ${Deno.build.os}`;
  if (path === undefined) {
    return "No library path: this module was not loaded from a local file, so pass `path` or set MONOCOQUE_NATIVE_LIB";
  }
  if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") {
    return `Needs --allow-ffi (for ${path})`;
  }
  const disabled = "/proc/sys/kernel/io_uring_disabled";
  if (Deno.permissions.querySync({ name: "read", path: disabled }).state === "granted") {
    try {
      if (Deno.readTextFileSync(disabled).trim() === "2") {
        return `io_uring is disabled (${disabled} is 2)`;
      }
    } catch {
      // Older kernels have no such switch.
    }
  }
  if (Deno.permissions.querySync({ name: "read", path }).state === "granted") {
    try {
      Deno.statSync(path);
    } catch {
      return `${path} is not built: run \`deno task build:native\` (make -C native)`;
    }
  }
  return undefined;
}
