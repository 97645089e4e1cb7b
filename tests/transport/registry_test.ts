import assert from "node:assert/strict";
import { PullSocket, PushSocket, ZmqError } from "../../mod.ts";
import { InprocTransport } from "../../src/transport/inproc.ts";
import { registerTransport } from "../../src/transport/registry.ts";
import type { EndpointBase, InprocEndpoint } from "../../src/transport/types.ts";
import { recv } from "../socket/_helpers.ts";

interface TestEndpoint extends EndpointBase {
  readonly transport: "test-missing" | "test-loop";
  readonly name: string;
}

const isProtoNoSupport = (e: unknown) => e instanceof ZmqError && e.code === "EPROTONOSUPPORT";

registerTransport<TestEndpoint>("test-missing", {
  parse: (name) => ({ transport: "test-missing", name }),
  format: (e) => `test-missing://${e.name}`,
  transport: () => undefined,
});

Deno.test("A scheme with no transport on this runtime is EPROTONOSUPPORT at bind() and connect(), not a retry loop", async () => {
  await using push = new PushSocket();
  await assert.rejects(push.bind("test-missing://x"), isProtoNoSupport);
  assert.throws(() => push.connect("test-missing://x"), isProtoNoSupport);
});

Deno.test("An unknown scheme is EPROTONOSUPPORT and a malformed one EINVAL, as in libzmq", async () => {
  await using push = new PushSocket();
  assert.throws(() => push.connect("pgm://eth0;239.1.1.1:5555"), isProtoNoSupport);
  await assert.rejects(push.bind("nope://x"), isProtoNoSupport);
  assert.throws(
    () => push.connect("1tcp://x:1"),
    (e) => e instanceof ZmqError && e.code === "EINVAL",
  );
});

Deno.test("A registered scheme is one row: sockets bind and connect through it", async () => {
  const inproc = new InprocTransport();
  const inner = (e: TestEndpoint): InprocEndpoint => ({
    transport: "inproc",
    name: `loop/${e.name}`,
  });
  registerTransport<TestEndpoint>("test-loop", {
    parse: (name, _use, endpoint) => {
      if (name === "") throw new ZmqError("EINVAL", `Invalid endpoint '${endpoint}': empty name`);
      return { transport: "test-loop", name };
    },
    format: (e) => `test-loop://${e.name}`,
    transport: () => ({
      listen: (e) => inproc.listen(inner(e)),
      connect: (e, options) => inproc.connect(inner(e), options),
    }),
  });
  await using pull = new PullSocket();
  await pull.bind("test-loop://a");
  await using push = new PushSocket();
  push.connect("test-loop://a");
  await push.send("through the registry");
  assert.equal(new TextDecoder().decode((await recv(pull))[0]), "through the registry");
  assert.throws(
    () => push.connect("test-loop://"),
    (e) => e instanceof ZmqError && e.code === "EINVAL",
  );
});

Deno.test("registerTransport() rejects a malformed scheme name with TypeError", () => {
  for (const name of ["", "1x", "Tcp", "a b"]) {
    assert.throws(
      () =>
        registerTransport(name, {
          parse: () => ({ transport: name }),
          format: () => "",
          transport: () => undefined,
        }),
      TypeError,
    );
  }
});
