/**
 * The base of the draft socket types (CLIENT, SERVER, SCATTER, GATHER), which
 * carry single-frame messages only; internal.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import type { SocketCore } from "./_core.ts";
import type { Message } from "./_message.ts";
import { BasePattern } from "./_pattern.ts";
import type { Pipe } from "./_pipe.ts";

/** Load-balanced sends and fair-queued receives of single-frame messages. */
export class SingleFramePattern extends BasePattern {
  readonly type: string;

  constructor(core: SocketCore, type: string) {
    super(core);
    this.type = type;
  }

  override message(pipe: Pipe, frames: Message): void {
    // libzmq drops a multipart message on these types and keeps the peer
    // (src/client.cpp, server.cpp, gather.cpp xrecv).
    if (frames.length === 1) super.message(pipe, frames);
  }

  override prepareSend(frames: Message): Message {
    // libzmq: EINVAL for a message with MORE (src/client.cpp, scatter.cpp xsend).
    if (frames.length !== 1) {
      throw new ZmqError("EINVAL", `${this.type} sockets send single-frame messages only`);
    }
    return frames;
  }
}
