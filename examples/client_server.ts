/**
 * CLIENT/SERVER: the thread-safe successor of REQ/REP (rfc.zeromq.org spec 41).
 *
 * A SERVER hands every request to the application with the routing id of the
 * CLIENT that sent it, and replies by that id: no envelopes, no lock-step, a
 * server may answer in any order or not at all, and a client may send several
 * requests before it reads a reply. Messages are single frames.
 *
 * The server here also reads who is asking from the message's metadata
 * (`peerMetadata: true`): each client announces an `X-Name` property in its
 * handshake (`metadata` option, libzmq's ZMQ_METADATA), which a libzmq peer
 * reads with `zmq_msg_gets` and we with `message.peer.get()`.
 *
 *   CLIENT alice ─┐
 *   CLIENT bob   ─┼──▶ SERVER (replies by routingId)
 *   CLIENT carol ─┘
 *
 * Run: `deno run -A examples/client_server.ts`
 *
 * @module
 */

import { ClientSocket, ServerSocket, text } from "../mod.ts";

const NAMES = ["alice", "bob", "carol"];
const REQUESTS = 2;

await using server = new ServerSocket({ peerMetadata: true });
await server.bind("tcp://127.0.0.1:0");
console.log(`SERVER listening on ${server.lastEndpoint}`);

// The service: every request carries `routingId` (who to answer) and
// `peer` (what that client told us about itself).
const answered = new Map<string, number>();
const service = (async () => {
  for await (const request of server) {
    const name = request.peer?.get("X-Name") ?? "stranger";
    answered.set(name, (answered.get(name) ?? 0) + 1);
    await server.send(`${text(request[0])} -> done for ${name}`, { routingId: request.routingId });
  }
})();

const clients = NAMES.map((name) => {
  const client = new ClientSocket({ metadata: { "X-Name": name }, receiveTimeout: 5000 });
  client.connect(server.lastEndpoint!);
  return { name, client };
});

// Each client sends all its requests before reading any reply: CLIENT has no
// REQ-style lock-step.
await Promise.all(clients.map(async ({ name, client }) => {
  for (let i = 1; i <= REQUESTS; i++) await client.send(`${name} job ${i}`);
  for (let i = 1; i <= REQUESTS; i++) {
    const [reply] = await client.receive();
    console.log(`  ${name} got: ${text(reply)}`);
  }
  await client.close();
}));

await server.close(); // ends the service's for-await loop
await service;
const tally = NAMES.map((n) => `${n}=${answered.get(n) ?? 0}`).join(" ");
console.log(
  `client_server: ${
    NAMES.length * REQUESTS
  } requests answered for ${NAMES.length} clients (${tally})`,
);
