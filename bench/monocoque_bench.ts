/**
 * Monocoque side of the side-by-side benchmark: the modes of bench/_modes.mjs
 * (shared with the zeromq.js harness) driven through Monocoque's public API.
 * Same arguments and JSON-lines output as bench/c/zmq_bench.c:
 *
 *   deno run -A bench/monocoque_bench.ts [--native] MODE [@|>]ENDPOINT COUNT [SIZE] [NSUBS|NSOCKETS]
 *
 * and the idiom modes of bench/_idioms.ts (Monocoque only, for the runner's
 * idiom rows):
 *
 *   deno run -A bench/monocoque_bench.ts idiom_recv IDIOM [@]ENDPOINT COUNT
 *   deno run -A bench/monocoque_bench.ts idiom_send IDIOM [>]ENDPOINT COUNT SIZE
 *
 * With `--v8-flags=--expose-gc` the harness calls `gc()` at the start and the
 * end of the window it measures (`gcMark` in bench/_modes.mjs), so that the
 * runner can count `--trace-gc` collections inside it.
 *
 * `--native` gives every socket the io_uring transport of `ffi/` (one
 * NativeLibrary shared by all sockets of the process; build it with
 * `make -C native`). If the library cannot be loaded the process prints why
 * on stderr and exits with status 3.
 *
 * @module
 */
import {
  DealerSocket,
  PullSocket,
  PushSocket,
  RepSocket,
  ReqSocket,
  RouterSocket,
  SubSocket,
  XPubSocket,
} from "../mod.ts";
import { setImmediate } from "node:timers";
import { main } from "./_modes.mjs";
import { curveOptions } from "./_curve.mjs";
import { idiomMode } from "./_idioms.ts";

const native = Deno.args[0] === "--native";
const args = native ? Deno.args.slice(1) : Deno.args;

let transport: unknown;
if (native) {
  const { loadNative, NativeTransport, probeNative } = await import("../ffi/mod.ts");
  const lib = loadNative();
  if (!lib) {
    const probe = probeNative() as { reason?: string };
    console.error(`native transport unavailable: ${probe.reason ?? "unknown reason"}`);
    Deno.exit(3);
  }
  transport = new NativeTransport(lib);
}

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

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  try {
    while (!(await reader.read()).done) {
      // discard: only the end of stdin matters
    }
  } catch {
    // a closed or broken stdin counts as the end
  }
}

/** A socket of `kind` with the harness's options (HWM, linger, CURVE, transport). */
function socket(kind: string, { hwm, linger }: { hwm: number; linger: number }) {
  const options: Record<string, unknown> = {
    sendHighWaterMark: hwm,
    receiveHighWaterMark: hwm,
    linger,
  };
  if (transport) options.transport = transport;
  Object.assign(options, curveOptions(kind, Deno.env.get("BENCH_CURVE")));
  // Lossless fan-out as in the C harness (XPUB_VERBOSE; noDrop is passed in
  // case the option exists, the subscriber reports losses either way).
  if (kind === "xpub") Object.assign(options, { verbose: true, noDrop: true });
  return new classes[kind](options);
}

const procStatus = () => Deno.readTextFileSync("/proc/self/status");
const stdinClosed = drain(Deno.stdin.readable);
const gc = (globalThis as { gc?: () => void }).gc;

if (args[0]?.startsWith("idiom_")) {
  try {
    await idiomMode({
      // The same high-water mark and linger as the pull_recv / push_send modes.
      socket: (kind) => socket(kind, { hwm: 1000, linger: kind === "push" ? 2000 : 0 }),
      stdinClosed,
      print: (line) => console.log(line),
      peakRssKb: () => {
        const line = procStatus().split("\n").find((l) => l.startsWith("VmHWM:"));
        return line ? parseInt(line.slice(6), 10) : -1;
      },
    }, args);
  } catch (err) {
    console.error(`monocoque ${args[0]} failed:`, err);
    Deno.exit(1);
  }
  Deno.exit(0);
}

await main({
  impl: native ? "monocoque-native" : "monocoque",
  socket,
  payload: (size: number) => new Uint8Array(size).fill(97),
  stdinClosed,
  procStatus,
  print: (line: string) => console.log(line),
  yieldToIo: () => new Promise<void>((resolve) => setImmediate(resolve)),
  gcMark: gc ? () => gc() : undefined,
  exit: (code: number) => Deno.exit(code),
}, args);
