/**
 * The command line of `monocoque`, declared with commander: one command per
 * socket type plus `monitor`, `proxy`, `keygen` and `perf`. Flags follow the
 * omq CLI where it has them (`-b/-c`, `-D/-F`, `-i/-n/-d/-t/-l`, `-s/-j/-g`,
 * `-A/-Q/-J`), with times in seconds.
 *
 * @module
 */

import { Argument, Command, InvalidArgumentError, Option } from "commander";
import { type Format, FORMATS } from "./_format.ts";
import type { Io } from "./_io.ts";
import { keygen, type KeygenFlags } from "./_keygen.ts";
import { watchEvents } from "./_monitor.ts";
import { PERF_TESTS, type PerfFlags, type PerfTest, runPerf } from "./_perf.ts";
import { type ProxyFlags, runProxy } from "./_proxy.ts";
import { describe, INTERRUPTED, type RunFlags, runSocket } from "./_run.ts";
import { openSocket, SOCKET_TYPES, type SocketFlags, type SocketKind } from "./_socket.ts";
import { UsageError } from "./_usage.ts";

/** The version `--version` prints. */
export const VERSION = "0.1.0";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function number(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("Not a number.");
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("Not a whole number.");
  return n;
}

const SUMMARIES: Record<SocketKind, string> = {
  req: "send requests (arguments, --data, --file or stdin lines), print each reply",
  rep: "print requests, reply with --echo, the given messages or stdin lines",
  dealer: "send and receive at once (load-balanced sends)",
  router: "receive with the sender's routing id first; send to --target or the first frame",
  pub: "publish messages",
  sub: "print published messages matching --subscribe (everything by default)",
  xpub: "publish, and print subscriptions as they arrive",
  xsub: "print published messages; --subscribe sends subscriptions",
  push: "send messages down a pipeline",
  pull: "print messages from a pipeline",
  pair: "send and receive at once, to one peer",
  client: "(draft) send requests, print replies",
  server: "(draft) reply with --echo or given messages, or print with routing ids",
  radio: "(draft) publish to --group (or the first frame)",
  dish: "(draft) print messages of the --join groups",
  scatter: "(draft) send messages down a pipeline",
  gather: "(draft) print messages from a pipeline",
  peer: "(draft) send and receive with numeric routing ids",
  channel: "(draft) send and receive at once, to one peer",
};

function addEndpointOptions(cmd: Command): Command {
  return cmd
    .optionsGroup("Endpoints:")
    .option("-b, --bind <endpoint>", "bind (repeatable): tcp://*:5555, ipc:///tmp/x", collect)
    .option("-c, --connect <endpoint>", "connect (repeatable)", collect);
}

function addSocketOptions(cmd: Command): Command {
  return cmd
    .optionsGroup("Socket options:")
    .option("--identity <id>", "routing id (0x... for bytes)")
    .option(
      "-t, --timeout <secs>",
      "give up (exit 1) after waiting this long to send or receive",
      number,
    )
    .option("-l, --linger <secs>", "how long close waits for unsent messages (default 5)", number)
    .option("--hwm <n>", "send and receive high-water mark", count)
    .option("--sndhwm <n>", "send high-water mark", count)
    .option("--rcvhwm <n>", "receive high-water mark", count)
    .option("--reconnect-ivl <secs>", "reconnect interval: SECS or MIN..MAX (doubling), -1 never")
    .option("--connect-timeout <secs>", "TCP connect timeout", number)
    .option("--handshake-ivl <secs>", "time allowed for the ZMTP handshake", number)
    .option("--heartbeat-ivl <secs>", "send ZMTP PINGs this often", number)
    .option("--heartbeat-timeout <secs>", "drop a peer silent this long after a PING", number)
    .option("--heartbeat-ttl <secs>", "ask peers to drop us after this long", number)
    .option("--maxmsgsize <bytes>", "drop peers sending larger frames", count)
    .option("--immediate", "queue only to completed connections")
    .option("--conflate", "keep only the newest message")
    .optionsGroup("Security:")
    .option("--curve-server", "be a CURVE server (prints its public key if no secret key is given)")
    .option("--curve-serverkey <z85>", "be a CURVE client of the server with this public key")
    .option("--curve-secretkey <z85>", "our CURVE secret key (a client makes one up if absent)")
    .option("--curve-publickey <z85>", "our CURVE public key (derived from the secret key)")
    .option(
      "--curve-allow <z85>",
      "CURVE server: accept only these client keys (repeatable; any)",
      collect,
    )
    .option("--plain-server", "be a PLAIN server (needs --plain-user)")
    .option("--plain-user <user:password>", "PLAIN server: an accepted login (repeatable)", collect)
    .option("--plain-username <user>", "be a PLAIN client with this name")
    .option("--plain-password <password>", "the PLAIN client's password")
    .option("--zap-domain <domain>", "the ZAP domain of our requests");
}

