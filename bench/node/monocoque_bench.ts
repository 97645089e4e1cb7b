/**
 * Monocoque under Node or Bun, the side of the runtime benchmark
 * (bench/runtimes.ts) that runs outside Deno: the modes of bench/_modes.mjs
 * through Monocoque's public API, like bench/monocoque_bench.ts does under
 * Deno and bench/node/zmq_bench.mjs for zeromq.js. bench/runtimes.ts bundles
 * it with the pinned esbuild into bench/build/monocoque_node.mjs, then:
 *
 *   node bench/build/monocoque_node.mjs MODE [@|>]ENDPOINT COUNT [SIZE] [NSUBS|NSOCKETS]
 *   bun  bench/build/monocoque_node.mjs MODE ...
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import {
  DealerSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  SubSocket,
  XPubSocket,
} from "../../mod.ts";
import { main } from "../_modes.mjs";

// deno-lint-ignore no-explicit-any
type AnySocketClass = new (options: any) => any;

const classes: Record<string, AnySocketClass> = {
  push: PushSocket,
  pull: PullSocket,
  req: ReqSocket,
  rep: RepSocket,
  dealer: DealerSocket,
  router: RouterSocket,
  xpub: XPubSocket,
  sub: SubSocket,
};

const stdinClosed = new Promise<void>((resolve) => {
  process.stdin.on("end", resolve);
  process.stdin.on("close", resolve);
  process.stdin.on("error", () => resolve());
  process.stdin.resume();
});

await main({
  impl: typeof (globalThis as { Bun?: unknown }).Bun === "object"
    ? "monocoque-bun"
    : "monocoque-node",
  socket(kind: string, { hwm, linger }: { hwm: number; linger: number }) {
    const options: Record<string, unknown> = {
      sendHighWaterMark: hwm,
      receiveHighWaterMark: hwm,
      linger,
    };
    if (kind === "xpub") Object.assign(options, { verbose: true, noDrop: true });
    return new classes[kind](options);
  },
  payload: (size: number) => new Uint8Array(size).fill(97),
  stdinClosed,
  procStatus: () => readFileSync("/proc/self/status", "utf8"),
  print: (line: string) => process.stdout.write(line + "\n"),
  yieldToIo: () => new Promise<void>((resolve) => setImmediate(resolve)),
  exit: (code: number) => process.exit(code),
}, process.argv.slice(2));
