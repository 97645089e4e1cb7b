/**
 * How long a loop of sends that never wait may run before it lets I/O run,
 * for patterns that send to many peers (PUB, XPUB, ROUTER). Every peer gets
 * one write per turn, so a fixed budget spread over more peers leaves each
 * write fewer messages: 100 subscribers at 1 ms wrote ~40 messages a write
 * (a ROUTER echo ~3), and the system call per write was three quarters of
 * the process's time. The budget grows with the peers so that each write
 * carries about the same batch, as libzmq's engine writes up to
 * out_batch_size (8 KiB) a time (stream_engine_base.cpp out_event), bounded
 * so that timers and reads still run every few milliseconds.
 *
 * @module
 */

/** The budget for one peer, and for every peer up to PEERS_PER_MS. */
const MIN_MS = 1;
/** The most a send loop may hold the event loop. */
const MAX_MS = 8;
/** Peers per millisecond of budget. */
const PEERS_PER_MS = 16;

/**
 * The time a send loop to `peers` peers may run between yields.
 *
 * @param peers How many peers the socket sends to.
 * @returns Milliseconds, from 1 (16 peers or fewer) to 8 (128 or more).
 */
export function turnBudgetMs(peers: number): number {
  return Math.min(MAX_MS, Math.max(MIN_MS, peers / PEERS_PER_MS));
}
