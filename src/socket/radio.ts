/**
 * RADIO (rfc.zeromq.org spec 48, ZMQ_RADIO): publishes single-frame messages
 * to groups; each goes to every DISH peer that joined its group (exact match,
 * not a prefix as in PUB/SUB). DISH peers tell it their groups with JOIN and
 * LEAVE commands. On the wire a message is two frames, the group (with MORE)
 * then the body, as libzmq writes it (src/radio.cpp radio_session_t::pull_msg).
 *
 * Sends never wait: a message for a peer at its high-water mark, or for a
 * group nobody joined, is dropped, as libzmq's RADIO does by default
 * (src/radio.cpp xsend, `_lossy`). A multipart send fails with `EINVAL`.
 *
 * Each peer may join at most 10 000 groups at once (`MAX_GROUPS_PER_PEER`).
 * libzmq has no bound (src/radio.cpp keeps a multimap of every JOIN), so a
 * peer could make it hold any number; here a JOIN past the bound drops that
 * peer, with a `disconnected` event saying why, and the others go on.
 *
 * Over `udp://` a RADIO connects (libzmq refuses to bind: ENOCOMPATPROTO)
 * and sends every message as one datagram, whatever the group: a DISH there
 * sends no JOIN, it filters what arrives (`_datagram.ts`).
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { coreOf } from "./_core.ts";
import { DatagramOutbound, isDatagramEndpoint } from "./_datagram.ts";
import { GROUP_MAX_LENGTH, groupBytes, groupKey } from "./_group.ts";
import type { Message as Frames } from "./_message.ts";
import { toFrames } from "./_message.ts";
import { BasePattern, notSupported } from "./_pattern.ts";
import type { DishMessage } from "./dish.ts";
import type { Pipe } from "./_pipe.ts";
import type { ConnectOptions, OperationOptions, SocketOptions } from "./options.ts";
import { type MessageLike, Socket } from "./socket.ts";

/** Options of {@linkcode RadioSocket.send}. */
export interface RadioSendOptions extends OperationOptions {
  /**
   * The group to publish to, at most 15 bytes (a string is UTF-8 encoded);
   * defaults to the `group` property of the message, as a received
   * {@linkcode DishMessage} carries it.
   */
  group?: string | Uint8Array;
}

type Grouped = Frames & { group?: Uint8Array };

/**
 * Groups one peer may have joined at once: far more than an application
 * uses (a group is a topic, not a key), and it bounds what a peer can make
 * us keep to about a megabyte.
 */
export const MAX_GROUPS_PER_PEER = 10_000;

class RadioPattern extends BasePattern {
  override readonly attachEarly = false;
  /** Each peer's joined groups, by {@linkcode groupKey}. */
  readonly #groups = new Map<Pipe, Set<string>>();
  /** The `udp://` endpoints connected: each gets every message. */
  readonly datagrams: DatagramOutbound = new DatagramOutbound(this.core);

  override attach(pipe: Pipe): boolean {
    this.#groups.set(pipe, new Set());
    return super.attach(pipe);
  }

  override detach(pipe: Pipe): void {
    super.detach(pipe);
    this.#groups.delete(pipe);
  }

  command(pipe: Pipe, name: string, data: Uint8Array): void {
    const joined = this.#groups.get(pipe);
    if (joined === undefined || (name !== "JOIN" && name !== "LEAVE")) return;
    if (data.length > GROUP_MAX_LENGTH) {
      // libzmq asserts here and aborts the whole process (src/radio.cpp
      // radio_session_t::push_msg: set_group fails, errno_assert): we drop
      // only the peer that broke spec 48.
      pipe.drop(
        `${name} with a group over ${GROUP_MAX_LENGTH} bytes`,
        new ZmqError("EPROTO", `The peer sent ${name} with a ${data.length}-byte group`),
      );
      return;
    }
    const key = groupKey(data);
    if (name === "LEAVE") {
      joined.delete(key);
    } else if (joined.size < MAX_GROUPS_PER_PEER || joined.has(key)) {
      joined.add(key);
    } else {
      pipe.drop(
        `JOIN past ${MAX_GROUPS_PER_PEER} groups`,
        new ZmqError(
          "EPROTO",
          `The peer joined more than ${MAX_GROUPS_PER_PEER} groups, the most a RADIO keeps per peer`,
        ),
      );
    }
  }

  override message(_pipe: Pipe, _frames: Frames): void {
    // A DISH sends no messages; libzmq's RADIO reads only JOIN/LEAVE (src/radio.cpp xread_activated).
  }

  override prepareSend(frames: Frames): Frames {
    if (frames.length !== 1) {
      throw new ZmqError("EINVAL", "RADIO sockets send single-frame messages only");
    }
    return frames;
  }

  override trySend(frames: Frames): boolean {
    const group = (frames as Grouped).group!;
    const key = groupKey(group);
    for (const [pipe, joined] of this.#groups) {
      // The group frame then the body (src/radio.cpp radio_session_t::pull_msg).
      if (joined.has(key) && pipe.ready && pipe.hasRoom()) pipe.enqueue([group, frames[0]]);
    }
    this.datagrams.publish(group, frames[0]);
    return true;
  }

