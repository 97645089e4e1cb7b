/**
 * The other end of shm_test.ts's cross-Worker cases, run as a Deno Worker of
 * the test process (it imports only the main entry: the Worker rings, no
 * FFI). It receives `{ mode, endpoint }`, plays one side of a pattern and
 * posts `{ ok: true }` or `{ ok: false, error }`; modes that never end on
 * their own post `{ ready: true }` and wait to be terminated. Every receive
 * is bounded, so a broken exchange reports instead of hanging.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import assert from "node:assert/strict";
import {
  ChannelSocket,
  ClientSocket,
  DealerSocket,
  DishSocket,
  PairSocket,
  PeerSocket,
  PullSocket,
  PushSocket,
  ReqSocket,
  ScatterSocket,
  SubSocket,
  XSubSocket,
} from "../../mod.ts";
import { resolveEndpoint, transportFor } from "../../src/transport/registry.ts";
import { pattern } from "./_shm_workers.ts";

const options = { receiveTimeout: 20_000, sendTimeout: 20_000, linger: 20_000 };
const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

async function play(mode: string, endpoint: string): Promise<void> {
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
    case "xsub": {
      await using s = new XSubSocket(options);
      s.connect(endpoint);
      await s.send(new Uint8Array([1, 0x74])); // subscribe to "t"
      const [topic, body] = await s.receive();
      assert.equal(text(topic), "t");
      assert.equal(text(body), "hello");
      return;
    }
    case "dish": {
      await using s = new DishSocket(options);
      s.join("g");
      s.connect(endpoint);
      const message = await s.receive();
      assert.equal(text(message.group), "g");
      assert.equal(text(message[0]), "hello");
      return;
    }
    case "peer": {
      await using s = new PeerSocket(options);
      const id = s.connectPeer(endpoint);
      await s.send("ping", { routingId: id });
      const reply = await s.receive();
      assert.equal(text(reply[0]), "pong");
      assert.equal(reply.routingId, id);
      return;
    }
    case "channel": {
      await using s = new ChannelSocket(options);
      s.connect(endpoint);
      await s.send("ping");
      assert.equal(text((await s.receive())[0]), "pong");
      return;
    }
    case "pull": {
      await using s = new PullSocket(options);
      s.connect(endpoint);
      for (let seed = 0; seed < 3; seed++) {
        assert.deepEqual((await s.receive())[0], pattern(seed), `message ${seed} arrived intact`);
      }
      return;
    }
    case "bind-pull": {
      // Both ends in Workers: this one binds; another Worker's "push" connects.
      await using s = new PullSocket(options);
      await s.bind(endpoint);
      self.postMessage({ ready: true });
      for (let seed = 0; seed < 3; seed++) {
        assert.deepEqual((await s.receive())[0], pattern(seed), `message ${seed} arrived intact`);
      }
      assert.equal(text((await s.receive())[0]), "done");
      return;
    }
    case "push":
    case "scatter": {
      await using s = mode === "push" ? new PushSocket(options) : new ScatterSocket(options);
      const events = s.events();
      s.connect(endpoint);
      for await (const event of events) if (event.type === "handshakeSucceeded") break;
      for (let seed = 0; seed < 3; seed++) await s.send(pattern(seed));
      await s.send("done");
      return;
    }
    case "flood": {
      // Sends until terminated.
      const s = new PushSocket({ ...options, sendHighWaterMark: 4 });
      s.connect(endpoint);
      const chunk = new Uint8Array(50_000).fill(7);
      await s.send(chunk);
      self.postMessage({ ready: true });
      for (;;) await s.send(chunk);
    }
    case "raw-idle": {
      // A bare connection that never reads, until terminated.
      const ep = resolveEndpoint(endpoint, "connect");
      await transportFor(ep).connect(ep);
      self.postMessage({ ready: true });
      await new Promise(() => {}); // the open BroadcastChannel is gone: keep the Worker busy
      return;
    }
  }
  throw new Error(`Unknown mode ${mode}`);
}

self.onmessage = async (event: MessageEvent<{ mode: string; endpoint: string }>) => {
  try {
    await play(event.data.mode, event.data.endpoint);
    self.postMessage({ ok: true });
  } catch (err) {
    self.postMessage({ ok: false, error: String((err as Error)?.stack ?? err) });
  }
};
