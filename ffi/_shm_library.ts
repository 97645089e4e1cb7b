/**
 * The shm:// calls of `libmonocoque.so`, opened only while a shm:// listener
 * or connection exists (reference counted), so a program, or a test under
 * Deno's resource sanitizer, holds no library handle when it holds no shm
 * resource. {@linkcode shmAvailable} tells the registry whether shm:// can
 * work here at all.
 *
 * @module
 */

import { ZmqError } from "../src/errors.ts";
import { resolvePath } from "./library.ts";
import { SHM_SYMBOLS, type ShmSymbols } from "./_symbols.ts";

let library: Deno.DynamicLibrary<typeof SHM_SYMBOLS> | undefined;
let users = 0;
let probed: boolean | undefined;

function open(): Deno.DynamicLibrary<typeof SHM_SYMBOLS> {
  const path = resolvePath(undefined);
  if (path === undefined) throw new Error("No native library path");
  return Deno.dlopen(path, SHM_SYMBOLS);
}

/**
 * Whether the native library with the shm calls loads here (Linux,
 * `--allow-ffi`, built with `native/shm.c`); checked once.
 */
export function shmAvailable(): boolean {
  if (probed !== undefined) return probed;
  try {
    if (Deno.build.os !== "linux") return probed = false;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return probed = false;
    open().close();
    probed = true;
  } catch {
    probed = false;
  }
  return probed;
}

/** Takes a reference on the library (opening it on the first); pair with {@linkcode releaseShm}. */
export function acquireShm(): ShmSymbols {
  if (library === undefined) {
    try {
      library = open();
    } catch (err) {
      throw new ZmqError("EPROTONOSUPPORT", "The shm transport's native library does not load", {
        cause: err,
      });
    }
  }
  users++;
  return library.symbols;
}

/** Drops a reference; the last one closes the library. */
export function releaseShm(): void {
  if (users === 0) return;
  if (--users === 0) {
    library?.close();
    library = undefined;
  }
}
