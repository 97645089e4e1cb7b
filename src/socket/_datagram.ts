/**
 * RADIO/DISH over a datagram transport (`udp://`), the one path by which
 * datagrams reach the socket layer. libzmq plugs a udp_engine into a session
 * with a pipe (src/socket_base.cpp: DISH binds, RADIO connects, no
 * handshake); here a DISH's bound endpoint is a {@linkcode DatagramInbound}
 * source that its pattern fair-queues beside its pipes, and a RADIO's
 * connected endpoint a queue in {@linkcode DatagramOutbound} that its pattern
 * publishes every message to (libzmq's RADIO sends every group to a udp pipe:
 * src/radio.cpp xattach_pipe, `_udp_pipes`). Malformed datagrams and messages
 * too large to send are dropped with a `datagramDropped` event; nothing a
 * peer sends throws. Internal.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { resolveEndpoint } from "../transport/registry.ts";
import {
  type DatagramReceiver,
  type DatagramSender,
  type DatagramTransport,
  datagramTransportFor,
} from "../transport/datagram.ts";
import type { EndpointBase, EndpointUse } from "../transport/types.ts";
import type { SocketCore } from "./_core.ts";
import type { Message } from "./_message.ts";
import { decodeDatagram, encodeDatagram, SEND_MAX } from "./_radio_datagram.ts";
import { FairQueue, type FairQueueSource } from "./_routing/fair_queue.ts";

export { isDatagramEndpoint } from "../transport/datagram.ts";

/** A received message with its group, as DISH delivers it. */
export type GroupedMessage = Message & { group: Uint8Array };

/**
 * The datagram transport and parsed endpoint of a datagram endpoint string;
 * `EINVAL` if malformed, `EPROTONOSUPPORT` if the runtime has no such transport.
 */
