/**
 * Real ZeroMQ peers for interop tests. {@linkcode Peer} runs `tests/interop/peers/zmq_peer.py`
 * (pyzmq on Debian's libzmq 4.3.4, under `/usr/bin/python3`) or `zmq_peer.mjs` (zeromq.js 6.8.0
 * under Node) as a child process and drives it over its line-based JSON protocol: one command
 * line on stdin, exactly one event line back on stdout. Commands are serialized, every wait is
 * bounded, and {@linkcode Peer.close} ends the process and releases every pipe so Deno's op and
 * resource sanitizers stay quiet.
 *
 * ```ts ignore
 * await using rep = await Peer.start({ type: "REP", bind: "tcp://127.0.0.1:0" });
 * const req = new ReqSocket();
 * req.connect(rep.endpoint);
 * ```
 *
 * @module
 */

import { type FrameLike, fromHex, toBytes, toHex } from "./bytes.ts";
import { withTimeout } from "./timeout.ts";

/** Which peer program: pyzmq (libzmq 4.3.4) or zeromq.js under Node (libzmq 4.3.5). */
export type PeerImpl = "pyzmq" | "zeromqjs";

/** ZeroMQ socket types the peers support. */
export type PeerSocketType =
  | "PAIR"
  | "PUB"
  | "SUB"
  | "REQ"
  | "REP"
  | "DEALER"
  | "ROUTER"
  | "PULL"
  | "PUSH"
  | "XPUB"
  | "XSUB"
  // zeromq.js only (its zeromq/draft), not pyzmq's libzmq 4.3.4:
  | "CLIENT"
  | "SERVER"
  | "SCATTER"
  | "GATHER"
  | "RADIO"
  | "DISH";

/** A peer option value: `true` adds a bare flag, `false`/`undefined` omit it, arrays repeat it. */
export type PeerOptionValue = string | number | boolean | undefined | readonly (string | number)[];

/** How to start a peer. */
export interface PeerStartOptions {
  /** Peer program; default `"pyzmq"`. */
  impl?: PeerImpl;
  /** Socket type. */
  type: PeerSocketType;
  /** Endpoint(s) to bind, e.g. `"tcp://127.0.0.1:0"` or `"ipc:///tmp/x.sock"`. */
  bind?: string | readonly string[];
  /** Endpoint(s) to connect. */
  connect?: string | readonly string[];
  /**
   * Socket options as the peer's command-line flags, camelCase or kebab-case:
   * `{ routingId: "a", sndhwm: 10, routerMandatory: true, heartbeatIvl: 100, monitor: true,
   * subscribe: ["topic"], sockopt: ["RCVBUF=65536"] }` becomes
   * `--routing-id a --sndhwm 10 --router-mandatory --heartbeat-ivl 100 --monitor ...`.
   */
  options?: Record<string, PeerOptionValue>;
  /** Extra raw command-line arguments. */
  args?: readonly string[];
  /** How long to wait for the peer to be ready; default 15000 ms. */
  startTimeoutMs?: number;
}

/** A command of the peer control protocol (see tests/interop/peers/README.md). */
export interface PeerCommand {
  /** The operation, e.g. `"send"`, `"recv"`, `"recv_count"`. */
  op: string;
  /** Operation arguments. */
  [key: string]: unknown;
}

/** An event line from a peer: `{ event: "msg", frames: [...] }`, `{ event: "error", code }`, .... */
export interface PeerEvent {
  /** The event's name. */
  event: string;
  /** Event fields. */
  [key: string]: unknown;
}

/** The result of a `recv_count` or `send_many` run. */
export interface PeerRun {
  /** Messages received or sent. */
  count: number;
  /** {@linkcode MessageDigest} hex of those messages. */
  digest: string;
  /** Whether the run stopped early on a timeout. */
  timedOut: boolean;
  /** Time the peer spent, in milliseconds. */
  elapsedMs: number;
}

/** A peer failed: it answered with an error event, died, or did not answer in time. */
export class PeerError extends Error {
  /** The libzmq error name from the peer (`"EAGAIN"`, `"EHOSTUNREACH"`, ...), if it sent one. */
  readonly code: string | undefined;

  /**
   * @param message What went wrong.
   * @param code The peer's error code.
   * @param options Error options (`cause`).
   */
  constructor(message: string, code?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PeerError";
    this.code = code;
  }
}

const PEERS_DIR = new URL("../interop/peers/", import.meta.url);
const PYTHON = "/usr/bin/python3";
const STDERR_KEEP = 16 * 1024;
const encoder = new TextEncoder();

