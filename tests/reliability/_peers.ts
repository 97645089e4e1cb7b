/**
 * Peer processes for the fault tests: a port to come back on, a pyzmq peer
 * started (again) on it, and a SIGKILL for the one that binds it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Peer, type PeerStartOptions } from "../_util/peer.ts";

/** A TCP port that was free a moment ago, for servers that must come back on the same port. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts a peer, retrying while the port is still held by a dying process. */
export async function startOn(options: PeerStartOptions, attempts = 20): Promise<Peer> {
  for (let i = 1;; i++) {
    try {
      return await Peer.start(options);
    } catch (e) {
      if (i >= attempts || !/EADDRINUSE/.test(String(e))) throw e;
      // The killed process's port frees once it is reaped: slower under load.
      await new Promise((r) => setTimeout(r, 50 * i));
    }
  }
}

/** SIGKILLs the one peer process we started that binds `endpoint` (found by its command line). */
export async function kill9(endpoint: string): Promise<void> {
  const out = await new Deno.Command("pgrep", { args: ["-f", "--", `--bind ${endpoint}`] })
    .output();
  const pids = new TextDecoder().decode(out.stdout).trim().split(/\s+/).filter(Boolean);
  assert.equal(pids.length, 1, `one peer process binds ${endpoint}: ${pids}`);
  Deno.kill(Number(pids[0]), "SIGKILL");
}
