/**
 * The Worker side of bench/shm.ts's Workers table: PUSH→PULL in Workers of
 * one process. It receives `{ role, endpoint, count, size }`: `pull` binds
 * and times COUNT messages from the first to the last, `push` connects and
 * sends them, `both` runs the two in this one isolate (inproc's case). Same
 * HWM and linger as the harness modes of bench/_modes.mjs. Posts `ready`,
 * then `{ result: msgs_per_s }` (pull, both) or `{ sent: true }` (push).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { PullSocket, PushSocket } from "../mod.ts";

const HWM = 1000;

async function pull(endpoint: string, count: number): Promise<number> {
  const s = new PullSocket({ receiveHighWaterMark: HWM, linger: 0 });
  await s.bind(endpoint);
  self.postMessage({ ready: true });
  let t0 = 0;
  for (let got = 0; got < count; got++) {
    await s.receive();
    if (got === 0) t0 = performance.now();
  }
  const secs = (performance.now() - t0) / 1000;
  await s.close();
  return (count - 1) / secs;
}

async function push(endpoint: string, count: number, size: number): Promise<void> {
  const s = new PushSocket({ sendHighWaterMark: HWM, linger: 2000 });
  s.connect(endpoint);
  const payload = new Uint8Array(size);
  for (let i = 0; i < count; i++) await s.send(payload);
  await s.close();
}

self.onmessage = async (
  event: MessageEvent<{ role: string; endpoint: string; count: number; size: number }>,
) => {
  const { role, endpoint, count, size } = event.data;
  try {
    if (role === "pull") self.postMessage({ result: await pull(endpoint, count) });
    else if (role === "push") {
      await push(endpoint, count, size);
      self.postMessage({ sent: true });
    } else {
      const receiving = pull(endpoint, count);
      await new Promise((resolve) => setTimeout(resolve, 0)); // the bind first
      const [rate] = await Promise.all([receiving, push(endpoint, count, size)]);
      self.postMessage({ result: rate });
    }
  } catch (err) {
    self.postMessage({ error: String((err as Error)?.stack ?? err) });
  }
};
