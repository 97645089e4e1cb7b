import assert from "node:assert/strict";
import { ZmqError } from "../../src/errors.ts";
import { formatEndpoint, parseEndpoint } from "../../src/transport/endpoint.ts";
import type { Endpoint } from "../../src/transport/types.ts";

const good: [string, Endpoint, string?][] = [
  ["tcp://127.0.0.1:5555", { transport: "tcp", host: "127.0.0.1", port: 5555 }],
  ["tcp://localhost:1", { transport: "tcp", host: "localhost", port: 1 }],
  ["tcp://example.com:65535", { transport: "tcp", host: "example.com", port: 65535 }],
  ["tcp://*:5555", { transport: "tcp", host: "*", port: 5555 }],
  ["tcp://*:0", { transport: "tcp", host: "*", port: 0 }],
  ["tcp://*:*", { transport: "tcp", host: "*", port: 0 }, "tcp://*:0"],
  ["tcp://127.0.0.1:*", { transport: "tcp", host: "127.0.0.1", port: 0 }, "tcp://127.0.0.1:0"],
  ["tcp://[::1]:5555", { transport: "tcp", host: "::1", port: 5555 }],
  ["tcp://[::]:0", { transport: "tcp", host: "::", port: 0 }],
  ["tcp://[fe80::1%eth0]:80", { transport: "tcp", host: "fe80::1%eth0", port: 80 }],
  ["tcp://[::ffff:127.0.0.1]:80", { transport: "tcp", host: "::ffff:127.0.0.1", port: 80 }],
  ["tcp://eth0:5555", { transport: "tcp", host: "eth0", port: 5555 }],
  ["tcp://127.0.0.1:007", { transport: "tcp", host: "127.0.0.1", port: 7 }, "tcp://127.0.0.1:7"],
  ["ipc:///tmp/feeds/0", { transport: "ipc", path: "/tmp/feeds/0" }],
  ["ipc://relative.sock", { transport: "ipc", path: "relative.sock" }],
  ["ipc://dir/x:y", { transport: "ipc", path: "dir/x:y" }],
  ["inproc://my-endpoint", { transport: "inproc", name: "my-endpoint" }],
  ["inproc://a/b:c", { transport: "inproc", name: "a/b:c" }],
];

for (const [text, expected, formatted] of good) {
  Deno.test(`parseEndpoint() accepts ${text} and formatEndpoint() writes it back`, () => {
    const parsed = parseEndpoint(text);
    assert.deepEqual(parsed, expected);
    assert.equal(formatEndpoint(parsed), formatted ?? text);
  });
}

const invalid = [
  "",
  "tcp",
  "tcp:/127.0.0.1:5555",
  "://127.0.0.1:5555",
  "tcp://",
  "tcp://127.0.0.1",
  "tcp://127.0.0.1:",
  "tcp://:5555",
  "tcp://127.0.0.1:65536",
  "tcp://127.0.0.1:-1",
  "tcp://127.0.0.1:12ab",
  "tcp://127.0.0.1:1e3",
  "tcp://127.0.0.1: 80",
  "tcp://127.0.0.1:999999",
  "tcp://::1:5555",
  "tcp://[::1:5555",
  "tcp://[::1]5555",
  "tcp://[]:5555",
  "tcp://[not-v6]:5555",
  "tcp://eth0;192.168.1.1:5555",
  "tcp://bad host:5555",
  "tcp://host/path:5555",
  "ipc://",
  "inproc://",
  "1tcp://x:1",
];

for (const text of invalid) {
  Deno.test(`parseEndpoint() rejects ${JSON.stringify(text)} with EINVAL`, () => {
    assert.throws(
      () => parseEndpoint(text),
      (err) => err instanceof ZmqError && err.code === "EINVAL",
    );
  });
}

for (const text of ["pgm://eth0;239.192.1.1:5555", "norm://x:1", "TCP://x:1"]) {
  Deno.test(`parseEndpoint() rejects ${text} with EPROTONOSUPPORT`, () => {
    assert.throws(
      () => parseEndpoint(text),
      (err) => err instanceof ZmqError && err.code === "EPROTONOSUPPORT",
    );
  });
}

Deno.test("parseEndpoint() rejects a non-string with TypeError", () => {
  for (const value of [undefined, null, 5555, {}, ["tcp://x:1"]]) {
    assert.throws(() => parseEndpoint(value as unknown as string), TypeError);
  }
});

Deno.test("parseEndpoint() explains that the tcp source syntax is not supported", () => {
  assert.throws(() => parseEndpoint("tcp://eth0;192.168.1.1:5555"), /source address/);
});
