/**
 * High-water marks over every transport (zmq_setsockopt: ZMQ_SNDHWM,
 * ZMQ_RCVHWM): a PUSH whose peer does not read eventually blocks, nothing is
 * lost on the way, and a small receive high-water mark bounds buffering
 * without failing the sender. Kernel socket buffers absorb a lot over tcp and
 * ipc, so those runs use 1 MiB messages; inproc has no kernel buffer, and
 * libzmq bounds an inproc pipe by the sum of both high-water marks. The
 * receive bounds are checked on the socket's per-peer queues: a read may bring
 * thousands of messages, and only as many as the bounds allow are decoded.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ZmqError } from "../../mod.ts";
import { PullSocket, PushSocket } from "../../mod.ts";
import { coreOf } from "../../src/socket/_core.ts";
import type { TransportName } from "./_helpers.ts";
import {
  bindAny,
  eachTransport,
  handshakes,
  isPending,
  recv,
  send,
  until,
  WAIT,
  withTimeout,
} from "./_helpers.ts";

function index(i: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}

function indexOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0);
}

/** Message size and the most sends a correct implementation needs before blocking. */
function sizing(t: TransportName): { size: number; bound: number } {
  return t === "inproc" ? { size: 16, bound: 2000 } : { size: 1 << 20, bound: 300 };
}

eachTransport(
  "PushSocket.send() blocks and times out with EAGAIN when the peer does not read",
  async (t) => {
    const { size, bound } = sizing(t);
    await using pull = new PullSocket({ receiveHighWaterMark: 10 });
    const ep = await bindAny(pull, t);
    await using push = new PushSocket({ sendHighWaterMark: 10, sendTimeout: 200 });
    const ready = handshakes(push);
    push.connect(ep);
    await ready;
    const payload = new Uint8Array(size);
    let sent = 0;
    let blocked = false;
    while (sent < bound) {
      try {
        await withTimeout(push.send([index(sent), payload]), WAIT);
      } catch (e) {
        if (e instanceof ZmqError && e.code === "EAGAIN") {
          blocked = true;
          break;
        }
        throw e;
      }
      sent++;
    }
    assert.ok(blocked, `${sent} sends of ${size} bytes never blocked`);
    // Nothing that was accepted is lost, and the order holds.
    for (let i = 0; i < sent; i++) {
      const [id, body] = await recv(pull);
      assert.equal(indexOf(id), i);
      assert.equal(body.length, size);
    }
  },
);

eachTransport(
  "PushSocket.send() waiting at the high-water mark resumes once the peer reads",
  async (t) => {
    const { size, bound } = sizing(t);
    await using pull = new PullSocket({ receiveHighWaterMark: 10 });
    const ep = await bindAny(pull, t);
    await using push = new PushSocket({ sendHighWaterMark: 10 });
    const ready = handshakes(push);
    push.connect(ep);
    await ready;
    const payload = new Uint8Array(size);
    // Send without awaiting until a send stays pending: the queue is full.
    const sends: Promise<void>[] = [];
    let waiting: Promise<void> | undefined;
    for (let i = 0; i < bound && waiting === undefined; i++) {
      const p = push.send([index(i), payload]);
      sends.push(p);
      // Waiting means: still pending after a turn, with every peer's queue full.
      if (await isPending(p) && [...coreOf(push).pipes].every((q) => !q.hasRoom())) waiting = p;
    }
    assert.ok(waiting !== undefined, `${bound} sends of ${size} bytes never waited`);
    // Reading everything lets every waiting send through.
    for (let i = 0; i < sends.length; i++) {
      const [id] = await recv(pull);
      assert.equal(indexOf(id), i);
    }
    await withTimeout(Promise.all(sends), WAIT, "the waiting sends");
  },
);

eachTransport(
  "PullSocket with a small receiveHighWaterMark does not fail its sender and delivers all in order",
  async (t) => {
    await using pull = new PullSocket({ receiveHighWaterMark: 5 });
    const ep = await bindAny(pull, t);
    await using push = new PushSocket({ sendTimeout: 2000 });
    push.connect(ep);
    for (let i = 0; i < 50; i++) await send(push, [index(i), "body"]);
    for (let i = 0; i < 50; i++) {
      const [id] = await recv(pull);
      assert.equal(indexOf(id), i);
    }
  },
);

eachTransport(
  "PushSocket with sendHighWaterMark 0 queues without limit",
  async (t) => {
    await using pull = new PullSocket();
    const ep = await bindAny(pull, t);
    await using push = new PushSocket({ sendHighWaterMark: 0, sendTimeout: 0 });
    push.connect(ep);
    for (let i = 0; i < 2000; i++) await send(push, index(i));
    for (let i = 0; i < 2000; i++) assert.equal(indexOf((await recv(pull))[0]), i);
  },
);

/** The per-peer queues of a socket's inbox (internal), for asserting the receive bounds. */
function inboxes(socket: PullSocket): { size: number; bytes: number }[] {
  return [...coreOf(socket).pipes].flatMap((p) => (p.inbox === undefined ? [] : [p.inbox]));
}

eachTransport(
  "PullSocket queues at most receiveHighWaterMark messages from a peer, however many one read brings",
  async (t) => {
    await using pull = new PullSocket({ receiveHighWaterMark: 10 });
    const ep = await bindAny(pull, t);
    await using push = new PushSocket({ sendHighWaterMark: 0 });
    push.connect(ep);
    // 3000 one-byte messages arrive in reads of thousands of messages each.
    for (let i = 0; i < 3000; i++) await send(push, Uint8Array.of(i & 0xff));
    await until(() => inboxes(pull).some((q) => q.size >= 10), "a full queue");
    assert.deepEqual(inboxes(pull).map((q) => q.size), [10]);
    for (let i = 0; i < 3000; i++) {
      const [frame] = await recv(pull);
      assert.equal(frame[0], i & 0xff);
      assert.ok(inboxes(pull).every((q) => q.size <= 10));
    }
  },
);

eachTransport(
  "PullSocket with receiveHighWaterMarkBytes pauses a peer once its queued bytes reach the bound",
  async (t) => {
    await using pull = new PullSocket({
      receiveHighWaterMark: 0,
      receiveHighWaterMarkBytes: 8 * 1024,
    });
    const ep = await bindAny(pull, t);
    await using push = new PushSocket({ sendHighWaterMark: 0 });
    push.connect(ep);
    for (let i = 0; i < 200; i++) await send(push, [index(i), new Uint8Array(1020)]);
    await until(() => inboxes(pull).some((q) => q.bytes >= 8 * 1024), "the byte bound");
    // The message that crosses the bound is queued; nothing after it.
    assert.deepEqual(inboxes(pull).map((q) => q.bytes), [8 * 1024]);
    for (let i = 0; i < 200; i++) {
      const [id] = await recv(pull);
      assert.equal(indexOf(id), i);
      assert.ok(inboxes(pull).every((q) => q.bytes <= 8 * 1024));
    }
  },
);

Deno.test("receiveHighWaterMarkBytes is validated like the other numeric options", () => {
  assert.throws(() => new PullSocket({ receiveHighWaterMarkBytes: -1 }), RangeError);
  assert.throws(() => new PullSocket({ receiveHighWaterMarkBytes: 1.5 }), TypeError);
  assert.throws(
    () => new PullSocket({ receiveHighWaterMarkBytes: "1" as unknown as number }),
    TypeError,
  );
});
