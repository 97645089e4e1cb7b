/**
 * zeromq.js (v6, on Node) side of the side-by-side benchmark: the modes of
 * bench/_modes.mjs driven through zeromq.js's sockets. Run under Node, never
 * inside Deno (see DESIGN.md). zeromq.js is installed into the git-ignored
 * bench/node/node_modules by bench/run.ts:
 *
 *   npm install --prefix bench/node zeromq@6.8.0 --no-save
 *   node bench/node/zmq_bench.mjs MODE [@|>]ENDPOINT COUNT [SIZE] [NSUBS|NSOCKETS]
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";
import { main } from "../_modes.mjs";
import { curveOptions } from "../_curve.mjs";

// Loaded with require so that `deno check`, which also sees this file, has no
// npm specifier to resolve: zeromq.js lives in bench/node/node_modules only.
const zmq = createRequire(import.meta.url)("zeromq");

const classes = {
  push: zmq.Push,
  pull: zmq.Pull,
  req: zmq.Request,
  rep: zmq.Reply,
  dealer: zmq.Dealer,
  router: zmq.Router,
  xpub: zmq.XPublisher,
  sub: zmq.Subscriber,
};

const stdinClosed = new Promise((resolve) => {
  process.stdin.on("end", resolve);
  process.stdin.on("close", resolve);
  process.stdin.on("error", resolve);
  process.stdin.resume();
});

await main({
  impl: "zeromqjs",
  socket(kind, { hwm, linger }) {
    // zeromq.js sockets are sealed: give each only the options its type has.
    const options = { linger };
    if (kind !== "pull" && kind !== "sub") options.sendHighWaterMark = hwm;
    if (kind !== "push") options.receiveHighWaterMark = hwm;
    // Lossless fan-out, as in the C harness: XPUB_NODROP, XPUB_VERBOSE.
    if (kind === "xpub") Object.assign(options, { noDrop: true, verbosity: "allSubs" });
    Object.assign(options, curveOptions(kind, process.env.BENCH_CURVE));
    return new classes[kind](options);
  },
  payload: (size) => Buffer.alloc(size, "a"),
  stdinClosed,
  procStatus: () => readFileSync("/proc/self/status", "utf8"),
  yieldToIo: () => new Promise((resolve) => setImmediate(resolve)),
  print: (line) => process.stdout.write(line + "\n"),
  exit: (code) => process.exit(code),
}, process.argv.slice(2));
