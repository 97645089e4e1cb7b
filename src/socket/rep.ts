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

class RepPattern extends BasePattern {
  #state: "idle" | "receiving" | "replying" = "idle";
  #replyTo: Pipe | undefined;
  #envelope: Message = [];

  override message(pipe: Pipe, frames: Message): void {
    const d = frames.findIndex((f) => f.length === 0);
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
    const d = frames.findIndex((f) => f.length === 0);
    this.#envelope = frames.slice(0, d + 1);
    this.#replyTo = this.core.inbox.lastKey;
    this.#state = "replying";
    return frames.slice(d + 1);
  }

  override prepareSend(frames: Message): Message {
    this.core.dropReturned(); // a given-back request is answered by this reply
    if (this.#state !== "replying") {
      throw new ZmqError("EFSM", "A REP socket must receive a request before replying");
    }
    this.#state = "idle";
    const out = [...this.#envelope, ...frames];
    this.#envelope = [];
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