export function datagramEndpoint(
  address: string,
  use: EndpointUse,
): { endpoint: EndpointBase; transport: DatagramTransport } {
  const endpoint = resolveEndpoint(address, use);
  const transport = datagramTransportFor(endpoint);
  if (transport === undefined) {
    throw new ZmqError("EPROTONOSUPPORT", `${address} is not a datagram endpoint`);
  }
  return { endpoint, transport };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Inbound {
  requested: string;
  endpoint: string;
  receiver: DatagramReceiver;
  source: FairQueueSource<Inbound, GroupedMessage>;
  closed: boolean;
  /** Resumes a receive loop paused at the high-water mark. */
  wake: (() => void) | undefined;
  loop: Promise<void>;
}

function messageBytes(m: GroupedMessage): number {
  return m[0].length;
}

/** A DISH's bound datagram endpoints and the messages they received. */
export class DatagramInbound {
  readonly #core: SocketCore;
  readonly #joined: (group: Uint8Array) => boolean;
  readonly #queue: FairQueue<Inbound, GroupedMessage>;
  readonly #bound = new Map<string, Inbound>();

  /**
   * @param core The DISH's core: options, events, receivers to wake.
   * @param joined Whether a group is joined now (filters at arrival and at receive).
   */
  constructor(core: SocketCore, joined: (group: Uint8Array) => boolean) {
    this.#core = core;
    this.#joined = joined;
    this.#queue = new FairQueue(
      core.options.receiveHighWaterMarkBytes > 0 ? messageBytes : undefined,
    );
  }

  async bind(address: string): Promise<void> {
    const core = this.#core;
    if (core.closed) throw new ZmqError("ETERM", "The socket is closed");
    let receiver: DatagramReceiver;
    try {
      const { endpoint, transport } = datagramEndpoint(address, "bind");
      receiver = await transport.listen(endpoint);
    } catch (e) {
      core.events.emit({ type: "bindFailed", endpoint: address, error: e as Error });
      throw e;
    }
    if (core.closed) {
      receiver.close();
      throw new ZmqError("ETERM", "The socket was closed during bind");
    }
    const inbound: Inbound = {
      requested: address,
      endpoint: receiver.endpoint,
      receiver,
      source: undefined!,
      closed: false,
      wake: undefined,
      loop: Promise.resolve(),
    };
    inbound.source = this.#queue.add(inbound);
    this.#bound.set(receiver.endpoint, inbound);
    core.lastEndpoint = receiver.endpoint;
    core.events.emit({ type: "listening", endpoint: receiver.endpoint });
    inbound.loop = this.#receiveLoop(inbound);
    core.background(inbound.loop);
  }

  /** Whether a source is at the receive high-water mark (then it is not read: the kernel drops). */
  #full(source: FairQueueSource<Inbound, GroupedMessage>): boolean {
    const o = this.#core.options;
    return (o.receiveHighWaterMark > 0 && source.size >= o.receiveHighWaterMark) ||
      (o.receiveHighWaterMarkBytes > 0 && source.bytes >= o.receiveHighWaterMarkBytes);
  }

  async #receiveLoop(inbound: Inbound): Promise<void> {
    const core = this.#core;
    while (!inbound.closed) {
      if (this.#full(inbound.source)) {
        await new Promise<void>((resolve) => inbound.wake = resolve);
        inbound.wake = undefined;
        continue;
      }
      let datagram;
      try {
        datagram = await inbound.receiver.receive();
      } catch (e) {
        if (inbound.closed) return;
        this.#dropped(inbound, inbound.endpoint, "Receive failed", e as ZmqError);
        await sleep(100); // a failing socket must not spin
        continue;
      }
      if (datagram === null) return;
      const decoded = decodeDatagram(datagram.data);
      if (typeof decoded === "string") {
        this.#dropped(inbound, datagram.remote, decoded, new ZmqError("EPROTO", decoded));
        continue;
      }
      if (!this.#joined(decoded.group)) continue;
      const message = [decoded.body] as GroupedMessage;
      message.group = decoded.group;
      if (core.options.conflate) inbound.source.replace(message);
      else inbound.source.push(message);
      core.wakeReceivers();
    }
  }

  #dropped(inbound: Inbound, remote: string, reason: string, error: ZmqError): void {
    this.#core.events.emit({
      type: "datagramDropped",
      endpoint: inbound.endpoint,
      remote,
      reason,
      error,
    });
  }

  /** The next message of a joined group, fair-queued across endpoints. */
  take(): GroupedMessage | undefined {
    for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) {
      const inbound = this.#queue.lastKey!;
      if (inbound.wake !== undefined && !this.#full(inbound.source)) inbound.wake();
      // A message queued before leave() is not delivered after it (src/dish.cpp xxrecv).
      if (this.#joined(m.group)) return m;
    }
    return undefined;
  }

  #find(address: string): Inbound | undefined {
    const exact = this.#bound.get(address);
    if (exact !== undefined) return exact;
    for (const b of this.#bound.values()) if (b.requested === address) return b;
    return undefined;
  }

  async unbind(address: string): Promise<void> {
    if (this.#core.closed) throw new ZmqError("ETERM", "The socket is closed");
    const inbound = this.#find(address);
    if (inbound === undefined) throw new ZmqError("ENOENT", `Endpoint ${address} is not bound`);
    this.#bound.delete(inbound.endpoint);
    this.#stop(inbound);
    await inbound.loop;
    this.#core.events.emit({ type: "closed", endpoint: inbound.endpoint });
  }

  #stop(inbound: Inbound): void {
    inbound.closed = true;
    inbound.receiver.close();
    inbound.wake?.();
    // What it received stays readable, as a disconnected pipe's messages do.
    this.#queue.remove(inbound.source, true);
  }

  /** Closes every endpoint; the socket's close waits for their loops (registered as background). */
  close(): void {
    for (const inbound of this.#bound.values()) {
      this.#stop(inbound);
      this.#core.events.emit({ type: "closed", endpoint: inbound.endpoint });
    }
    this.#bound.clear();
  }
}

interface Outbound {
  endpoint: string;
  queue: Uint8Array[][];
  head: number;
  /** No more messages: flush what is queued (unless `discard`), then close. */
  closed: boolean;
  discard: boolean;
  /** The sender could not be opened: messages for it are dropped. */
  failed: boolean;
  wake: (() => void) | undefined;
}

/** A RADIO's connected datagram endpoints, each with a bounded queue and a writer. */
export class DatagramOutbound {
  readonly #core: SocketCore;
  readonly #connected = new Map<string, Outbound>();
  #congested = false;

  /** @param core The RADIO's core: options, events, background jobs. */
  constructor(core: SocketCore) {
    this.#core = core;
  }

