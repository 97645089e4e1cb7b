/**
 * Shutting down cleanly, in one place.
 *
 * A Deno process exits when nothing keeps it alive; open sockets (their
 * listeners, connections and reconnect timers) and signal listeners do. And
 * `close()` honours ZMQ_LINGER: with libzmq's default of -1 it waits until
 * every queued message is written, forever if a peer stopped reading. The
 * recipe:
 *
 * 1. Give every socket a finite `linger` (at construction, or `socket.linger
 *    = 0` just before `close()`, the Guide's idiom).
 * 2. Drive every loop with one `AbortSignal` (`socket.messages({ signal })`,
 *    `merge(sockets, { signal })`, `{ signal }` on `send`/`receive`); abort
 *    it on SIGINT/SIGTERM. An aborted loop throws `ZmqError` `ECANCELED`.
 * 3. Open sockets with `await using`, so they close however the block ends.
 * 4. Remove the signal listeners you added: they keep the process alive.
 *
 * Run: `deno run -A examples/shutdown.ts` (it sends itself a SIGINT)
 *
 * @module
 */

import { PullSocket, PushSocket, ZmqError } from "../mod.ts";

const stop = new AbortController();
const onSignal = () => stop.abort(new Error("interrupted"));
Deno.addSignalListener("SIGINT", onSignal);

let handled = 0;
try {
  // 1 + 3: finite linger, closed by `await using` on every way out of this block.
  await using pull = new PullSocket({ linger: 0 });
  await pull.bind("tcp://127.0.0.1:0");
  await using push = new PushSocket({ linger: 200 });
  push.connect(pull.lastEndpoint!);
  // A peer that stops reading (a PULL never read, with a tiny queue), still
  // open when `stuck` closes: `await using` closes in reverse order.
  await using deaf = new PullSocket({ receiveHighWaterMark: 1 });
  await deaf.bind("tcp://127.0.0.1:0");
  await using stuck = new PushSocket({ sendHighWaterMark: 0 }); // linger -1 by default
  stuck.connect(deaf.lastEndpoint!);
  const big = new Uint8Array(1 << 20);
  for (let i = 0; i < 32; i++) await stuck.send(big); // more than the kernel buffers take

  for (let i = 0; i < 3; i++) await push.send(`job ${i}`);

  // 2: the loop ends when the signal aborts.
  try {
    for await (const [job] of pull.messages({ signal: stop.signal })) {
      console.log(`handled ${new TextDecoder().decode(job)}`);
      handled++;
      // As if Ctrl-C were pressed once the work is done (a timer would race the jobs).
      if (handled === 3) Deno.kill(Deno.pid, "SIGINT");
    }
  } catch (e) {
    if (!(e instanceof ZmqError && e.code === "ECANCELED")) throw e;
    console.log(`stopping: ${(e.cause as Error).message}`);
  }
  // Without this, closing `stuck` would wait forever for `deaf` to read 32 MiB.
  stuck.linger = 0;
} finally {
  // 4: a signal listener left behind keeps the process running.
  Deno.removeSignalListener("SIGINT", onSignal);
}
console.log(`shutdown: ${handled} jobs handled, every socket closed`);
