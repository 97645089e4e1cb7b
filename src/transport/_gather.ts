/**
 * Write coalescing shared by the stream transports (Deno's and `node:net`):
 * runs of small buffers handed to one `write()` are copied into one gather
 * and written with one system call; large buffers are written as they are.
 *
 * @module
 */

/**
 * Most bytes copied together for one write. Deno has no writev (and Node's costs an object per buffer): small
 * buffers are copied into one and written with one syscall, which costs far
 * less than the extra write(2) a separate 9-octet frame header would.
 *
 * Gathers come from a small process-wide pool, taken per write and returned
 * when it completes, never kept per connection: a write to a peer that
 * stopped reading pins its buffer until the peer reads or leaves, so with
 * many stalled peers the pool runs dry and later gathers are exact-size
 * copies (pinning only their own bytes). At most GATHER_POOL × GATHER_SIZE
 * is ever held by pooled gathers, however many connections stall; before,
 * every connection kept its own for life.
 */
export const GATHER_SIZE = 256 * 1024;
/** Pooled gather buffers in the process, lent or idle. */
export const GATHER_POOL = 4;
/** Buffers larger than this are written directly rather than copied. */
export const DIRECT_LIMIT = 128 * 1024;

/** An empty buffer, to drop a written unit's reference. */
export const EMPTY = new Uint8Array(0);

const idleGathers: ArrayBuffer[] = [];
const pooledGathers = new Set<ArrayBuffer>();

/** Bytes held by pooled gathers, lent or idle: a fixed process-wide cost of at most 1 MiB. */
export function gatherPoolBytes(): number {
  return pooledGathers.size * GATHER_SIZE;
}

/** A gather of `size` bytes: pooled when one is free (or may be made), else exact-size. */
function takeGather(size: number): Uint8Array {
  let buffer = idleGathers.pop();
  if (buffer === undefined && pooledGathers.size < GATHER_POOL) {
    buffer = new ArrayBuffer(GATHER_SIZE);
    pooledGathers.add(buffer);
  }
  return buffer === undefined ? new Uint8Array(size) : new Uint8Array(buffer, 0, size);
}

/** Gives a written (or abandoned) unit's gather back to the pool if it came from there. */
export function returnGather(unit: Uint8Array): void {
  if (pooledGathers.has(unit.buffer as ArrayBuffer)) idleGathers.push(unit.buffer as ArrayBuffer);
}

/**
 * Turns buffers to write into write units: large buffers as they are, runs of
 * small ones copied into one gather each (at most GATHER_SIZE).
 */
export function gatherWrites(buffers: readonly Uint8Array[]): Uint8Array[] {
  if (buffers.length === 1) return buffers[0].length > 0 ? [buffers[0]] : [];
  const units: Uint8Array[] = [];
  let i = 0;
  while (i < buffers.length) {
    const first = buffers[i];
    let end = i + 1;
    let total = first.length;
    if (total <= DIRECT_LIMIT) {
      while (
        end < buffers.length && buffers[end].length <= DIRECT_LIMIT &&
        total + buffers[end].length <= GATHER_SIZE
      ) total += buffers[end++].length;
    }
    if (end === i + 1) {
      if (total > 0) units.push(first);
      i = end;
      continue;
    }
    const gather = takeGather(total);
    let used = 0;
    for (; i < end; i++) {
      gather.set(buffers[i], used);
      used += buffers[i].length;
    }
    units.push(gather);
  }
  return units;
}
