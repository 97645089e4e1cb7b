/**
 * A shared queue (the Guide's "broker"): REQ clients talk to a ROUTER, REP
 * workers to a DEALER, and `proxy()` moves requests one way and replies the
 * other. Clients and workers never know about each other; add either side
 * at will. A REP control socket steers the proxy as libzmq's
 * zmq_proxy_steerable does: STATISTICS, then TERMINATE.
 *
 *   REQ client ─┐                            ┌─▶ REP worker
 *   REQ client ─┼─▶ ROUTER ══ proxy ══ DEALER ┤
 *   REQ client ─┘          (REP control)      └─▶ REP worker
 *
 * Run: `deno run -A examples/proxy_queue.ts`
 *
 * @module
 */

import { DealerSocket, proxy, RepSocket, ReqSocket, RouterSocket } from "../mod.ts";

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

await using frontend = new RouterSocket();
await frontend.bind("tcp://127.0.0.1:0");
await using backend = new DealerSocket();
await backend.bind("tcp://127.0.0.1:0");
await using control = new RepSocket();
await control.bind("inproc://queue-control");
const running = proxy(frontend, backend, { control });

// Workers: answer each request with who served it. Each loop ends when its socket closes.
const served = new Map<string, number>();
const workers = ["worker-1", "worker-2"].map((name) => {
  const rep = new RepSocket();
  rep.connect(backend.lastEndpoint!);
  const loop = (async () => {
    for await (const [request] of rep) {
      served.set(name, (served.get(name) ?? 0) + 1);
      await rep.send([request, name]);
    }
  })();
  return { rep, loop };
});

// Clients: three requests each, one at a time, as REQ requires.
let answered = 0;
await Promise.all([1, 2, 3].map(async (c) => {
  await using req = new ReqSocket();
  req.connect(frontend.lastEndpoint!);
  for (let i = 1; i <= 3; i++) {
    await req.send(`client-${c} request-${i}`);
    const [echoed, by] = await req.receive();
    console.log(`${text(echoed)} answered by ${text(by)}`);
    answered++;
  }
}));

// Steer: STATISTICS is eight little-endian uint64 frames (frontend in/out, backend in/out:
// frames then bytes), then TERMINATE ends the proxy.
await using steer = new ReqSocket();
steer.connect("inproc://queue-control");
await steer.send("STATISTICS");
const stats = (await steer.receive()).map((f) =>
  new DataView(f.buffer, f.byteOffset, 8).getBigUint64(0, true)
);
console.log(`frames in at the ROUTER: ${stats[0]}, out at the DEALER: ${stats[6]}`);
await steer.send("TERMINATE");
await steer.receive();
await running;

for (const w of workers) await w.rep.close();
await Promise.all(workers.map((w) => w.loop));
const counts = [...served.entries()].sort().map(([name, n]) => `${name}=${n}`).join(" ");
console.log(`proxy_queue: ${answered} requests answered through the queue (${counts})`);
