/**
 * REP (RFC 28, ZMQ_REP): fair-queues requests; `receive()` hands over the
 * body and keeps the envelope (every frame up to and including the empty
 * delimiter), and the next `send()` goes back to that peer with that
 * envelope. Out-of-turn calls fail with `EFSM`. A request without a
 * delimiter is dropped; a reply to a peer that left, or that is at its
 * high-water mark, is dropped, as libzmq does.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { coreOf } from "./_core.ts";
import type { Message } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { BasePattern } from "./_pattern.ts";
import type { SocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

/** Index of the first empty frame (the envelope's delimiter), or -1. */
function delimiter(frames: Message): number {
  for (let i = 0; i < frames.length; i++) if (frames[i].length === 0) return i;
  return -1;
}

class RepPattern extends BasePattern {
  #state: "idle" | "receiving" | "replying" = "idle";
  #replyTo: Pipe | undefined;
  /** The request being answered: its frames up to `#envelopeEnd` are the reply's envelope. */
  #request: Message | undefined;
  #envelopeEnd = 0;

  override message(pipe: Pipe, frames: Message): void {
    const d = delimiter(frames);
    if (d < 0 || d === frames.length - 1) return; // no delimiter, or no body
    pipe.inbox!.push(frames);
  }

  override prepareReceive(): void {
    if (this.#state !== "idle") {
      throw new ZmqError("EFSM", "A REP socket must send the reply before receiving again");
    }
    this.#state = "receiving";
  }

  override receiveAbandoned(): void {
    this.#state = "idle";
  }

  override tryReceive(): Message | undefined {
    const frames = this.core.inbox.shift();
    if (frames === undefined) return undefined;
    const end = delimiter(frames) + 1;
    // The request is kept whole (not split into envelope and body arrays): the
    // reply copies its envelope frames from it, one array per round trip less.
    this.#request = frames;
    this.#envelopeEnd = end;
    this.#replyTo = this.core.inbox.lastKey;
    this.#state = "replying";
    return end === frames.length - 1 ? [frames[end]] : frames.slice(end);
  }

  override prepareSend(frames: Message): Message {
    this.core.dropReturned(); // a given-back request is answered by this reply
    if (this.#state !== "replying") {
      throw new ZmqError("EFSM", "A REP socket must receive a request before replying");
    }
    this.#state = "idle";
    const request = this.#request!;
    const end = this.#envelopeEnd;
    this.#request = undefined;
    const n = frames.length;
    const out = new Array<Uint8Array>(end + n);
    for (let i = 0; i < end; i++) out[i] = request[i];
    for (let i = 0; i < n; i++) out[end + i] = frames[i];
    return out;
  }

  override trySend(frames: Message): boolean {
    const pipe = this.#replyTo;
    this.#replyTo = undefined;
    if (pipe !== undefined && pipe.attached && pipe.hasRoom()) pipe.enqueue(frames);
    return true;
  }
}

/**
 * A REP socket: the service side of strict request/reply.
 *
 * @example An echo service
 * ```ts
 * import { RepSocket, ReqSocket } from "@monocoque/zmtp";
 *
 * await using rep = new RepSocket();
 * await rep.bind("inproc://rep-doc");
 * (async () => {
 *   for await (const request of rep) await rep.send(request);
 * })();
 * await using req = new ReqSocket();
 * req.connect("inproc://rep-doc");
 * await req.send("echo me");
 * const [echo] = await req.receive();
 * console.assert(new TextDecoder().decode(echo) === "echo me");
 * ```
 */
export class RepSocket extends Socket {
  /**
   * Creates a REP socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("REP", options);
    const core = coreOf(this);
    core.pattern = new RepPattern(core);
  }
}