function addFormatOptions(cmd: Command): Command {
  return cmd
    .optionsGroup("Format:")
    .addOption(new Option("-f, --format <format>", "message format").choices(FORMATS))
    .option("-A, --ascii", "frames tab-separated, unprintable bytes as dots (default)")
    .option("-Q, --quoted", "frames tab-separated, C escapes (lossless)")
    .option("-J, --jsonl", "a JSON array of frames per line")
    .option("--raw", "ZMTP frames, binary")
    .option("--msgpack", "MessagePack arrays, binary");
}

function format(flags: Record<string, unknown>): Format {
  const chosen = FORMATS.filter((f) => flags[f] === true);
  if (typeof flags.format === "string") chosen.push(flags.format as Format);
  if (new Set(chosen).size > 1) {
    throw new UsageError(`Choose one format, not ${chosen.join(" and ")}`);
  }
  return chosen[0] ?? "ascii";
}

/**
 * Builds the command line. Each action stores its exit status through `done`.
 *
 * @param io The terminal.
 * @param done Takes the exit status of the command that ran.
 * @returns The commander program, ready for `parseAsync(args, { from: "user" })`.
 *
 * @example
 * ```ts
 * import { buildProgram } from "./_program.ts";
 * import type { Io } from "./_io.ts";
 * const program = buildProgram({ log: () => {} } as unknown as Io, () => {});
 * console.assert(program.commands.some((c) => c.name() === "keygen"));
 * ```
 */
