/**
 * Runs a callback in a later macrotask, after pending I/O callbacks: the
 * runtime's `setImmediate` where it has one (Deno, Node, Bun), else a
 * `MessageChannel` post (browsers), so no `node:` import is needed.
 *
 * @module
 */

type Immediate = (callback: () => void) => unknown;

const native = (globalThis as { setImmediate?: Immediate }).setImmediate;

/** A `setImmediate` stand-in for runtimes without one: FIFO, one message per callback. */
export function viaMessageChannel(): Immediate {
  const queue: (() => void)[] = [];
  let head = 0;
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    const callback = queue[head];
    queue[head++] = undefined as never;
    if (head === queue.length) queue.length = head = 0;
    callback();
  };
  return (callback) => {
    queue.push(callback);
    channel.port2.postMessage(null);
  };
}

/** Calls `callback` in a later macrotask. */
export const macrotask: (callback: () => void) => void = native !== undefined
  ? (callback) => {
    native(callback);
  }
  : viaMessageChannel();
