/**
 * Request-reply: the simplest ZeroMQ pattern.
 *
 * A REP socket is a service: it receives a request, then must send exactly
 * one reply before it can receive the next one. A REQ socket is a client: it
 * sends a request, then must receive the reply before it can send again.
 * ZeroMQ adds and strips the envelope that tells the REP where a reply goes,
 * so neither side deals with addresses.
 *
 * Run: `deno run -A examples/req_rep.ts`
 *
 * @module
 */

import { RepSocket, ReqSocket } from "../mod.ts";

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

// The service binds: it owns a well-known address. Port 0 asks the OS for a
// free port; `lastEndpoint` then tells us which one we got.
await using rep = new RepSocket();
await rep.bind("tcp://127.0.0.1:0");
const endpoint = rep.lastEndpoint!;
console.log(`REP service listening on ${endpoint}`);

// The service loop: `for await` receives requests until the socket closes.
// After each receive the REP socket remembers who asked, so `send()` goes
// back to that client.
const service = (async () => {
  for await (const [name] of rep) {
    console.log(`  service got request: ${text(name)}`);
    await rep.send(`Hello, ${text(name)}!`);
  }
})();

// The client connects. `connect()` returns at once: ZeroMQ connects (and
// reconnects) in the background, and messages sent meanwhile wait in a queue.
// A receive timeout keeps a client from waiting forever for a dead service.
await using req = new ReqSocket({ receiveTimeout: 5000 });
req.connect(endpoint);

for (const name of ["Ada", "Grace", "Linus"]) {
  await req.send(name); // a message is a string, bytes, or an array of them (multipart)
  const [reply] = await req.receive(); // a message is received as Uint8Array[], one per frame
  console.log(`client got reply: ${text(reply)}`);
}

// Closing the REP socket ends its `for await` loop.
await rep.close();
await service;
console.log("req_rep: 3 requests answered");
