/**
 * The socket commands (`monocoque push`, `monocoque rep`, ...): what each
 * socket type does with the terminal.
 *
 * - send-only (push, pub, scatter, radio): send the outgoing messages, then
 *   close (waiting up to `--linger` for them to leave).
 * - receive-only (pull, sub, gather, dish): print what arrives.
 * - requesters (req, client): send each outgoing message, print its reply.
 * - repliers (rep; server with `--echo` or given replies): print each
 *   request, answer it with itself (`--echo`), the given replies in turn, or
 *   the next stdin record.
 * - the rest (pair, dealer, channel, router, server, peer, xpub, xsub): send
 *   and print at once. ROUTER prints the sender's routing id as the first
 *   frame and takes the destination as the first frame of what it sends
 *   (or `--target`); SERVER and PEER do the same with their numeric routing
 *   ids, DISH prints the group, RADIO takes `--group` or the first frame.
 *
 * The first send waits for a peer to complete its handshake (PUB and XPUB: for
 * a subscription), since a message queued for a connection still being made
 * would be dropped at close; `--no-wait` sends at once.
 *
 * `--count` ends a command after that many messages sent (send-only,
 * requesters) or received (the others); `--timeout` makes a wait that long an
 * error (exit status 1).
 *
 * @module
 */

import {
  type DishSocket,
  type Message,
  type PeerSocket,
  type PubSocket,
  type RadioSocket,
  type ServerSocket,
  type Socket,
  type SubSocket,
  type XSubSocket,
  ZmqError,
} from "../mod.ts";
import { encodeMessage, parseId } from "./_format.ts";
import type { Io } from "./_io.ts";
import { firstPeer, watchEvents } from "./_monitor.ts";
import { type OpenSocket, openSocket, type SocketFlags, type SocketKind } from "./_socket.ts";
import { type Frames, hasFixedMessages, outgoing, type SourceFlags } from "./_source.ts";
import { UsageError } from "./_usage.ts";
import { compileEval, type Transform } from "./_eval.ts";

/** Every flag of a socket command. */
export interface RunFlags extends SocketFlags, SourceFlags {
  /** SUB/XSUB: topic prefixes; none means everything. */
  subscribe?: string[];
  /** DISH: groups to join. */
  join?: string[];
  /** RADIO: the group to publish to. */
  group?: string;
  /** ROUTER/SERVER/PEER: where to send (a routing id). */
  target?: string;
  /** REP/SERVER/ROUTER: send every message back to its sender. */
  echo?: boolean;
  /** Print socket events on stderr. */
  verbose?: boolean;
  /** `--no-wait` makes it false: send at once, without waiting for a peer. */
  wait?: boolean;
  /** `-e`: an expression applied to each received message (REP: it makes the reply). */
  recvEval?: string;
  /** `-E`: an expression applied to each message before it is sent. */
  sendEval?: string;
}

/** Exit status when Ctrl-C stopped a command, as shells report a SIGINT death. */
export const INTERRUPTED = 130;

const SEND_ONLY = new Set<SocketKind>(["push", "pub", "scatter", "radio"]);
const RECEIVE_ONLY = new Set<SocketKind>(["pull", "sub", "gather", "dish"]);
const encoder = new TextEncoder();

/** Why a command stopped early: the reader of stdout went away. */
class Stop extends Error {}

/**
 * Runs a socket command until it is done, fails or is interrupted.
 *
 * @param kind The socket type.
 * @param flags The parsed flags (positional messages already in `data`).
 * @param io The terminal.
 * @returns The exit status: 0 done, 1 failed (said on stderr), 130 interrupted.
 * @throws {UsageError} For flags that do not fit the socket type.
 *
 * @example
 * ```ts ignore
 * import { runSocket } from "./_run.ts";
 * import { denoIo } from "./_io.ts";
 * const status = await runSocket("push", { connect: ["tcp://127.0.0.1:5555"], data: ["hi"], format: "ascii" }, denoIo(new AbortController().signal));
 * ```
 */
