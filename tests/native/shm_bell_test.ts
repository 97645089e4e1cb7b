/**
 * The shm:// doorbell against a peer that keeps setting its parked flag (the
 * flags live in memory the peer can write) and never reads the doorbell: we
 * must not queue a bell write per message. No native library needed: the
 * mapping is a plain ArrayBuffer and the doorbell a fake connection whose
 * writes never complete, as with a peer whose socket buffer is full.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Mapping } from "../../ffi/_shm_connection.ts";
import { ShmConnection } from "../../ffi/_shm_connection.ts";
import { mappingSize, RingView } from "../../ffi/_shm_ring.ts";
import { ZmqError } from "../../src/errors.ts";
import type { Connection } from "../../src/transport/types.ts";

const CAPACITY = 4096;

/** A doorbell whose writes settle only at close, as to a peer that never reads it. */
class StuckBell implements Connection {
  readonly localEndpoint = "shm://bell";
  readonly remoteEndpoint = "shm://bell";
  writes = 0;
  #settle: (() => void)[] = [];
  #written: (() => void)[] = [];

  read(): Promise<number | null> {
    return new Promise((resolve) => this.#settle.push(() => resolve(null)));
  }

  write(): Promise<void> {
    this.writes++;
    return new Promise((resolve, reject) => {
      this.#written.push(resolve);
      this.#settle.push(() => reject(new ZmqError("ECONNRESET", "Closed")));
    });
  }

  /** Completes the writes pending so far, as when the peer drains its socket. */
  drain(): void {
    for (const resolve of this.#written.splice(0)) resolve();
  }

  close(): void {
    for (const settle of this.#settle.splice(0)) settle();
  }
}

Deno.test("shm:// keeps one doorbell write in flight for a peer that parks and never reads it", async () => {
  const buffer = new ArrayBuffer(mappingSize(CAPACITY));
  const mapping = { buffer, capacity: CAPACITY, release() {}, closeFd() {} };
  const bell = new StuckBell();
  const conn = new ShmConnection(mapping as unknown as Mapping, "binder", bell, "shm://t");
  const peer = new RingView(buffer, 0, CAPACITY); // the connecter's view of what we write
  const sink = new Uint8Array(16);
  for (let i = 0; i < 1000; i++) {
    peer.park("reader");
    await conn.write([new Uint8Array([i & 0xff])]);
    assert.equal(peer.read(sink), 1);
    assert.equal(sink[0], i & 0xff);
  }
  assert.equal(bell.writes, 1, "wake-ups asked for meanwhile wait for the one in flight");
  // Once it is written, the wake-ups asked for meanwhile are owed one more byte, and only one.
  bell.drain();
  await new Promise((resolve) => setTimeout(resolve, 0)); // lets the written bell's finally run
  assert.equal(bell.writes, 2);
  // A wake-up still owed when the connection closes is dropped with it.
  peer.park("reader");
  await conn.write([new Uint8Array([1])]);
  conn.close();
  await new Promise((resolve) => setTimeout(resolve, 0)); // lets the failed bell's finally run
  assert.equal(bell.writes, 2, "no wake-up is written after close");
});
