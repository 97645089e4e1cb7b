/**
 * A streamer: producers push tasks to a PULL, `proxy()` hands them on to a
 * PUSH that deals them to the workers, and a capture socket gets a copy of
 * every task (a log, a monitor, a tap). The proxy takes a task only when the
 * PUSH can accept it, so workers that fall behind slow the producers down
 * instead of filling memory.
 *
 *   PUSH producer ──▶ PULL ══ proxy ══ PUSH ──▶ PULL worker ×3
 *                              ║
 *                          capture PUSH ──▶ PULL log
 *
 * Run: `deno run -A examples/proxy_streamer.ts`
 *
 * @module
 */

import { proxy, PullSocket, PushSocket } from "../mod.ts";

const TASKS = 12;

await using frontend = new PullSocket();
await frontend.bind("tcp://127.0.0.1:0");
await using backend = new PushSocket();
await backend.bind("tcp://127.0.0.1:0");
await using capture = new PushSocket();
await capture.bind("inproc://streamer-capture");
await using log = new PullSocket();
log.connect("inproc://streamer-capture");
const stop = new AbortController();
const running = proxy(frontend, backend, { capture, signal: stop.signal });

// Workers count their tasks; each loop ends when its socket closes.
let received = 0;
const all = Promise.withResolvers<void>();
const events = backend.events();
const workers = [1, 2, 3].map((w) => {
  const pull = new PullSocket();
  pull.connect(backend.lastEndpoint!);
  const worker = { name: `worker-${w}`, pull, done: 0, loop: Promise.resolve() };
  worker.loop = (async () => {
    for await (const _task of pull) {
      worker.done++;
      if (++received === TASKS) all.resolve();
    }
  })();
  return worker;
});
// Wait until the three workers are connected, so the PUSH deals to all of them.
for (let ready = 0; ready < workers.length;) {
  const { value } = await events.next();
  if (value?.type === "handshakeSucceeded") ready++;
}
await events.return?.();

await using producer = new PushSocket();
producer.connect(frontend.lastEndpoint!);
for (let i = 1; i <= TASKS; i++) await producer.send(`task-${i}`);

await all.promise;
let captured = 0;
while (captured < TASKS) {
  await log.receive();
  captured++;
}

stop.abort();
await running;
for (const w of workers) await w.pull.close();
await Promise.all(workers.map((w) => w.loop));
const counts = workers.map((w) => `${w.name}=${w.done}`).join(" ");
console.log(`proxy_streamer: ${received} tasks streamed (${counts}), ${captured} captured`);
