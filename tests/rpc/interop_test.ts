/**
 * The RPC envelope spoken by a real libzmq peer: a pyzmq DEALER written from
 * rpc/SPEC.md (tests/rpc/peers/rpc_client.py) calls a Monocoque RpcServer —
 * unary, unknown method, multiplexed ids, deadline, cancel, and a server
 * stream with credit.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { withTimeout } from "../_util/timeout.ts";
import { pair } from "./_service.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./peers/rpc_client.py", import.meta.url));

function pyzmqAvailable(): boolean {
  try {
    const { success } = new Deno.Command(PYTHON, { args: ["-c", "import zmq"] }).outputSync();
    return success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "RPC interop: a pyzmq client calls a Monocoque service through the documented envelope",
  ignore: !pyzmqAvailable(),
  async fn() {
    await using p = await pair("tcp");
    const killer = new AbortController();
    const child = new Deno.Command(PYTHON, {
      args: [SCRIPT, p.server.lastEndpoint!],
      stdout: "piped",
      stderr: "piped",
      signal: killer.signal,
    }).spawn();
    let output: Deno.CommandOutput;
    try {
      output = await withTimeout(child.output(), 30_000, "pyzmq client");
    } catch (error) {
      killer.abort();
      await child.output();
      throw error;
    }
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, stderr);
    const out = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.deepEqual(out.upper, ["end", "py-1", "0", "", "HELLO FROM PYZMQ"]);
    assert.deepEqual(out.unknown.slice(0, 3), ["end", "py-2", "12"]);
    assert.deepEqual(out.multiplexed, [
      ["end", "m0", "0", "", "CALL 0"],
      ["end", "m1", "0", "", "CALL 1"],
      ["end", "m2", "0", "", "CALL 2"],
    ]);
    assert.deepEqual(out.deadline.slice(0, 3), ["end", "py-3", "4"]);
    assert.deepEqual(out.after_cancel, ["end", "py-5", "0", "", "AFTER CANCEL"]);
    // The cancelled sleep(60000) is no longer in flight: its handler saw the abort.
    assert.equal(p.server.callsInFlight, 0);
    const hex = (s: string) =>
      Array.from(new TextEncoder().encode(s), (b) => b.toString(16).padStart(2, "0")).join("");
    // {n: 1}, {n: 2}, {n: 3} in MessagePack, then end OK.
    assert.deepEqual(out.stream, [
      [hex("data"), hex("s"), "81a16e01"],
      [hex("data"), hex("s"), "81a16e02"],
      [hex("data"), hex("s"), "81a16e03"],
      [hex("end"), hex("s"), hex("0"), "", ""],
    ]);
  },
});
