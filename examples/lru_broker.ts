/**
 * The Guide's load-balancing broker ("lbbroker", the LRU queue), written with
 * `merge()` where pyzmq uses a `Poller`.
 *
 *   REQ clients ──▶ ROUTER frontend │ broker │ ROUTER backend ◀── REQ workers
 *
 * - A worker says "READY" when it starts; after that every reply it sends
 *   also means "ready again". The broker keeps the ready workers in a queue
 *   and gives each request to the one that has waited longest, so a slow
 *   worker never gets a pile of requests while others idle (which a DEALER's
 *   round robin would do).
 * - Envelopes: the frontend ROUTER gives `[client, "", request]`; the broker
 *   sends `[worker, "", client, "", request]` on the backend, the worker's REQ
 *   strips the first envelope, and its reply `[client, "", reply]` comes back
 *   as `[worker, "", client, "", reply]`.
 * - pyzmq's broker polls the frontend only while a worker is free. `merge()`
 *   reads both sockets, so a request that arrives with every worker busy
 *   waits in the broker's `pending` queue; each client is a REQ with at most
 *   one request outstanding, so that queue holds at most one per client.
 *
 * Run: `deno run -A examples/lru_broker.ts`
 *
 * @module
 */

import { merge, ReqSocket, RouterSocket, text } from "../mod.ts";

const CLIENTS = 10;
const WORKERS = 3;

await using frontend = new RouterSocket();
await frontend.bind("tcp://127.0.0.1:0");
await using backend = new RouterSocket();
await backend.bind("tcp://127.0.0.1:0");

async function worker(socket: ReqSocket, name: string): Promise<void> {
  socket.connect(backend.lastEndpoint!);
  await socket.send("READY");
  try {
    while (true) {
      const [client, empty, request] = await socket.receive();
      await socket.send([client, empty, `${text(request)} done by ${name}`]);
    }
  } catch {
    // ETERM: the socket closed at the end of the run.
  }
}

async function client(i: number): Promise<string> {
  await using socket = new ReqSocket({ receiveTimeout: 10_000 });
  socket.connect(frontend.lastEndpoint!);
  await socket.send(`request ${i}`);
  const [reply] = await socket.receive();
  return text(reply);
}

const workerSockets = Array.from(
  { length: WORKERS },
  (_, i) => new ReqSocket({ routingId: `worker-${i + 1}` }),
);
const workers = workerSockets.map((socket, i) => worker(socket, `worker-${i + 1}`));
const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));

// The broker.
const ready: Uint8Array[] = []; // workers waiting for a request, longest first
const pending: Uint8Array[][] = []; // [client, request] waiting for a worker
const served = new Map<string, number>();
let answered = 0;
const dispatch = async () => {
  while (ready.length > 0 && pending.length > 0) {
    const [client, request] = pending.shift()!;
    await backend.send([ready.shift()!, "", client, "", request]);
  }
};
for await (const { socket, message } of merge([backend, frontend])) {
  if (socket === backend) {
    const [worker, , first, , reply] = message;
    ready.push(worker);
    if (text(first) !== "READY") {
      await frontend.send([first, "", reply]);
      served.set(text(worker), (served.get(text(worker)) ?? 0) + 1);
      if (++answered === CLIENTS) break;
    }
  } else {
    const [client, , request] = message;
    pending.push([client, request]);
  }
  await dispatch();
}

const replies = await Promise.all(clients);
console.log(replies.join("\n"));
for (const socket of workerSockets) await socket.close(); // their receive() ends with ETERM
await Promise.all(workers);
const counts = [...served].sort().map(([w, n]) => `${w}=${n}`).join(" ");
console.log(`lru_broker: ${answered} requests answered by ${served.size} workers (${counts})`);
