/**
 * Shared by the shm:// Worker tests (tests/transport/shm_test.ts and
 * tests/native/shm_test.ts): the message pattern both ends check, and
 * {@linkcode peer}, which starts `_shm_worker_peer.ts` in a Worker of the
 * test process and reports how its side went.
 *
 * @module
 */

import { withTimeout } from "../_util/timeout.ts";

const PEER = new URL("./_shm_worker_peer.ts", import.meta.url);
/** Bound for a Worker's start (type check and all) on a loaded 2-core machine, in ms. */
export const SLOW = 30_000;

/** 256 KiB whose bytes depend on their position and `seed` (twice a Worker ring). */
export function pattern(seed: number): Uint8Array {
  const out = new Uint8Array(256 * 1024);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + seed) & 255;
  return out;
}

/** A Worker running `_shm_worker_peer.ts` in `mode`; `done` settles with its report. */
export function peer(mode: string, endpoint: string) {
  const worker = new Worker(PEER, { type: "module" });
  const ready = Promise.withResolvers<void>();
  const done = Promise.withResolvers<void>();
  ready.promise.catch(() => {});
  done.promise.catch(() => {});
  worker.onmessage = (event: MessageEvent<{ ok?: boolean; ready?: boolean; error?: string }>) => {
    if (event.data.ready) return ready.resolve();
    if (event.data.ok) done.resolve();
    else done.reject(new Error(`the Worker's ${mode} failed: ${event.data.error}`));
    ready.resolve();
  };
  worker.onerror = (event) => {
    event.preventDefault();
    done.reject(new Error(`the Worker's ${mode} threw: ${event.message}`));
  };
  worker.postMessage({ mode, endpoint });
  return {
    ready: () => withTimeout(ready.promise, SLOW, `the Worker's ${mode} ready`),
    done: () => withTimeout(done.promise, SLOW, `the Worker's ${mode}`),
    [Symbol.dispose]: () => worker.terminate(),
  };
}
