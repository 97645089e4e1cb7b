/**
 * Run as its own process by library_test.ts: opens a listener, a connection
 * pair and in-flight operations, closes the library, and prints the open
 * file descriptor counts before and after. /proc/self/fd is process-wide, so
 * inside a parallel test run other files' sockets would blur the count.
 *
 * @module
 */

import { NativeLibrary, NativeTransport } from "../../ffi/mod.ts";
import { LIBRARY_PATH } from "./_native.ts";

const openFds = () => [...Deno.readDirSync("/proc/self/fd")].length;

const before = openFds();
const lib = new NativeLibrary({ path: LIBRARY_PATH });
const transport = new NativeTransport(lib);
const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
const port = Number(listener.endpoint.split(":").at(-1));
const [, server] = await Promise.all([
  transport.connect({ transport: "tcp", host: "127.0.0.1", port }),
  listener.accept(),
]);
const pending = [
  listener.accept(),
  server!.read(new Uint8Array(16)),
  server!.write([new Uint8Array(32 * 1024 * 1024)]).catch(() => {}),
];
const during = openFds();
await lib.close();
await Promise.all(pending);
console.log(JSON.stringify({ before, during, after: openFds() }));
