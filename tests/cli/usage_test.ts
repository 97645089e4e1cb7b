/**
 * Exit statuses of the command line: a wrong command line is status 2 with the
 * usage on stderr, a failure at run time is status 1 with the reason, help is 0.
 */

import assert from "node:assert/strict";
import { cli } from "./_cli.ts";

const usageCases: [string, string[], RegExp][] = [
  ["an unknown flag", ["pull", "--no-such-flag", "-b", "tcp://127.0.0.1:0"], /unknown option/],
  ["an unknown command", ["sprocket"], /unknown command/],
  ["a non-numeric interval", ["push", "-c", "tcp://127.0.0.1:1", "-i", "soon"], /Not a number/],
  ["no endpoint", ["pull"], /at least one --bind or --connect/],
  ["--subscribe on a push socket", ["push", "-c", "tcp://127.0.0.1:1", "-s", "x"], /--subscribe/],
  ["messages for a pull socket", ["pull", "-b", "tcp://127.0.0.1:0", "hello"], /cannot send/],
  ["a dish without groups", ["dish", "-b", "tcp://127.0.0.1:0"], /--join/],
  ["two formats", ["pull", "-b", "tcp://127.0.0.1:0", "-J", "-Q"], /one format/],
  ["an unknown format", ["pull", "-b", "tcp://127.0.0.1:0", "-f", "xml"], /Allowed choices/],
  ["a bad perf test", ["perf", "fast", "tcp://127.0.0.1:1", "1", "1"], /Allowed choices/],
  ["a bad message size", ["perf", "local-thr", "tcp://127.0.0.1:0", "big", "1"], /message-size/],
  ["a bad secret key", ["keygen", "--secret", "short"], /40 Z85 characters/],
  ["CURVE and PLAIN at once", [
    "rep",
    "-b",
    "tcp://127.0.0.1:0",
    "--curve-server",
    "--plain-server",
  ], /CURVE or PLAIN/],
  [
    "a -e that does not compile",
    ["pull", "-b", "tcp://127.0.0.1:0", "-e", "F.("],
    /does not compile/,
  ],
  ["-e on a push socket", ["push", "-c", "tcp://127.0.0.1:1", "-e", "F"], /receives nothing/],
  [
    "a bad reconnect interval",
    ["push", "-c", "tcp://127.0.0.1:1", "--reconnect-ivl", "1..x"],
    /MIN\.\.MAX/,
  ],
];

for (const [what, args, message] of usageCases) {
  Deno.test(`monocoque exits with 2 and the usage on stderr for ${what}`, async () => {
    const r = await cli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /Usage: monocoque/);
    assert.equal(r.stdout, "");
  });
}

Deno.test("monocoque --help prints the commands on stdout and exits with 0", async () => {
  const r = await cli(["--help"]);
  assert.equal(r.code, 0);
  for (const c of ["req", "channel", "monitor", "proxy", "keygen", "perf"]) {
    assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  }
});

Deno.test("monocoque exits with 1 and says why when a receive times out", async () => {
  const r = await cli(["pull", "-b", "tcp://127.0.0.1:0", "-t", "0.5"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No message within 0.5 s/);
  assert.doesNotMatch(r.stderr, /Usage/);
});

Deno.test("monocoque exits with 1 when it cannot bind", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const r = await cli(["pull", "-b", `tcp://127.0.0.1:${taken.addr.port}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /EADDRINUSE/);
});

Deno.test("monocoque exits with 1 when no peer shows up within --timeout", async () => {
  const r = await cli(["push", "-c", "tcp://127.0.0.1:1", "-t", "0.5", "hello"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No peer within 0.5 s/);
});

Deno.test("monocoque exits with 1 and names the flag when a -E expression throws", async () => {
  const r = await cli(["push", "-c", "tcp://127.0.0.1:1", "-E", "nothing.here", "hi"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /-E failed: nothing is not defined/);
});
