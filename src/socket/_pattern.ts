/**
 * The behaviour most socket types share, as a base for their patterns:
 * load-balanced sends that wait for room (RFC 28, 30) and fair-queued
 * receives; internal.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import type { Pattern, SocketCore } from "./_core.ts";
import type { Message } from "./_message.ts";
import type { Pipe } from "./_pipe.ts";
import { LoadBalancer } from "./_routing/load_balancer.ts";

const hasRoom = (p: Pipe) => p.hasRoom();

/** Load-balanced, blocking sends and fair-queued receives. */
export class BasePattern implements Pattern {
  readonly core: SocketCore;
  readonly attachEarly: boolean = true;
  readonly peers: LoadBalancer<Pipe> = new LoadBalancer();

  constructor(core: SocketCore) {
    this.core = core;
  }

  attach(pipe: Pipe): boolean {
    this.peers.add(pipe);
    return true;
  }

  detach(pipe: Pipe): void {
    this.peers.remove(pipe);
  }

  message(pipe: Pipe, frames: Message): void {
    if (this.core.options.conflate) pipe.inbox!.replace(frames);
    else pipe.inbox!.push(frames);
  }

  prepareSend(frames: Message): Message {
    return frames;
  }

  trySend(frames: Message): boolean {
    const pipe = this.peers.next(hasRoom);
    if (pipe === undefined) return false;
    pipe.enqueue(frames);
    return true;
  }

  prepareReceive(): void {}

  ready(_pipe: Pipe): void {}

  receiveAbandoned(): void {}

  sendAbandoned(_frames: Message): void {}

  shouldYield(): boolean {
    return false;
  }

  tryReceive(): Message | undefined {
    return this.core.inbox.shift();
  }
}

/** Throws the error for an operation a socket type does not have. */
export function notSupported(type: string, operation: string): never {
  throw new ZmqError("ENOTSUP", `${type} sockets cannot ${operation}`);
}
