/**
 * Shared set-up for the native transport tests: builds `libmonocoque.so`
 * with `make -C native` when it is missing, then decides whether the tests
 * can run here and, if not, prints why (they are then reported as ignored).
 *
 * @module
 */

import { probeNative } from "../../ffi/mod.ts";

/** Path of the library the tests load. */
export const LIBRARY_PATH: string = decodeURIComponent(
  new URL("../../native/build/libmonocoque.so", import.meta.url).pathname,
);
const NATIVE_DIR = decodeURIComponent(new URL("../../native", import.meta.url).pathname);

async function granted(descriptor: Deno.PermissionDescriptor): Promise<boolean> {
  return (await Deno.permissions.query(descriptor)).state === "granted";
}

async function build(): Promise<string | undefined> {
  if (!(await granted({ name: "read", path: LIBRARY_PATH }))) return undefined;
  try {
    await Deno.stat(LIBRARY_PATH);
    return undefined;
  } catch {
    // Missing: build it.
  }
  if (!(await granted({ name: "run", command: "make" }))) {
    return `${LIBRARY_PATH} is missing and --allow-run is not granted to build it`;
  }
  try {
    const out = await new Deno.Command("make", {
      args: ["-C", NATIVE_DIR],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      return `make -C native failed:\n${new TextDecoder().decode(out.stderr)}`;
    }
  } catch (err) {
    return `cannot run make (install gcc and make): ${(err as Error).message}`;
  }
  return undefined;
}

async function detect(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `io_uring needs Linux; this is ${Deno.build.os}`;
  if (!(await granted({ name: "ffi" }))) return "--allow-ffi is not granted";
  const failed = await build();
  if (failed !== undefined) return failed;
  const probe = probeNative({ path: LIBRARY_PATH });
  return probe.available ? undefined : probe.reason;
}

/** Why the native tests cannot run here, or undefined if they can. */
export const unavailable: string | undefined = await detect();

/** Whether the native tests run. */
export const available: boolean = unavailable === undefined;

if (!available) console.log(`tests/native: skipping the native transport tests: ${unavailable}`);

/** A deterministic pseudo-random generator (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` pseudo-random bytes. */
export function randomBytes(size: number, seed: number): Uint8Array {
  const next = random(seed);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (next() * 256) | 0;
  return bytes;
}

/** Waits until `condition()` holds, checking every millisecond, for at most `ms`. */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