function argv(o: PeerStartOptions): string[] {
  const args = ["--type", o.type];
  for (const ep of [o.bind ?? []].flat()) args.push("--bind", ep);
  for (const ep of [o.connect ?? []].flat()) args.push("--connect", ep);
  for (const [key, value] of Object.entries(o.options ?? {})) {
    const flag = "--" + key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
    if (value === undefined || value === false) continue;
    if (value === true) args.push(flag);
    // `--flag=value`: a Z85 key may begin with "-", which argparse would take for a flag.
    else for (const v of [value].flat()) args.push(`${flag}=${v}`);
  }
  return [...args, ...(o.args ?? [])];
}

/**
 * A running pyzmq or zeromq.js peer process with one socket.
 *
 * @example
 * ```ts ignore
 * await using pull = await Peer.start({ type: "PULL", bind: "tcp://127.0.0.1:0" });
 * await using push = await Peer.start({ impl: "zeromqjs", type: "PUSH", connect: pull.endpoint });
 * await push.send(["hello"]);
 * const frames = await pull.recv(5000); // [Uint8Array "hello"] or undefined on timeout
 * ```
 */
export class Peer implements AsyncDisposable {
  /** The first bound or connected endpoint (bound ones resolved, e.g. the port for `:0`). */
  readonly endpoint: string;
  /** All bound and connected endpoints, binds first. */
  readonly endpoints: readonly string[];
  /** The peer program. */
  readonly impl: PeerImpl;
  /** The socket type. */
  readonly type: PeerSocketType;
  /** The peer's libzmq version, e.g. `"4.3.4"`. */
  readonly libzmq: string;

  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #lines: string[] = [];
  #waiter: (() => void) | undefined;
  #eof = false;
  #stdoutDone: Promise<void>;
  #stderr = "";
  #stderrDone: Promise<void>;
  #queue: Promise<unknown> = Promise.resolve();
  #broken: string | undefined;
  #closing: Promise<void> | undefined;

  private constructor(child: Deno.ChildProcess, o: PeerStartOptions) {
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#stdoutDone = this.#readStdout();
    this.#stderrDone = this.#readStderr();
    this.impl = o.impl ?? "pyzmq";
    this.type = o.type;
    this.endpoint = "";
    this.endpoints = [];
    this.libzmq = "";
  }

  /**
   * Starts a peer and waits until its socket is bound/connected.
   *
   * @param options What to start.
   * @returns The ready peer.
   */
  static async start(options: PeerStartOptions): Promise<Peer> {
    const impl = options.impl ?? "pyzmq";
    if (!options.bind && !options.connect) throw new TypeError("Peer needs bind or connect");
    const script = decodeURIComponent(
      new URL(impl === "pyzmq" ? "zmq_peer.py" : "zmq_peer.mjs", PEERS_DIR).pathname,
    );
    const command = new Deno.Command(impl === "pyzmq" ? PYTHON : "node", {
      args: [script, ...argv(options)],
      cwd: decodeURIComponent(PEERS_DIR.pathname),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
    let child: Deno.ChildProcess;
    try {
      child = command.spawn();
    } catch (err) {
      throw new PeerError(`Cannot start the ${impl} peer (run tools/setup.sh)`, undefined, {
        cause: err,
      });
    }
    const peer = new Peer(child, options);
    let ready: PeerEvent;
    try {
      ready = await withTimeout(
        peer.#next(),
        options.startTimeoutMs ?? 15_000,
        `${impl} ${options.type} peer start`,
      );
    } catch (err) {
      await peer.close();
      throw peer.#error(`The ${impl} ${options.type} peer did not start`, undefined, err);
    }
    if (ready.event !== "ready") {
      await peer.close();
      throw peer.#error(
        `The ${impl} ${options.type} peer did not start: ${ready.message ?? JSON.stringify(ready)}`,
        ready.code as string | undefined,
      );
    }
    const self = peer as { -readonly [K in "endpoint" | "endpoints" | "libzmq"]: Peer[K] };
    self.endpoint = (ready.endpoint as string | null) ?? "";
    self.endpoints = ready.endpoints as string[];
    self.libzmq = ready.libzmq as string;
    return peer;
  }

  /** What the peer wrote to stderr so far (the last 16 KiB). */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Sends one raw command and returns the peer's answer, error events included (they do not
   * throw here). Commands are serialized.
   *
   * @param command The command.
   * @param options `timeoutMs`: how long to wait for the answer; default the command's own
   *   `timeout` plus 10 s.
   * @returns The peer's event.
   */
  request(command: PeerCommand, options: { timeoutMs?: number } = {}): Promise<PeerEvent> {
    const timeoutMs = options.timeoutMs ??
      (typeof command.timeout === "number" ? command.timeout : 5000) + 10_000;
    const result = this.#queue.then(() => this.#roundTrip(command, timeoutMs));
    this.#queue = result.catch(() => {});
    return result;
  }