  override shouldYield(): boolean {
    // A udp queue was full: let its writer run before the next send.
    return this.datagrams.takeCongested();
  }

  override prepareReceive(): void {
    notSupported("RADIO", "receive");
  }

  override tryReceive(): Frames | undefined {
    return undefined;
  }
}

/**
 * A RADIO socket: the publishing end of RADIO/DISH.
 *
 * As in zeromq.js's `zeromq/draft` `Radio`, the group is an option of
 * `send()`: `send(payload, { group })`.
 *
 * A DISH peer may join at most 10 000 groups at once; one that joins more is
 * dropped (a `disconnected` event with an `EPROTO` error says so), where
 * libzmq keeps whatever a peer joins.
 *
 * @example Publishing to a group
 * ```ts
 * import { DishSocket, RadioSocket, text } from "@monocoque/zmtp";
 *
 * await using radio = new RadioSocket();
 * await radio.bind("inproc://radio-doc");
 * await using dish = new DishSocket();
 * dish.join("weather");
 * dish.connect("inproc://radio-doc");
 *
 * // Messages sent before the DISH's JOIN arrives are dropped: repeat until one lands.
 * const timer = setInterval(() => radio.send("sunny", { group: "weather" }), 10);
 * const message = await dish.receive();
 * clearInterval(timer);
 * console.assert(text(message.group) === "weather" && text(message[0]) === "sunny");
 * ```
 */
export class RadioSocket extends Socket {
  /**
   * Creates a RADIO socket.
   *
   * @param options Socket options.
   */
  constructor(options?: SocketOptions) {
    super("RADIO", options);
    const core = coreOf(this);
    core.pattern = new RadioPattern(core);
  }

  get #datagrams(): DatagramOutbound {
    return (coreOf(this).pattern as RadioPattern).datagrams;
  }

  /**
   * Listens on an endpoint (tcp, ipc, inproc). A RADIO does not bind
   * `udp://`: it connects to the DISH's address.
   *
   * @param endpoint The endpoint to bind.
   * @returns Resolves once listening.
   * @throws {ZmqError} `ENOCOMPATPROTO` for `udp://`, and what {@linkcode Socket.bind} throws.
   */
  override bind(endpoint: string): Promise<void> {
    if (isDatagramEndpoint(endpoint)) {
      return Promise.reject(
        new ZmqError("ENOCOMPATPROTO", "A RADIO connects to udp:// endpoints, a DISH binds them"),
      );
    }
    return super.bind(endpoint);
  }

  /**
   * Connects to an endpoint. `udp://host:port` sends each message as one
   * datagram to a DISH bound there; `udp://group:port` or
   * `udp://iface;group:port` to an IPv4 multicast group (from that
   * interface). A message whose datagram would exceed 8192 bytes (libzmq's
   * limit) is not sent over udp, with a `datagramDropped` event.
   *
   * @param endpoint The endpoint to connect to.
   * @param options `routingId` (not used over udp).
   * @throws {ZmqError} `EINVAL` for a malformed endpoint, `EPROTONOSUPPORT`
   * for `udp://` on a runtime without UDP (Deno without `--unstable-net`), `ETERM` once closed.
   */
  override connect(endpoint: string, options?: ConnectOptions): void {
    if (isDatagramEndpoint(endpoint)) this.#datagrams.connect(endpoint);
    else super.connect(endpoint, options);
  }

  /**
   * Stops connecting to an endpoint and drops what is queued for it.
   *
   * @param endpoint The endpoint as given to `connect()`.
   * @throws {ZmqError} `ENOENT` for an endpoint that is not connected.
   */
  override disconnect(endpoint: string): void {
    if (isDatagramEndpoint(endpoint)) this.#datagrams.disconnect(endpoint);
    else super.disconnect(endpoint);
  }

  /**
   * Closes the socket; see {@linkcode Socket.close}. Messages queued for
   * `udp://` endpoints are sent first unless `linger` is 0.
   *
   * @returns Resolves once every port and timer is released.
   */
  override close(): Promise<void> {
    if (!this.closed) this.#datagrams.close(this.linger);
    return super.close();
  }

  /**
   * Publishes a single-frame message to the DISH peers that joined `group`.
   *
   * @param message One frame, or a received {@linkcode DishMessage}.
   * @param options `group` (else the message's own), and a `signal`.
   * @returns Resolves when handed to the peers (it never waits for room).
   * @throws {TypeError} Without a group.
   * @throws {RangeError} For a group over 15 bytes (libzmq `EINVAL`).
   * @throws {ZmqError} `EINVAL` for a multipart message.
   */
  override send(
    message: MessageLike | DishMessage,
    options?: RadioSendOptions,
  ): Promise<void> {
    let frames: Grouped;
    try {
      const group = options?.group ?? (message as Partial<DishMessage>).group;
      if (group === undefined) throw new TypeError("A RADIO send needs a group");
      const bytes = groupBytes(group);
      frames = toFrames(message);
      frames.group = bytes;
    } catch (e) {
      return Promise.reject(e);
    }
    return coreOf(this).send(frames, options?.signal);
  }
}
