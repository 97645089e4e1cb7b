/**
 * DISH (rfc.zeromq.org spec 48, ZMQ_DISH): receives the messages a RADIO
 * publishes to the groups it joined. Groups match exactly, byte for byte, and
 * are at most 15 bytes. The socket keeps its groups and sends each RADIO a
 * JOIN command for every one when it connects (so a restarted RADIO learns
 * them again), and JOIN/LEAVE on every change, as libzmq does (src/dish.cpp
 * send_subscriptions, dish_session_t::pull_msg).
 *
 * A peer message that is not a group frame of at most 15 bytes with MORE
 * followed by one body frame breaks spec 48: the peer is dropped, as libzmq's
 * DISH session fails with EFAULT (src/dish.cpp dish_session_t::push_msg).
 *
 * Over `udp://` a DISH binds (libzmq refuses to connect: ENOCOMPATPROTO) and
 * receives libzmq's datagrams (`_datagram.ts`), fair-queued with its pipes;
 * a malformed datagram is dropped with a `datagramDropped` event.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { coreOf } from "./_core.ts";
import { DatagramInbound, isDatagramEndpoint } from "./_datagram.ts";
import { GROUP_MAX_LENGTH, groupBytes, groupKey } from "./_group.ts";
import type { Message as Frames } from "./_message.ts";
import { BasePattern, notSupported } from "./_pattern.ts";
import type { Pipe } from "./_pipe.ts";
import type { ConnectOptions, SocketOptions } from "./options.ts";
import { type Message, Socket } from "./socket.ts";

/** A message a {@linkcode DishSocket} received: one frame, and the group it was published to. */
export type DishMessage = Message & {
  /** The group the RADIO published the message to (0 to 15 bytes). */
  readonly group: Uint8Array;
};

type Grouped = Frames & { group: Uint8Array };

class DishPattern extends BasePattern {
  /** Joined groups, by {@linkcode groupKey}. */
  readonly groups = new Map<string, Uint8Array>();
  /** The `udp://` endpoints bound, and what they received. */
  readonly datagrams: DatagramInbound = new DatagramInbound(
    this.core,
    (group) => this.groups.has(groupKey(group)),
  );
  /** Whether the next receive looks at the udp endpoints first (fair between them and pipes). */
  #datagramsFirst = false;
  /** Whether the message tryReceive returned last came from a pipe (else from udp). */
  #fromPipe = false;

  override ready(pipe: Pipe): void {
    for (const group of this.groups.values()) pipe.sendCommand("JOIN", group);
  }

  change(group: Uint8Array, join: boolean): void {
    const key = groupKey(group);
    // libzmq refuses to join a group twice or leave one not joined (src/dish.cpp xjoin, xleave).
    if (join === this.groups.has(key)) {
      throw new ZmqError(
        "EINVAL",
        join ? "The group is already joined" : "The group is not joined",
      );
    }
    if (join) this.groups.set(key, group.slice());
    else this.groups.delete(key);
    for (const pipe of this.core.pipes) {
      if (pipe.attached) pipe.sendCommand(join ? "JOIN" : "LEAVE", group);
    }
  }

  override message(pipe: Pipe, frames: Frames): void {
    if (!pipe.ready) return; // dropped while its last read is decoded
    const group = frames[0];
    if (frames.length !== 2 || group.length > GROUP_MAX_LENGTH) {
      pipe.drop(
        "Message without a valid group frame",
        new ZmqError("EPROTO", "The peer sent a RADIO message without a valid group frame"),
      );
      return;
    }
    if (!this.groups.has(groupKey(group))) return;
    const message = [frames[1]] as Grouped;
    message.group = group;
    super.message(pipe, message);
  }

  override tryReceive(): Frames | undefined {
    const first = this.#datagramsFirst;
    this.#datagramsFirst = !first;
    this.#fromPipe = false;
    if (first) return this.datagrams.take() ?? this.#fromPipes();
    return this.#fromPipes() ?? this.datagrams.take();
  }

  /**
   * The pipe of the last message, none for a datagram: a udp message must not
   * carry the metadata of whichever tcp peer was read last.
   */
  lastSource(): Pipe | undefined {
    return this.#fromPipe ? this.core.inbox.lastKey : undefined;
  }

  #fromPipes(): Frames | undefined {
    // A message queued before leave() is not delivered after it (src/dish.cpp xxrecv filters at receive).
    const inbox = this.core.inbox;
    for (let m = inbox.shift(); m !== undefined; m = inbox.shift()) {
      if (this.groups.has(groupKey((m as Grouped).group))) {
        this.#fromPipe = true;
        return m;
      }
    }
    return undefined;
  }

  override prepareSend(_frames: Frames): Frames {
    notSupported("DISH", "send");
  }
}

