/**
 * REQ (RFC 28, ZMQ_REQ): strict request/reply alternation. Each request gets
 * an empty delimiter frame in front and goes to the next peer in turn; only
 * a reply from that peer is accepted, anything else is dropped. With
 * `relaxed` a new request may be sent before the reply (the old reply is then
 * discarded); with `correlate` each request carries an id the reply must echo.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { coreOf } from "./_core.ts";
import type { SocketCore } from "./_core.ts";
import type { Message } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { BasePattern } from "./_pattern.ts";
import type { ReqSocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

const EMPTY = new Uint8Array(0);

/** The load balancer's filter: one function, not a closure per send. */
const hasRoom = (p: Pipe) => p.hasRoom();

/**
 * The request on the wire: `[id?, delimiter, ...frames]`, built as one array
 * of its final length (a spread builds it through the iterator protocol and
 * may grow it): a REQ round trip's allocations are its tail latency.
 */
function withEnvelope(id: Uint8Array | undefined, frames: Message): Message {
  const n = frames.length;
  if (n === 1) return id === undefined ? [EMPTY, frames[0]] : [id, EMPTY, frames[0]];
  const head = id === undefined ? 1 : 2;
  const out = new Array<Uint8Array>(head + n);
  if (id !== undefined) out[0] = id;
  out[head - 1] = EMPTY;
  for (let i = 0; i < n; i++) out[head + i] = frames[i];
  return out;
}

class ReqPattern extends BasePattern {
  readonly #relaxed: boolean;
  readonly #correlate: boolean;
  /** A request was sent and its reply not yet received. */
  #waiting = false;
  #receiving = false;
  /** The peer the outstanding request went to. */
  #target: Pipe | undefined;
  #requestId = (Math.random() * 0x1_0000_0000) >>> 0;
  #reply: Message | undefined;
  /** The peer the reply came from. */
  #replyFrom: Pipe | undefined;

  constructor(core: SocketCore, options: ReqSocketOptions) {
    super(core);
    this.#relaxed = options.relaxed === true;
    this.#correlate = options.correlate === true;
  }

  override prepareSend(frames: Message): Message {
    this.core.dropReturned(); // a given-back reply is superseded by the next request
    if (this.#waiting && !this.#relaxed) {
      throw new ZmqError("EFSM", "A REQ socket must receive the reply before sending again");
    }
    this.#waiting = true;
    this.#target = undefined;
    this.#reply = undefined;
    if (!this.#correlate) return withEnvelope(undefined, frames);
    this.#requestId = (this.#requestId + 1) >>> 0;
    const id = new Uint8Array(4);
    const n = this.#requestId;
    id[0] = n >>> 24;
    id[1] = (n >>> 16) & 0xff;
    id[2] = (n >>> 8) & 0xff;
    id[3] = n & 0xff;
    return withEnvelope(id, frames);
  }

  override trySend(frames: Message): boolean {
    const pipe = this.peers.next(hasRoom);
    if (pipe === undefined) return false;
    this.#target = pipe;
    pipe.enqueue(frames);
    return true;
  }

  override sendAbandoned(): void {
    this.#waiting = false;
  }

  override message(pipe: Pipe, frames: Message): void {
    if (!this.#waiting || pipe !== this.#target || this.#reply !== undefined) return;
    let i = 0;
    if (this.#correlate) {
      const id = frames[0];
      if (
        id === undefined || id.length !== 4 ||
        ((id[0] << 24) | (id[1] << 16) | (id[2] << 8) | id[3]) >>> 0 !== this.#requestId
      ) return;
      i = 1;
    }
    if (frames.length <= i + 1 || frames[i].length !== 0) return;
    this.#reply = frames.slice(i + 1);
    this.#replyFrom = pipe;
    this.core.wakeReceivers();
  }

  override prepareReceive(): void {
    if (!this.#waiting) {
      throw new ZmqError("EFSM", "A REQ socket must send a request before receiving");
    }
    if (this.#receiving) {
      throw new ZmqError("EFSM", "A REQ socket is already receiving the reply");
    }
    this.#receiving = true;
  }

  override receiveAbandoned(): void {
    this.#receiving = false;
  }

  override tryReceive(): Message | undefined {
    const reply = this.#reply;
    if (reply === undefined) return undefined;
    this.#reply = undefined;
    this.#waiting = false;
    this.#receiving = false;
    this.#target = undefined;
    return reply;
  }

  lastSource(): Pipe | undefined {
    return this.#replyFrom;
  }
}

/**
 * A REQ socket: the client side of strict request/reply.
 *
 * @example One round trip
 * ```ts
 * import { RepSocket, ReqSocket } from "@monocoque/zmtp";
 *
 * await using rep = new RepSocket();
 * await rep.bind("tcp://127.0.0.1:0");
 * await using req = new ReqSocket({ receiveTimeout: 5000 });
 * req.connect(rep.lastEndpoint!);
 * await req.send("hello");
 * const [request] = await rep.receive();
 * await rep.send([request, " world"]);
 * const reply = await req.receive();
 * console.assert(new TextDecoder().decode(reply[1]) === " world");
 * ```
 */
export class ReqSocket extends Socket {
  /**
   * Creates a REQ socket.
   *
   * @param options Socket options, plus `correlate` and `relaxed`.
   */
  constructor(options?: ReqSocketOptions) {
    super("REQ", options);
    const core = coreOf(this);
    core.pattern = new ReqPattern(core, options ?? {});
  }
}