  /**
   * Sends one message.
   *
   * @param frames The message's frames (strings as UTF-8).
   * @param options `timeout`: the peer's send timeout in ms (its default is 5000);
   *   `routingId`: the peer to send to, for a SERVER peer (zeromq.js);
   *   `group`: the group to publish to, for a RADIO peer (zeromq.js).
   */
  async send(
    frames: readonly FrameLike[],
    options: { timeout?: number; routingId?: number; group?: FrameLike } = {},
  ): Promise<void> {
    const { routingId, group, ...rest } = options;
    await this.#ok(
      {
        op: "send",
        frames: frames.map((f) => toHex(toBytes(f))),
        ...rest,
        ...(routingId === undefined ? {} : { routing_id: routingId }),
        ...(group === undefined ? {} : { group: toHex(toBytes(group)) }),
      },
      "sent",
    );
  }

  /**
   * Receives one message.
   *
   * @param timeoutMs How long the peer waits; default 5000.
   * @returns The frames, or `undefined` on timeout; a SERVER peer's carry the
   *   sender's `routingId`, a DISH peer's the `group`.
   */
  async recv(
    timeoutMs = 5000,
  ): Promise<(Uint8Array[] & { routingId?: number; group?: Uint8Array }) | undefined> {
    const ev = await this.#ok({ op: "recv", timeout: timeoutMs }, "msg", "timeout");
    if (ev.event !== "msg") return undefined;
    const frames: Uint8Array[] & { routingId?: number; group?: Uint8Array } =
      (ev.frames as string[]).map(fromHex);
    if (typeof ev.routing_id === "number") frames.routingId = ev.routing_id;
    if (typeof ev.group === "string") frames.group = fromHex(ev.group);
    return frames;
  }

  /**
   * Subscribes a SUB or XSUB peer to a topic prefix.
   *
   * @param topic The prefix (strings as UTF-8).
   */
  async subscribe(topic: FrameLike): Promise<void> {
    await this.#ok({ op: "subscribe", topic: toHex(toBytes(topic)) }, "ok");
  }

  /**
   * Unsubscribes a SUB or XSUB peer from a topic prefix.
   *
   * @param topic The prefix (strings as UTF-8).
   */
  async unsubscribe(topic: FrameLike): Promise<void> {
    await this.#ok({ op: "unsubscribe", topic: toHex(toBytes(topic)) }, "ok");
  }

  /**
   * Receives up to `count` messages and sends each straight back (REP replies; ROUTER returns
   * it to its sender).
   *
   * @param count How many messages.
   * @param timeoutMs The longest wait for each message; default 5000.
   * @returns How many were echoed.
   */
  async echo(count: number, timeoutMs = 5000): Promise<number> {
    const ev = await this.#ok({ op: "echo", count, timeout: timeoutMs }, "echoed");
    return ev.count as number;
  }

  /**
   * Receives up to `count` messages and digests them (see {@linkcode MessageDigest}).
   *
   * @param count How many messages.
   * @param options `timeout`: the longest wait for the next message (default 5000 ms);
   *   `skip`: leading frames to leave out of the digest (a ROUTER's routing id).
   * @returns Count, digest, whether it timed out, and the time taken.
   */
  async recvCount(
    count: number,
    options: { timeout?: number; skip?: number } = {},
  ): Promise<PeerRun> {
    const timeout = options.timeout ?? 5000;
    const ev = await this.#ok(
      { op: "recv_count", count, ...options, timeout },
      "counted",
      undefined,
      {
        // The peer's timeout bounds each message, not the run; allow for a slow but moving run.
        timeoutMs: 120_000 + timeout,
      },
    );
    return run(ev);
  }

  /**
   * Sends `count` messages of the {@linkcode sequenceMessage} pattern.
   *
   * @param count How many messages.
   * @param options `size` of each (default 0: prefix and counter only), `prefix`, `envelope`
   *   frames sent before each message (a ROUTER's routing id), `timeout` per send.
   * @returns Count, digest, and the time taken.
   */
  async sendMany(
    count: number,
    options: {
      size?: number;
      prefix?: Uint8Array;
      envelope?: readonly FrameLike[];
      timeout?: number;
    } = {},
  ): Promise<PeerRun> {
    const ev = await this.#ok(
      {
        op: "send_many",
        count,
        size: options.size ?? 0,
        prefix: toHex(options.prefix ?? new Uint8Array()),
        envelope: (options.envelope ?? []).map((f) => toHex(toBytes(f))),
        ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      },
      "sent_many",
      undefined,
      { timeoutMs: 120_000 + (options.timeout ?? 5000) },
    );
    return run(ev);
  }

  /**
   * Waits for a socket monitor event; the peer must have been started with `monitor: true`.
   *
   * @param name The libzmq event name without `ZMQ_EVENT_`, e.g. `"HANDSHAKE_SUCCEEDED"`.
   * @param timeoutMs How long to wait; default 5000.
   * @returns The event (`{ event, endpoint, value? }`), or `undefined` on timeout.
   */
  async waitEvent(name: string, timeoutMs = 5000): Promise<PeerEvent | undefined> {
    const ev = await this.#ok(
      { op: "wait_event", name, timeout: timeoutMs },
      "observed",
      "timeout",
    );
    return ev.event === "observed" ? ev.observed as PeerEvent : undefined;
  }

  /**
   * Closes the peer's socket and ends the process (killed if it does not exit within 5 s), then
   * releases its pipes. Idempotent.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  /** Same as {@linkcode Peer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    const status = this.#child.status;
    if (!this.#eof && !this.#broken) {
      try {
        await this.#queue;
        await this.#write({ op: "close" });
        // Wait for {"event":"closed"} (or end of output) so the socket is really gone.
        for (;;) {
          const ev = await withTimeout(this.#next(), 5000, "peer close");
          if (ev.event === "closed") break;
        }
      } catch { /* it is going to be stopped below either way */ }
    }
    try {
      await this.#stdin.close();
    } catch { /* the process is already gone */ }
    try {
      await withTimeout(status, 5000, "peer exit");
    } catch {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
      await status;
    }
    await this.#stdoutDone;
    await this.#stderrDone;
  }

  async #ok(
    command: PeerCommand,
    expected: string,
    alsoExpected?: string,
    options?: { timeoutMs?: number },
  ): Promise<PeerEvent> {
    const ev = await this.request(command, options);
    if (ev.event === expected || ev.event === alsoExpected) return ev;
    throw this.#error(
      `${this.impl} ${this.type} peer: ${command.op} failed: ${ev.code ?? ev.event}: ${
        ev.message ?? ""
      }`,
      ev.code as string | undefined,
    );
  }

  async #roundTrip(command: PeerCommand, timeoutMs: number): Promise<PeerEvent> {
    if (this.#broken) {
      throw this.#error(`${this.impl} ${this.type} peer is unusable: ${this.#broken}`);
    }
    if (this.#closing) throw this.#error(`${this.impl} ${this.type} peer is closed`);
    try {
      await this.#write(command);
      return await withTimeout(
        this.#next(),
        timeoutMs,
        `${this.impl} ${this.type} peer ${command.op}`,
      );
    } catch (err) {
      // A late answer would be taken for the next command's: no more commands on this peer.
      this.#broken = String((err as Error)?.message ?? err);
      throw this.#error(`${this.impl} ${this.type} peer: ${command.op} failed`, undefined, err);
    }
  }

  async #write(command: PeerCommand): Promise<void> {
    await this.#stdin.write(encoder.encode(JSON.stringify(command) + "\n"));
  }

  async #next(): Promise<PeerEvent> {
    while (this.#lines.length === 0) {
      if (this.#eof) throw new PeerError("The peer exited");
      await new Promise<void>((resolve) => this.#waiter = resolve);
    }
    const line = this.#lines.shift()!;
    try {
      return JSON.parse(line) as PeerEvent;
    } catch {
      throw new PeerError(`The peer wrote a line that is not JSON: ${line}`);
    }
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  async #readStdout(): Promise<void> {
    let buffered = "";
    try {
      for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        let nl;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) this.#lines.push(line);
        }
        this.#wake();
      }
    } catch { /* the pipe broke: treated as end of output */ }
    this.#eof = true;
    this.#wake();
  }

  async #readStderr(): Promise<void> {
    try {
      for await (const chunk of this.#child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-STDERR_KEEP);
      }
    } catch { /* the pipe broke */ }
  }

  #error(message: string, code?: string, cause?: unknown): PeerError {
    const err = this.#stderr.trim();
    return new PeerError(err ? `${message}\n--- peer stderr ---\n${err}` : message, code, {
      cause,
    });
  }
}

function run(ev: PeerEvent): PeerRun {
  return {
    count: ev.count as number,
    digest: ev.digest as string,
    timedOut: ev.timed_out === true,
    elapsedMs: ev.elapsed_ms as number,
  };
}
