/**
 * The rings of shm:// live in `src/transport/_shm_ring.ts`, shared by the
 * native rings between processes (here) and the Worker rings of the main
 * entry; this file keeps the native side's import path.
 *
 * @module
 */

export * from "../src/transport/_shm_ring.ts";
