/**
 * The other process of shm_test.ts: connects to `shm://NAME` and plays one
 * side of a pattern (the mode), exiting 0 only if the exchange went as
 * expected. Every receive is bounded, so a broken exchange exits non-zero
 * instead of hanging. Modes `worker-only-*` run without the native library:
 * shm:// is then the main entry's Worker rings, which stay inside the process.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  ClientSocket,
  DealerSocket,
  PairSocket,
  PullSocket,
  PushSocket,
  ReqSocket,
  ScatterSocket,
  SubSocket,
} from "../../mod.ts";
import { rendezvousPath } from "../../ffi/_shm.ts";

const [mode, endpoint] = Deno.args;
const options = { receiveTimeout: 10_000, sendTimeout: 10_000, linger: 10_000 };
const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

/** 1 MiB whose bytes depend on their position and `seed`. */
export function pattern(seed: number): Uint8Array {
  const out = new Uint8Array(1 << 20);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + seed) & 255;
  return out;
}

async function main(): Promise<void> {
  if (mode === "worker-only-without-native" || mode === "worker-only-without-ffi") {
    if (mode === "worker-only-without-ffi") await import("../../ffi/mod.ts");
    await using pull = new PullSocket(options);
    await pull.bind(endpoint);
    await assert.rejects(
      Deno.stat(rendezvousPath(endpoint.slice("shm://".length))),
      Deno.errors.NotFound,
      "no rendezvous socket for other processes",
    );
    await using push = new PushSocket(options);
    push.connect(endpoint);
    await push.send("in process");
    assert.equal(text((await pull.receive())[0]), "in process");
    return;
  }
  await import("../../ffi/mod.ts");
  switch (mode) {
    case "req": {
      await using s = new ReqSocket(options);
      s.connect(endpoint);
      await s.send("ping");
      assert.equal(text((await s.receive())[0]), "pong");
      return;
    }
    case "dealer": {
      await using s = new DealerSocket(options);
      s.connect(endpoint);
      await s.send("ping");
      assert.equal(text((await s.receive())[0]), "pong");
      return;
    }
    case "client": {
      await using s = new ClientSocket(options);
      s.connect(endpoint);
      await s.send("ping");
      assert.equal(text((await s.receive())[0]), "pong");
      return;
    }
    case "pair": {
      await using s = new PairSocket(options);
      s.connect(endpoint);
      await s.send(await s.receive()); // echo
      return;
    }
    case "sub": {
      await using s = new SubSocket(options);
      s.subscribe("t");
      s.connect(endpoint);
      const [topic, body] = await s.receive();
      assert.equal(text(topic), "t");
      assert.equal(text(body), "hello");
      return;
    }
    case "pull": {
      await using s = new PullSocket(options);
      s.connect(endpoint);
      for (let seed = 0; seed < 3; seed++) {
        const [frame] = await s.receive();
        assert.deepEqual(frame, pattern(seed), `1 MiB message ${seed} arrived intact`);
      }
      return;
    }
    case "push":
    case "scatter": {
      await using s = mode === "push" ? new PushSocket(options) : new ScatterSocket(options);
      // Closing aborts a connect still in progress (linger covers established
      // connections only): send once the handshake is done.
      const events = s.events();
      s.connect(endpoint);
      for await (const event of events) if (event.type === "handshakeSucceeded") break;
      for (let seed = 0; seed < 3; seed++) await s.send(pattern(seed));
      await s.send("done");
      return;
    }
    case "flood": {
      // Writes until killed: the parent kills this process mid-stream.
      const s = new PushSocket({ ...options, sendHighWaterMark: 4 });
      s.connect(endpoint);
      const chunk = new Uint8Array(200_000).fill(7);
      for (;;) await s.send(chunk);
    }
  }
  throw new Error(`Unknown mode ${mode}`);
}

if (import.meta.main) await main();
