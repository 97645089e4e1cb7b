import assert from "node:assert/strict";
import { ZmqError } from "../../src/errors.ts";
import {
  InprocTransport,
  IpcTransport,
  parseEndpoint,
  TcpTransport,
  transportFor,
} from "../../src/transport/mod.ts";
import type { Endpoint } from "../../src/transport/types.ts";

Deno.test("transportFor() returns one shared transport per scheme", () => {
  const tcp = transportFor(parseEndpoint("tcp://127.0.0.1:1"));
  assert.ok(tcp instanceof TcpTransport);
  assert.equal(transportFor(parseEndpoint("tcp://*:0")), tcp);
  assert.ok(transportFor(parseEndpoint("ipc:///tmp/x")) instanceof IpcTransport);
  assert.ok(transportFor(parseEndpoint("inproc://x")) instanceof InprocTransport);
});

Deno.test("transportFor() rejects an unknown transport with EPROTONOSUPPORT", () => {
  assert.throws(
    () => transportFor({ transport: "sctp" } as unknown as Endpoint),
    (err) => err instanceof ZmqError && err.code === "EPROTONOSUPPORT",
  );
});