export async function runSocket(kind: SocketKind, flags: RunFlags, io: Io): Promise<number> {
  check(kind, flags);
  let watching: Promise<void> | undefined;
  let peer: Promise<void> = Promise.resolve();
  const open = await openSocket(kind, flags, io.log, (socket) => {
    if (flags.verbose) {
      watching = watchEvents(socket, io.log, { json: flags.format === "jsonl" }).catch(() => {});
    }
    if (flags.wait !== false) peer = firstPeer(socket, io.signal).catch(() => {});
  });
  try {
    await new Runner(kind, flags, io, open, peer).run();
    return io.signal.aborted ? INTERRUPTED : 0;
  } catch (e) {
    if (e instanceof Stop) return 0;
    if (io.signal.aborted) return INTERRUPTED;
    if (e instanceof UsageError) throw e;
    io.log(`monocoque ${kind}: ${describe(e)}`);
    return 1;
  } finally {
    await open.close();
    await watching;
  }
}

/**
 * An error as one line for stderr: a timeout says so plainly.
 *
 * @param e The error.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { describe } from "./_run.ts";
 * console.assert(describe(new Error("boom")) === "boom");
 * ```
 */
export function describe(e: unknown): string {
  if (e instanceof ZmqError) return `${e.message} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}

function check(kind: SocketKind, flags: RunFlags): void {
  const only = (flag: string, value: unknown, kinds: SocketKind[]) => {
    if (value !== undefined && value !== false && !kinds.includes(kind)) {
      throw new UsageError(`${flag} is for ${kinds.join("/")} sockets, not ${kind}`);
    }
  };
  only("--subscribe", flags.subscribe, ["sub", "xsub"]);
  only("--join", flags.join, ["dish"]);
  only("--group", flags.group, ["radio"]);
  only("--target", flags.target, ["router", "server", "peer"]);
  only("--echo", flags.echo, ["rep", "server", "router"]);
  if (SEND_ONLY.has(kind) && flags.recvEval !== undefined) {
    throw new UsageError(`A ${kind} socket receives nothing: drop --recv-eval`);
  }
  if (RECEIVE_ONLY.has(kind) && flags.sendEval !== undefined) {
    throw new UsageError(`A ${kind} socket sends nothing: drop --send-eval`);
  }
  if (RECEIVE_ONLY.has(kind) && (hasFixedMessages(flags) || flags.interval !== undefined)) {
    throw new UsageError(`A ${kind} socket cannot send: drop the messages and --interval`);
  }
  if (flags.echo && hasFixedMessages(flags)) {
    throw new UsageError("--echo replies with the request: drop the messages");
  }
  if (kind === "dish" && (flags.join ?? []).length === 0) {
    throw new UsageError("A dish socket needs at least one --join GROUP");
  }
  if (flags.target !== undefined && (kind === "server" || kind === "peer")) {
    routingIdOf(flags.target);
  }
}

function routingIdOf(text: string): number {
  const id = Number(text);
  if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) {
    throw new UsageError(
      `A SERVER/PEER routing id is a number from 1 to 4294967295, not "${text}"`,
    );
  }
  return id;
}

class Runner {
  #kind: SocketKind;
  #flags: RunFlags;
  #io: Io;
  #socket: Socket;
  #peers: number[];
  #limit: number;
  #peer: Promise<void> | undefined;
  #recvEval: Transform | undefined;
  #sendEval: Transform | undefined;

  constructor(kind: SocketKind, flags: RunFlags, io: Io, open: OpenSocket, peer: Promise<void>) {
    this.#peer = peer;
    this.#recvEval = flags.recvEval === undefined ? undefined : compileEval(flags.recvEval, "-e");
    this.#sendEval = flags.sendEval === undefined ? undefined : compileEval(flags.sendEval, "-E");
    if (this.#sendEval !== undefined && !hasFixedMessages(flags)) {
      // -E with --interval or --count and nothing to send makes the messages itself.
      const generate = flags.interval !== undefined || (flags.count ?? 0) > 0;
      if (generate) flags = { ...flags, data: [""] };
    }
    this.#kind = kind;
    this.#flags = flags;
    this.#io = io;
    this.#socket = open.socket;
    this.#peers = open.peers;
    this.#limit = flags.count !== undefined && flags.count > 0 ? flags.count : Infinity;
  }

  async run(): Promise<void> {
    const kind = this.#kind;
    await this.#subscribe();
    if (SEND_ONLY.has(kind)) return await this.#sendAll();
    if (RECEIVE_ONLY.has(kind)) return await this.#receiveAll();
    if (kind === "req" || kind === "client") return await this.#request();
    const replies = this.#flags.echo || hasFixedMessages(this.#flags);
    if (kind === "rep" || (kind === "server" && replies)) return await this.#reply();
    if (kind === "router" && this.#flags.echo) return await this.#reply();
    // Both ways at once: the command ends with the receiving side.
    const sending = this.#sendAll().catch((e) => {
      if (!this.#io.signal.aborted && !(e instanceof ZmqError && e.code === "ETERM")) {
        this.#io.log(`monocoque ${kind}: ${describe(e)}`);
      }
    });
    await this.#receiveAll();
    void sending;
  }

  async #subscribe(): Promise<void> {
    const topics = (this.#flags.subscribe ?? [""]).map(parseId);
    if (this.#kind === "sub") (this.#socket as SubSocket).subscribe(...topics);
    if (this.#kind === "xsub" && this.#flags.subscribe !== undefined) {
      // XSUB subscribes by sending \x01 + topic (rfc.zeromq.org spec 29, PUB-SUB).
      for (const t of topics) await (this.#socket as XSubSocket).send([concat([1], t)]);
    }
    if (this.#kind === "dish") (this.#socket as DishSocket).join(...this.#flags.join!.map(parseId));
  }

  async #receive(): Promise<Message> {
    try {
      return await this.#socket.receive({ signal: this.#io.signal });
    } catch (e) {
      if (e instanceof ZmqError && e.code === "EAGAIN" && this.#flags.timeout !== undefined) {
        throw new Error(`No message within ${this.#flags.timeout} s`, { cause: e });
      }
      throw e;
    }
  }

  async #send(frames: Frames): Promise<void> {
    const socket = this.#socket;
    const signal = this.#io.signal;
    switch (this.#kind) {
      case "router":
        if (this.#flags.target !== undefined) frames = [parseId(this.#flags.target), ...frames];
        else frames = [idFrame(frames[0]), ...frames.slice(1)];
        break;
      case "server":
      case "peer": {
        let id: number;
        if (this.#flags.target !== undefined) id = routingIdOf(this.#flags.target);
        else if (this.#kind === "peer" && this.#peers.length === 1 && frames.length === 1) {
          id = this.#peers[0];
        } else {
          id = routingIdOf(new TextDecoder().decode(frames[0]));
          frames = frames.slice(1);
        }
        return await (socket as ServerSocket | PeerSocket).send(frames, { routingId: id, signal });
      }
      case "radio": {
        let group: Uint8Array;
        if (this.#flags.group !== undefined) group = parseId(this.#flags.group);
        else [group, ...frames] = frames;
        return await (socket as RadioSocket).send(frames, { group, signal });
      }
    }
    try {
      await socket.send(frames, { signal });
    } catch (e) {
      if (e instanceof ZmqError && e.code === "EAGAIN" && this.#flags.timeout !== undefined) {
        throw new Error(`Could not send within ${this.#flags.timeout} s`, { cause: e });
      }
      throw e;
    }
  }

  async #print(message: Message): Promise<void> {
    let frames: Uint8Array[] = message;
    const routed = message as Message & { routingId?: number; group?: Uint8Array };
    if (routed.routingId !== undefined) {
      frames = [encoder.encode(String(routed.routingId)), ...frames];
    }
    if (routed.group !== undefined) frames = [routed.group, ...frames];
    if (!await this.#io.write(encodeMessage(frames, this.#flags.format))) throw new Stop();
  }

  /** Waits once, before the first send, for a peer (PUB/XPUB: a subscriber), bounded by --timeout. */
  async #ready(): Promise<void> {
    const peer = this.#peer;
    if (peer === undefined) return;
    this.#peer = undefined;
    const timeout = this.#flags.timeout;
    const signal = timeout === undefined
      ? this.#io.signal
      : AbortSignal.any([this.#io.signal, AbortSignal.timeout(timeout * 1000)]);
    if (this.#flags.wait !== false && (this.#kind === "pub" || this.#kind === "xpub")) {
      try {
        await (this.#socket as PubSocket).waitForSubscribers(1, { signal });
      } catch (e) {
        if (this.#io.signal.aborted) return;
        throw new Error(`No subscriber within ${timeout} s`, { cause: e });
      }
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((_, reject) => {
      if (timeout !== undefined) {
        timer = setTimeout(() => reject(new Error(`No peer within ${timeout} s`)), timeout * 1000);
      }
    });
    try {
      await Promise.race([peer, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #sendAll(): Promise<void> {
    for await (const message of this.#outgoing()) {
      await this.#ready();
      await this.#send(message);
    }
  }

  /** The outgoing messages after `-E`. */
  async *#outgoing(): AsyncGenerator<Frames> {
    for await (const message of outgoing(this.#flags, this.#io)) {
      const out = this.#sendEval === undefined ? message : this.#sendEval(message);
      if (out !== undefined) yield out;
    }
  }

  /** Prints a received message after `-e` (which may drop it). */
  async #show(message: Message): Promise<void> {
    if (this.#recvEval === undefined) return await this.#print(message);
    const out = this.#recvEval(message);
    if (out === undefined) return;
    const routed = message as Message & { routingId?: number; group?: Uint8Array };
    await this.#print(Object.assign(out, { routingId: routed.routingId, group: routed.group }));
  }

  async #receiveAll(): Promise<void> {
    for (let n = 0; n < this.#limit && !this.#io.signal.aborted; n++) {
      await this.#show(await this.#receive());
    }
  }

  async #request(): Promise<void> {
    for await (const message of this.#outgoing()) {
      await this.#ready();
      await this.#send(message);
      await this.#show(await this.#receive());
    }
  }

  async #reply(): Promise<void> {
    const computed = !this.#flags.echo && !hasFixedMessages(this.#flags) &&
      this.#recvEval !== undefined;
    const replies = this.#flags.echo || computed ? undefined : outgoing(
      { ...this.#flags, count: undefined, delay: undefined, interval: undefined },
      this.#io,
    );
    const fixed: Frames[] = [];
    const cycle = hasFixedMessages(this.#flags);
    for (let n = 0; n < this.#limit && !this.#io.signal.aborted; n++) {
      const request = await this.#receive();
      await this.#print(request);
      let reply: Frames;
      // A REP must answer every request: a skipped one gets an empty reply.
      if (computed) reply = this.#recvEval!(request) ?? [new Uint8Array(0)];
      else if (replies === undefined) reply = request;
      else {
        const next = await replies.next();
        if (!next.done) fixed.push(next.value);
        else if (!cycle || fixed.length === 0) return;
        reply = next.done ? fixed[n % fixed.length] : next.value;
      }
      const routed = request as Message & { routingId?: number };
      if (this.#kind === "server") {
        await (this.#socket as ServerSocket).send(reply, {
          routingId: routed.routingId,
          signal: this.#io.signal,
        });
      } else if (this.#kind === "router") await this.#socket.send(reply);
      else await this.#send(reply);
    }
  }
}

function concat(head: number[], tail: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** A typed routing id: `0x` and hex becomes bytes, anything else stays as it is. */
function idFrame(frame: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const text = new TextDecoder().decode(frame);
  return /^0x([0-9a-fA-F]{2})+$/.test(text) ? parseId(text) : frame;
}
