/**
 * ROUTER (RFC 28, ZMQ_ROUTER): every incoming message is prefixed with the
 * routing id of the peer it came from, and every outgoing message is routed
 * by its first frame. A peer's routing id is the one given with
 * `connect(endpoint, { routingId })`, else the Identity it announced, else a
 * generated 5-byte id (a zero byte and a counter, as libzmq makes them).
 * Unroutable messages are dropped, or fail with `EHOSTUNREACH` when
 * `mandatory` is set.
 *
 * A peer whose routing id is already in use is refused, or with `handover`
 * takes the id from the old connection. Either way the losing connection is
 * kept open but unused, as libzmq does (src/router.cpp identify_peer): its
 * peer sees a live connection, so it does not redial, and the two peers do not
 * take turns displacing each other.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { coreOf } from "./_core.ts";
import type { DeferredSend, SocketCore } from "./_core.ts";
import type { Message } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { BytesMap } from "./_routing/bytes_map.ts";
import { BasePattern } from "./_pattern.ts";
import { turnBudgetMs } from "./_routing/turn_budget.ts";
import type { ConnectOptions, RouterSocketOptions } from "./options.ts";
import { Socket } from "./socket.ts";

class RouterPattern extends BasePattern {
  override readonly attachEarly = false;
  readonly #byId = new BytesMap<Pipe>();
  /** The routing id each attached peer is known by: this pattern's state, not the pipe's. */
  readonly #ids = new Map<Pipe, Uint8Array>();
  readonly #mandatory: boolean;
  readonly #handover: boolean;
  #nextId = (Math.random() * 0x1_0000_0000) >>> 0;
  #deferred: DeferredSend[] | undefined;

  constructor(core: SocketCore, options: RouterSocketOptions) {
    super(core);
    this.#mandatory = options.mandatory === true;
    this.#handover = options.handover === true;
  }

  /**
   * An echo loop answering many peers yields after a time that grows with
   * them (see turn_budget.ts): each peer's replies then leave in one write.
   */
  get yieldAfterMs(): number {
    return turnBudgetMs(this.#byId.size);
  }

  #generateId(): Uint8Array {
    const id = new Uint8Array(5);
    do {
      this.#nextId = (this.#nextId + 1) >>> 0;
      new DataView(id.buffer).setUint32(1, this.#nextId);
    } while (this.#byId.has(id));
    return id;
  }

  override attach(pipe: Pipe): boolean {
    let id = pipe.connectRoutingId ?? pipe.peer?.routingId;
    if (id !== undefined && id.length === 0) id = undefined;
    if (id === undefined) id = this.#generateId();
    const existing = this.#byId.get(id);
    if (existing !== undefined) {
      // libzmq keeps the losing connection open but unused (src/router.cpp
      // identify_peer, xattach_pipe's _anonymous_pipes): closing it would make
      // its peer redial, and the two would displace each other forever.
      if (!this.#handover) {
        this.core.park(pipe, "refused", id);
        return false;
      }
      this.core.park(existing, "displaced", id);
      this.#ids.delete(existing);
    }
    // An own copy: a view would pin the whole read chunk the id arrived in.
    id = id.slice();
    this.#ids.set(pipe, id);
    this.#byId.set(id, pipe);
    return super.attach(pipe);
  }

  routingIdOf(pipe: Pipe): Uint8Array | undefined {
    return this.#ids.get(pipe);
  }

  override detach(pipe: Pipe): void {
    super.detach(pipe);
    const id = this.#ids.get(pipe);
    if (id === undefined) return;
    this.#ids.delete(pipe);
    if (this.#byId.get(id) === pipe) this.#byId.delete(id);
  }

  override message(pipe: Pipe, frames: Message): void {
    const id = this.#ids.get(pipe);
    if (id === undefined) return;
    const out = new Array<Uint8Array>(frames.length + 1);
    out[0] = id;
    for (let i = 0; i < frames.length; i++) out[i + 1] = frames[i];
    super.message(pipe, out);
  }

  override prepareSend(frames: Message): Message {
    if (this.#mandatory && !this.#byId.has(frames[0])) {
      throw new ZmqError("EHOSTUNREACH", "No peer with that routing id is connected");
    }
    return frames;
  }

  override trySend(frames: Message): boolean {
    // The id frame is usually the very array a received message carried: found by reference.
    const pipe = this.#byId.get(frames[0]);
    if (pipe === undefined || frames.length < 2) return true; // unroutable: dropped
    if (!pipe.hasRoom()) {
      if (this.#mandatory) return false; // full: wait
      // Full while its writes move: retried once I/O ran; else dropped.
      if (pipe.congested()) this.#deferred = [{ pipe, frames: frames.slice(1) }];
      return true;
    }
    pipe.enqueue(frames.slice(1));
    return true;
  }

  takeDeferred(): DeferredSend[] | undefined {
    const deferred = this.#deferred;
    this.#deferred = undefined;
    return deferred;
  }
}

/**
 * A ROUTER socket: routes replies to many peers by routing id.
 *
 * @example A broker front end
 * ```ts
 * import { DealerSocket, RouterSocket } from "@monocoque/zmtp";
 *
 * await using router = new RouterSocket({ mandatory: true });
 * await router.bind("inproc://router-doc");
 * await using dealer = new DealerSocket({ routingId: "client-7" });
 * dealer.connect("inproc://router-doc");
 * await dealer.send("work");
 * const [id] = await router.receive();
 * console.assert(new TextDecoder().decode(id) === "client-7");
 * await router.send([id, "done"]);
 * const [done] = await dealer.receive();
 * console.assert(new TextDecoder().decode(done) === "done");
 * ```
 */
export class RouterSocket extends Socket {
  /**
   * Creates a ROUTER socket.
   *
   * @param options Socket options, plus `mandatory` and `handover`.
   */
  constructor(options?: RouterSocketOptions) {
    super("ROUTER", options);
    const core = coreOf(this);
    core.pattern = new RouterPattern(core, options ?? {});
  }

  /**
   * Connects to an endpoint; `options.routingId` names the peer so messages
   * can be routed to it (ZMQ_CONNECT_ROUTING_ID).
   *
   * @param endpoint The endpoint to connect to.
   * @param options The routing id to give this peer.
   */
  override connect(endpoint: string, options?: ConnectOptions): void {
    super.connect(endpoint, options);
  }
}
