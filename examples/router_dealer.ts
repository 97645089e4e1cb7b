/**
 * Extended request-reply: a broker between many clients and many workers.
 *
 * REQ clients connect to the broker's ROUTER "frontend"; REP workers connect
 * to its DEALER "backend". The broker just shovels messages both ways:
 *
 *   REQ clients ──▶ ROUTER │ broker │ DEALER ──▶ REP workers
 *
 * - The ROUTER prefixes every request with the routing id of the client that
 *   sent it, and routes every reply by that first frame back to its client.
 * - The DEALER spreads requests round-robin over the workers and fair-queues
 *   their replies.
 * - The REP worker keeps the envelope (routing id + empty delimiter) aside
 *   and puts it back on its reply, so the worker code never sees addresses.
 *
 * Clients and workers can come and go without knowing about each other: they
 * only know the broker. This is what libzmq's `zmq_proxy()` does.
 *
 * Run: `deno run -A examples/router_dealer.ts`
 *
 * @module
 */

import { DealerSocket, RepSocket, ReqSocket, RouterSocket } from "../mod.ts";

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);
const WORKERS = 3;
const CLIENTS = 5;
const REQUESTS_PER_CLIENT = 3;

// --- The broker ------------------------------------------------------------
await using frontend = new RouterSocket();
await frontend.bind("tcp://127.0.0.1:0");
await using backend = new DealerSocket();
await backend.bind("tcp://127.0.0.1:0");
console.log(`broker: frontend ${frontend.lastEndpoint}, backend ${backend.lastEndpoint}`);

// Two loops forward whole multipart messages, envelope included, untouched.
// Each ends when its socket closes.
const proxy = Promise.all([
  (async () => {
    for await (const message of frontend) await backend.send(message);
  })(),
  (async () => {
    for await (const message of backend) await frontend.send(message);
  })(),
]);

// --- The workers -----------------------------------------------------------
const workers: RepSocket[] = [];
const served = new Map<string, number>();
const workerLoops = [];
for (let w = 1; w <= WORKERS; w++) {
  const worker = new RepSocket();
  worker.connect(backend.lastEndpoint!);
  workers.push(worker);
  const name = `worker-${w}`;
  workerLoops.push((async () => {
    for await (const [request] of worker) {
      served.set(name, (served.get(name) ?? 0) + 1);
      await worker.send(`${text(request).toUpperCase()} (by ${name})`);
    }
  })());
}

// --- The clients -----------------------------------------------------------
// Each client sends its requests one at a time (REQ is strictly
// send-then-receive); the five clients run concurrently.
let answered = 0;
await Promise.all(
  Array.from({ length: CLIENTS }, async (_, i) => {
    await using client = new ReqSocket({ receiveTimeout: 5000 });
    client.connect(frontend.lastEndpoint!);
    for (let r = 1; r <= REQUESTS_PER_CLIENT; r++) {
      const request = `client-${i + 1} request ${r}`;
      await client.send(request);
      const [reply] = await client.receive();
      console.log(`client-${i + 1} <- ${text(reply)}`);
      if (!text(reply).startsWith(request.toUpperCase())) {
        throw new Error(`client-${i + 1} got someone else's reply: ${text(reply)}`);
      }
      answered++;
    }
  }),
);

// --- Shutdown ----------------------------------------------------------------
for (const worker of workers) await worker.close();
await Promise.all(workerLoops);
await frontend.close();
await backend.close();
await proxy;
const load = [...served].sort().map(([name, n]) => `${name}=${n}`).join(" ");
console.log(`router_dealer: ${answered} replies routed to ${CLIENTS} clients (${load})`);
