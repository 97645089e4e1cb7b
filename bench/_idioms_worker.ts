/**
 * One side of a bench/idioms.ts run: a PULL receiver or a PUSH sender using
 * one API idiom (bench/_idioms.ts), over tcp. Prints JSON lines for the runner:
 *
 *   deno run -A bench/_idioms_worker.ts recv IDIOM COUNT MOD_URL
 *     → {"event":"ready","ep":…} then {"event":"result","msgs_per_s":…}
 *   deno run -A bench/_idioms_worker.ts send IDIOM COUNT MOD_URL EP SIZE
 *     → {"event":"result","send_secs":…} once its stdin closes (receiver done)
 *
 * MOD_URL is the mod.ts to import, so one run can compare two checkouts.
 *
 * @module
 */

import { type IdiomSocket, receiveWith, sendWith } from "./_idioms.ts";

const [role, idiom, countArg, modUrl, ep, sizeArg] = Deno.args;
const count = parseInt(countArg, 10);
const mod = await import(modUrl);
const print = (j: Record<string, unknown>) => console.log(JSON.stringify(j));

if (role === "recv") {
  const pull: IdiomSocket = new mod.PullSocket({ linger: 0 });
  await pull.bind("tcp://127.0.0.1:0");
  print({ event: "ready", ep: pull.lastEndpoint });
  const r = await receiveWith(pull, idiom, count);
  print({ event: "result", msgs_per_s: (r.got - 1) / r.secs, rss_peak_kb: peakRssKb() });
  await pull.close();
} else if (role === "send") {
  const push: IdiomSocket = new mod.PushSocket({ linger: 2000 });
  push.connect(ep);
  const secs = await sendWith(push, idiom, count, new Uint8Array(parseInt(sizeArg, 10)).fill(97));
  // Hold the connection until the receiver has everything.
  for await (const _ of Deno.stdin.readable) { /* until end of file */ }
  print({ event: "result", send_secs: secs, rss_peak_kb: peakRssKb() });
  await push.close();
} else {
  console.error("usage: recv|send IDIOM COUNT MOD_URL [EP SIZE]");
  Deno.exit(2);
}
Deno.exit(0);

function peakRssKb(): number {
  const line = Deno.readTextFileSync("/proc/self/status").split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return line ? parseInt(line.slice(6), 10) : -1;
}
