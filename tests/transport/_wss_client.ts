/**
 * The client half of wss_test.ts, run as its own Deno process so that it can trust the test's
 * throwaway CA with `--cert` (Deno's WebSocket takes no per-connection CA): a REQ that sends
 * one request over the wss:// endpoint given as its argument and prints the reply.
 *
 * @module
 */

import { ReqSocket } from "../../mod.ts";

const [endpoint] = Deno.args;
await using req = new ReqSocket({ receiveTimeout: 10_000, sendTimeout: 10_000, linger: 0 });
req.connect(endpoint);
await req.send(["over tls", new Uint8Array(100_000).fill(1)]);
const [reply, big] = await req.receive();
console.log(`${new TextDecoder().decode(reply)} ${big.length}`);
