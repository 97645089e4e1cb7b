/**
 * Pipeline: a ventilator hands out tasks, workers do them, a sink collects.
 *
 *   ventilator PUSH ──▶ PULL worker PUSH ──▶ PULL sink
 *                  ├─▶ PULL worker PUSH ─┤
 *                  └─▶ PULL worker PUSH ─┘
 *
 * PUSH spreads messages round-robin over the connected PULL peers; PULL
 * fair-queues messages from all the PUSH peers connected to it. Nothing is
 * addressed and nothing is replied to: data flows one way, and adding workers
 * adds throughput.
 *
 * Round-robin is over the workers connected *at the time of sending*: if the
 * ventilator started before the others joined, the first worker would get
 * every task. So the ventilator first waits, with its monitor events, until
 * all three workers have completed their handshake.
 *
 * Run: `deno run -A examples/push_pull.ts`
 *
 * @module
 */

import { PullSocket, PushSocket } from "../mod.ts";

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);
const WORKERS = 3;
const TASKS = 12;

await using ventilator = new PushSocket();
await ventilator.bind("tcp://127.0.0.1:0");
await using sink = new PullSocket();
await sink.bind("tcp://127.0.0.1:0");

// Start listening for monitor events before anyone connects.
const events = ventilator.events();

// Workers: receive a task (a number of milliseconds of "work"), do it, push
// the result to the sink. Each loop ends when its PULL socket closes.
const workers: { input: PullSocket; output: PushSocket; loop: Promise<void> }[] = [];
for (let w = 1; w <= WORKERS; w++) {
  const input = new PullSocket();
  const output = new PushSocket();
  input.connect(ventilator.lastEndpoint!);
  output.connect(sink.lastEndpoint!);
  const loop = (async () => {
    for await (const [task, ms] of input) {
      await new Promise((resolve) => setTimeout(resolve, Number(text(ms))));
      await output.send([`worker-${w}`, task]);
    }
  })();
  workers.push({ input, output, loop });
}

let ready = 0;
for await (const event of events) {
  if (event.type === "handshakeSucceeded" && ++ready === WORKERS) break;
}
console.log(`ventilator: ${ready} workers connected, sending ${TASKS} tasks`);

for (let t = 1; t <= TASKS; t++) {
  await ventilator.send([`task-${t}`, String(5 + (t % 4) * 5)]);
}

// The sink counts results per worker.
const perWorker = new Map<string, number>();
for (let r = 0; r < TASKS; r++) {
  const [worker, task] = await sink.receive();
  console.log(`  sink <- ${text(task)} done by ${text(worker)}`);
  perWorker.set(text(worker), (perWorker.get(text(worker)) ?? 0) + 1);
}

for (const { input, output, loop } of workers) {
  await input.close();
  await loop;
  await output.close();
}
const spread = [...perWorker].sort().map(([name, n]) => `${name}=${n}`).join(" ");
console.log(`push_pull: ${TASKS} results collected (${spread})`);