/**
 * A DISH socket: the receiving end of RADIO/DISH.
 *
 * As in zeromq.js's `zeromq/draft` `Dish`, `join(...groups)` and
 * `leave(...groups)` change the groups, and `receive()`, `for await`,
 * `messages()` and the streams all yield a {@linkcode DishMessage}
 * (`[payload]` with a `group` property).
 *
 * @example Joining a group
 * ```ts
 * import { DishSocket, RadioSocket, text } from "@monocoque/zmtp";
 *
 * await using dish = new DishSocket();
 * dish.join("news", "sport");
 * dish.leave("sport");
 * await dish.bind("tcp://127.0.0.1:0");
 * await using radio = new RadioSocket();
 * radio.connect(dish.lastEndpoint!);
 *
 * // Messages sent before the DISH's JOIN arrives are dropped: repeat until one lands.
 * const timer = setInterval(() => {
 *   radio.send("goal", { group: "sport" });
 *   radio.send("rain", { group: "news" });
 * }, 10);
 * const message = await dish.receive();
 * clearInterval(timer);
 * console.assert(text(message.group) === "news" && text(message[0]) === "rain");
 * ```
 */
export class DishSocket extends Socket<DishMessage> {
  /**
   * Creates a DISH socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("DISH", options);
    const core = coreOf(this);
    core.pattern = new DishPattern(core);
  }

  get #datagrams(): DatagramInbound {
    return (coreOf(this).pattern as DishPattern).datagrams;
  }

  /**
   * Listens on an endpoint. `udp://host:port` receives a RADIO's datagrams
   * sent there (`udp://*:0`: every interface, any free port);
   * `udp://group:port` or `udp://iface;group:port` joins an IPv4 multicast
   * group (on that interface: an address, `*` or a name).
   *
   * @param endpoint The endpoint to bind.
   * @returns Resolves once listening; {@linkcode lastEndpoint} then holds the resolved endpoint.
   * @throws {ZmqError} `EADDRINUSE`, `EADDRNOTAVAIL`, `EINVAL`, `EPROTONOSUPPORT`
   * (`udp://` on a runtime without UDP: Deno needs `--unstable-net`), `ETERM`.
   */
  override bind(endpoint: string): Promise<void> {
    if (isDatagramEndpoint(endpoint)) return this.#datagrams.bind(endpoint);
    return super.bind(endpoint);
  }

  /**
   * Stops listening on a bound endpoint; messages it received stay readable.
   *
   * @param endpoint The endpoint as given to `bind()` or as resolved in {@linkcode lastEndpoint}.
   * @returns Resolves once the endpoint is released.
   * @throws {ZmqError} `ENOENT` for an endpoint that is not bound.
   */
  override unbind(endpoint: string): Promise<void> {
    if (isDatagramEndpoint(endpoint)) return this.#datagrams.unbind(endpoint);
    return super.unbind(endpoint);
  }

  /**
   * Connects to an endpoint (tcp, ipc, inproc). A DISH does not connect to
   * `udp://`: it binds the address the RADIO sends to.
   *
   * @param endpoint The endpoint to connect to.
   * @param options Connect options.
   * @throws {ZmqError} `ENOCOMPATPROTO` for `udp://`, and what {@linkcode Socket.connect} throws.
   */
  override connect(endpoint: string, options?: ConnectOptions): void {
    if (isDatagramEndpoint(endpoint)) {
      throw new ZmqError(
        "ENOCOMPATPROTO",
        "A DISH binds udp:// endpoints, a RADIO connects to them",
      );
    }
    super.connect(endpoint, options);
  }

  /**
   * Closes the socket; see {@linkcode Socket.close}.
   *
   * @returns Resolves once every port and timer is released.
   */
  override close(): Promise<void> {
    if (!this.closed) this.#datagrams.close();
    return super.close();
  }

  /**
   * Joins groups: messages a RADIO publishes to them are received from now on.
   *
   * @param groups Groups of at most 15 bytes each (strings are UTF-8 encoded).
   * @throws {TypeError} For a group that is not a string or Uint8Array.
   * @throws {RangeError} For a group over 15 bytes (libzmq `EINVAL`).
   * @throws {ZmqError} `EINVAL` for a group already joined.
   */
  join(...groups: Array<string | Uint8Array>): void {
    const pattern = coreOf(this).pattern as DishPattern;
    for (const group of groups) pattern.change(groupBytes(group), true);
  }

  /**
   * Leaves groups joined before.
   *
   * @param groups Groups of at most 15 bytes each.
   * @throws {TypeError} For a group that is not a string or Uint8Array.
   * @throws {RangeError} For a group over 15 bytes (libzmq `EINVAL`).
   * @throws {ZmqError} `EINVAL` for a group not joined.
   */
  leave(...groups: Array<string | Uint8Array>): void {
    const pattern = coreOf(this).pattern as DishPattern;
    for (const group of groups) pattern.change(groupBytes(group), false);
  }
}