export function buildProgram(io: Io, done: (status: number) => void): Command {
  const program = new Command("monocoque")
    .description(
      "Poke at ZeroMQ networks from a terminal: any socket type, bind or connect, send and print " +
        "messages; watch a socket's events, run a proxy, make CURVE keys, measure throughput.",
    )
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.print(s),
      writeErr: (s) => io.log(s.replace(/\n$/, "")),
    });
  program.commandsGroup("Sockets:");
  for (const kind of SOCKET_TYPES) {
    const cmd = program.command(kind).summary(SUMMARIES[kind]).description(
      `A ${kind.toUpperCase()} socket: ${SUMMARIES[kind]}. ` +
        "Each argument is a message (frames separated by tabs); without any, stdin gives them.",
    ).argument("[messages...]", "messages to send");
    addEndpointOptions(cmd);
    addSocketOptions(cmd);
    addFormatOptions(cmd);
    cmd.optionsGroup("Messages:")
      .option("-D, --data <message>", "a message to send (repeatable)", collect)
      .option("-F, --file <path>", "send the file's content as one message (- for stdin)")
      .option("-i, --interval <secs>", "send every SECS (repeating the messages)", number)
      .option("-n, --count <n>", "stop after N messages (sent, or received)", count)
      .option("-d, --delay <secs>", "wait before the first send", number)
      .option("-s, --subscribe <prefix>", "sub/xsub: subscribe to a prefix (repeatable)", collect)
      .option("-j, --join <group>", "dish: join a group (repeatable)", collect)
      .option("-g, --group <group>", "radio: publish to this group")
      .option("--target <id>", "router/server/peer: send to this routing id")
      .option("--echo", "rep/server/router: send each message back")
      .option(
        "-e, --recv-eval <js>",
        "JS run on each received message (F frames, _ first); rep: the reply",
      )
      .option("-E, --send-eval <js>", "JS run on each message before it is sent; null skips it")
      .option("--no-wait", "send at once, not waiting for a peer (pub: a subscriber)")
      .option("-v, --verbose", "print socket events on stderr")
      .action(async (messages: string[], flags: Record<string, unknown>) => {
        const run = {
          ...flags,
          format: format(flags),
          data: [...messages, ...(flags.data as string[] | undefined ?? [])],
        } as RunFlags;
        done(await runSocket(kind, run, io));
      });
  }

  program.commandsGroup("Tools:");
  const monitor = program.command("monitor")
    .summary("print a socket's events live")
    .description(
      "Open a socket of TYPE and print its events (connections, handshakes, disconnections) " +
        "as they happen, until Ctrl-C or --timeout; messages it receives are dropped.",
    )
    .argument("<type>", "socket type, compatible with the peers to watch");
  addEndpointOptions(monitor);
  addSocketOptions(monitor);
  monitor.optionsGroup("Output:")
    .option("-J, --jsonl", "JSON lines")
    .action(async (type: string, flags: Record<string, unknown>) => {
      done(await runMonitor(socketKind(type), flags as SocketFlags & { jsonl?: boolean }, io));
    });

  const proxyCmd = program.command("proxy")
    .summary("forward messages between two sockets (zmq_proxy)")
    .description(
      "Forward between a FRONTEND and a BACKEND socket, e.g. `proxy router dealer` (a broker) " +
        "or `proxy xsub xpub` (a forwarder), until TERMINATE on --control or Ctrl-C.",
    )
    .argument("<frontend>", "frontend socket type")
    .argument("<backend>", "backend socket type")
    .optionsGroup("Endpoints:")
    .option("--frontend-bind <endpoint>", "bind the frontend (repeatable)", collect)
    .option("--frontend-connect <endpoint>", "connect the frontend (repeatable)", collect)
    .option("--backend-bind <endpoint>", "bind the backend (repeatable)", collect)
    .option("--backend-connect <endpoint>", "connect the backend (repeatable)", collect)
    .option("--capture <endpoint>", "bind a PUB socket that gets a copy of every message")
    .option("--control <endpoint>", "bind a REP socket for PAUSE, RESUME, TERMINATE, STATISTICS")
    .option("-v, --verbose", "print socket events on stderr");
  addSocketOptions(proxyCmd);
  proxyCmd.action(async (front: string, back: string, flags: Record<string, unknown>) => {
    done(await runProxy(socketKind(front), socketKind(back), flags as ProxyFlags, io));
  });

  program.command("keygen")
    .summary("make a CURVE key pair")
    .description(
      "Print a new CURVE key pair (Z85), or with --secret the public key of a secret key.",
    )
    .option("--secret <z85>", "print the public key of this secret key")
    .option("-J, --json", "print JSON")
    .action((flags: KeygenFlags) => {
      io.print(keygen(flags));
      done(0);
    });

  program.command("perf")
    .summary("throughput and latency tests, like libzmq's perf tools")
    .description(
      "libzmq's local_thr, remote_thr, local_lat and remote_lat, same arguments and output:\n" +
        "  monocoque perf local-thr tcp://*:5555 100 1000000   (and remote-thr on the other end)\n" +
        "Either end may be libzmq's own tool.",
    )
    .addArgument(new Argument("<test>", "which test").choices(PERF_TESTS))
    .argument("<endpoint>", "bind-to (local-*) or connect-to (remote-*)")
    .argument("<message-size>", "bytes per message")
    .argument("<count>", "messages (thr) or round trips (lat)")
    .option("-q, --quiet", "no live rate line on stderr")
    .action(async (test: PerfTest, endpoint: string, size: string, n: string, flags: PerfFlags) => {
      try {
        await runPerf(test, [endpoint, size, n], flags, io);
      } catch (e) {
        if (!io.signal.aborted) throw e;
      }
      done(io.signal.aborted ? INTERRUPTED : 0);
    });
  return program;
}

function socketKind(text: string): SocketKind {
  const kind = text.toLowerCase() as SocketKind;
  if (!SOCKET_TYPES.includes(kind)) {
    throw new UsageError(`Unknown socket type "${text}": use one of ${SOCKET_TYPES.join(", ")}`);
  }
  return kind;
}

async function runMonitor(
  kind: SocketKind,
  flags: SocketFlags & { jsonl?: boolean },
  io: Io,
): Promise<number> {
  const json = flags.jsonl ?? false;
  const stop = AbortSignal.any([
    io.signal,
    ...(flags.timeout === undefined ? [] : [AbortSignal.timeout(flags.timeout * 1000)]),
  ]);
  // Watch from before the first bind, so LISTENING is seen; the timeout is the watch's, not the socket's.
  let watching: Promise<void> | undefined;
  const open = await openSocket(kind, { ...flags, timeout: undefined }, io.log, (socket) => {
    watching = watchEvents(socket, (line) => io.print(line + "\n"), {
      json,
      signal: stop,
    });
  });
  try {
    if (kind === "sub") (open.socket as unknown as { subscribe(t: string): void }).subscribe("");
    // Drain what arrives so a busy peer does not stall on our high-water mark.
    void (async () => {
      for (;;) await open.socket.receive();
    })().catch(() => {});
    await watching;
    return io.signal.aborted ? INTERRUPTED : 0;
  } catch (e) {
    io.log(`monocoque monitor: ${describe(e)}`);
    return 1;
  } finally {
    await open.close();
  }
}
