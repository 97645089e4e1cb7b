/**
 * `monocoque`: ZeroMQ from a terminal. Every socket type as a command that
 * binds or connects, sends messages from arguments, a file or stdin and
 * prints what it receives (ascii, quoted, raw ZMTP, JSON lines or
 * MessagePack); plus `monitor` (a socket's events, live), `proxy`
 * (zmq_proxy), `keygen` (CURVE keys) and `perf` (libzmq's perf tools,
 * interchangeable with them).
 *
 * Run it with `deno task cli ...` in a checkout, or install it:
 *
 * ```sh
 * deno install -A --unstable-net -n monocoque --global ./cli/main.ts  # or jsr:@monocoque/zmtp/cli
 * monocoque pull --bind tcp://127.0.0.1:5555 &
 * echo hello | monocoque push --connect tcp://127.0.0.1:5555
 * ```
 *
 * Exit status: 0 done, 1 a failure at run time (said on stderr, e.g. a
 * `--timeout`), 2 a wrong command line (with the usage on stderr), 130
 * interrupted by Ctrl-C.
 *
 * @example Make a CURVE key pair, as `monocoque keygen --json` does
 * ```ts
 * import { main } from "@monocoque/zmtp/cli";
 *
 * const status = await main(["keygen", "--json"]);
 * console.assert(status === 0);
 * ```
 *
 * @module
 */

import { CommanderError } from "commander";
import { denoIo, type Io } from "./_io.ts";
import { buildProgram } from "./_program.ts";
import { describe } from "./_run.ts";
import { UsageError } from "./_usage.ts";

/** The exit status of a wrong command line. */
const USAGE = 2;

/**
 * Runs the command line `args` (without the program name) and returns its
 * exit status instead of exiting, so it can run inside another program.
 * It reads stdin and writes stdout and stderr; Ctrl-C stops it (status 130)
 * once `signal` is aborted, which `deno run cli/main.ts` wires to SIGINT
 * and SIGTERM.
 *
 * @param args The arguments, e.g. `["pull", "--bind", "tcp://*:5555"]`.
 * @param signal Stops a running command, as Ctrl-C does.
 * @returns The exit status: 0 done, 1 failed at run time, 2 wrong usage, 130 interrupted.
 *
 * @example A wrong flag is status 2, with the usage on stderr
 * ```ts
 * import { main } from "@monocoque/zmtp/cli";
 *
 * console.assert(await main(["pull", "--no-such-flag"]) === 2);
 * ```
 */
export async function main(args: string[], signal?: AbortSignal): Promise<number> {
  const io = denoIo(signal ?? new AbortController().signal);
  return await run(args, io);
}

async function run(args: string[], io: Io): Promise<number> {
  let status = 0;
  const program = buildProgram(io, (s) => status = s);
  try {
    await program.parseAsync(args, { from: "user" });
    return status;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return e.exitCode === 0 ? 0 : USAGE;
    }
    if (e instanceof UsageError) {
      const command = program.commands.find((c) => c.name() === args[0]) ?? program;
      io.log(`error: ${e.message}`);
      io.log(command.helpInformation().replace(/\n$/, ""));
      return USAGE;
    }
    io.log(`monocoque: ${describe(e)}`);
    return 1;
  }
}

if (import.meta.main) {
  const stop = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    // A second Ctrl-C does not wait for linger.
    if (interrupted) Deno.exit(130);
    interrupted = true;
    stop.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const status = await main(Deno.args, stop.signal);
  // Pending stdin reads and timers of a stopped command must not keep the process alive.
  Deno.exit(status);
}