  connect(address: string): void {
    const core = this.#core;
    if (core.closed) throw new ZmqError("ETERM", "The socket is closed");
    const { endpoint, transport } = datagramEndpoint(address, "connect");
    if (this.#connected.has(address)) {
      throw new ZmqError("EINVAL", `Already connected to ${address}`);
    }
    const outbound: Outbound = {
      endpoint: address,
      queue: [],
      head: 0,
      closed: false,
      discard: false,
      failed: false,
      wake: undefined,
    };
    this.#connected.set(address, outbound);
    core.lastEndpoint = address;
    core.background(this.#sendLoop(outbound, transport, endpoint));
  }

  disconnect(address: string): void {
    if (this.#core.closed) throw new ZmqError("ETERM", "The socket is closed");
    const outbound = this.#connected.get(address);
    if (outbound === undefined) {
      throw new ZmqError("ENOENT", `Endpoint ${address} is not connected`);
    }
    this.#connected.delete(address);
    this.#stop(outbound, true);
  }

  /**
   * Queues one message for every endpoint, dropping it for an endpoint whose
   * queue is at the send high-water mark (RADIO is lossy: src/radio.cpp
   * xsend) and, with an event, for all of them if its datagram would exceed
   * {@linkcode SEND_MAX} bytes.
   */
  publish(group: Uint8Array, body: Uint8Array): void {
    if (this.#connected.size === 0) return;
    if (1 + group.length + body.length > SEND_MAX) {
      for (const outbound of this.#connected.values()) {
        const reason = `Message of ${body.length} bytes exceeds the ${SEND_MAX}-byte datagram`;
        this.#core.events.emit({
          type: "datagramDropped",
          endpoint: outbound.endpoint,
          remote: outbound.endpoint,
          reason,
          error: new ZmqError("EMSGSIZE", reason),
        });
      }
      return;
    }
    const hwm = this.#core.options.sendHighWaterMark;
    for (const outbound of this.#connected.values()) {
      if (outbound.failed) continue;
      if (hwm > 0 && outbound.queue.length - outbound.head >= hwm) {
        this.#congested = true;
        continue;
      }
      outbound.queue.push([group, body]);
      outbound.wake?.();
    }
  }

  /** Whether a queue was full since the last call: the sender should let I/O run. */
  takeCongested(): boolean {
    const congested = this.#congested;
    this.#congested = false;
    return congested;
  }

  async #sendLoop(
    outbound: Outbound,
    transport: DatagramTransport,
    endpoint: EndpointBase,
  ): Promise<void> {
    const core = this.#core;
    let sender: DatagramSender;
    try {
      sender = await transport.connect(endpoint);
    } catch (e) {
      // Nothing to retry: the address or interface is unusable (libzmq's engine fails the same way).
      outbound.failed = true;
      outbound.queue.length = 0;
      if (!outbound.closed) {
        core.events.emit({
          type: "connectDelayed",
          endpoint: outbound.endpoint,
          error: e as Error,
        });
      }
      return;
    }
    if (!outbound.discard) core.events.emit({ type: "connected", endpoint: outbound.endpoint });
    // Each send is awaited before the next is encoded: one buffer serves them all.
    const scratch = new Uint8Array(SEND_MAX);
    try {
      while (!outbound.discard) {
        if (outbound.head === outbound.queue.length) {
          outbound.queue.length = 0;
          outbound.head = 0;
          if (outbound.closed) break;
          await new Promise<void>((resolve) => outbound.wake = resolve);
          outbound.wake = undefined;
          continue;
        }
        const [group, body] = outbound.queue[outbound.head];
        outbound.queue[outbound.head++] = undefined!;
        // A queue that never empties (a producer as fast as the writer) would
        // otherwise grow by a slot a message: drop the sent slots now and then.
        if (outbound.head >= 1024 && outbound.head * 2 >= outbound.queue.length) {
          outbound.queue = outbound.queue.slice(outbound.head);
          outbound.head = 0;
        }
        try {
          await sender.send(encodeDatagram(group, body, scratch)!);
        } catch (e) {
          if (outbound.discard) break;
          const error = e instanceof ZmqError ? e : new ZmqError("EHOSTUNREACH", String(e));
          core.events.emit({
            type: "datagramDropped",
            endpoint: outbound.endpoint,
            remote: outbound.endpoint,
            reason: error.message,
            error,
          });
        }
      }
    } finally {
      sender.close();
    }
  }

  #stop(outbound: Outbound, discard: boolean): void {
    outbound.closed = true;
    if (discard) {
      outbound.discard = true;
      outbound.queue.length = 0;
      outbound.head = 0;
    }
    outbound.wake?.();
  }

  /**
   * Stops every endpoint: with `linger` 0 queued messages are discarded,
   * otherwise they are sent first (at most the send high-water mark each;
   * UDP sends do not wait for a peer).
   */
  close(linger: number): void {
    for (const outbound of this.#connected.values()) this.#stop(outbound, linger === 0);
    this.#connected.clear();
  }
}
