/**
 * The idiomatic ways to use a socket — `for await`, `readable`, `writable` —
 * at the speed of a hand-written `await receive()` loop. While the socket's
 * queue holds messages they are taken synchronously (no wait, no timer, no
 * promise of our own per message); only an empty queue costs a `receive()`
 * with its timeout and abort handling. Semantics are `receive()`'s and
 * `send()`'s: the same state checks (REQ/REP), `receiveTimeout` per wait,
 * errors propagate, and `ETERM` (the socket closed) ends the iteration or
 * closes the stream.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import type { SocketCore } from "./_core.ts";
import type { Message, MessageLike } from "./_message.ts";

function isTerm(e: unknown): boolean {
  return e instanceof ZmqError && e.code === "ETERM";
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The iterator of `for await (const msg of socket)`. Not an async generator:
 * a generator costs several promises and microtask hops per `yield await`,
 * this costs one already-resolved promise per queued message.
 */
export class MessageIterator implements AsyncIterableIterator<Message> {
  #core: SocketCore;
  #done = false;
  /** The wait of a `next()` in progress, so concurrent calls keep their order. */
  #waiting: Promise<IteratorResult<Message>> | undefined;

  constructor(core: SocketCore) {
    this.#core = core;
  }

  next(): Promise<IteratorResult<Message>> {
    if (this.#waiting !== undefined) return this.#waiting.then(() => this.next());
    if (this.#done) return Promise.resolve(DONE);
    let msg: Message | undefined;
    try {
      msg = this.#core.tryReceiveNow();
    } catch (e) {
      return this.#fail(e);
    }
    if (msg !== undefined) return Promise.resolve({ done: false, value: msg });
    const waiting = this.#core.receive(undefined).then(
      (value): IteratorResult<Message> => {
        this.#waiting = undefined;
        return { done: false, value };
      },
      (e) => {
        this.#waiting = undefined;
        return this.#fail(e);
      },
    );
    this.#waiting = waiting;
    return waiting;
  }

  /** Ends the iteration (`break`, `return` or a throw in the loop body). */
  return(): Promise<IteratorResult<Message>> {
    this.#done = true;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** As an async generator: ETERM ends quietly, any other error is thrown once, then done. */
  #fail(e: unknown): Promise<IteratorResult<Message>> {
    this.#done = true;
    return isTerm(e) ? Promise.resolve(DONE) : Promise.reject(e);
  }
}

/**
 * Messages one read of `readable` may take from the socket's queue beyond the
 * one asked for. A read that finds the stream's queue empty costs a `pull()`
 * (several promises inside the stream); reads served from its queue do not.
 */
export const READ_BATCH = 32;

/**
 * `socket.readable`: nothing is taken from the socket before a reader asks
 * (high-water mark 0, so the socket's receive high-water mark stays the
 * backpressure and a REQ socket is not read before its request). A read then
 * takes every message already queued, up to {@linkcode READ_BATCH}, into the
 * stream in one go, and waits (one `receive()`) only when the socket's queue
 * is empty. Cancelling the stream drops the messages it had taken and not
 * yet handed out, as closing a socket drops its queue.
 */
export function messageReadable(core: SocketCore): ReadableStream<Message> {
  const fail = (controller: ReadableStreamDefaultController<Message>, e: unknown) => {
    if (isTerm(e)) controller.close();
    else controller.error(e);
  };
  return new ReadableStream<Message>({
    pull(controller): Promise<void> | undefined {
      let msg: Message | undefined;
      try {
        msg = core.tryReceiveNow();
      } catch (e) {
        fail(controller, e);
        return undefined;
      }
      if (msg === undefined) {
        return core.receive(undefined).then(
          (msg) => controller.enqueue(msg),
          (e) => fail(controller, e),
        );
      }
      controller.enqueue(msg);
      try {
        for (let n = 1; n < READ_BATCH && (msg = core.tryReceiveNow()) !== undefined; n++) {
          controller.enqueue(msg);
        }
      } catch {
        // Out of turn (REP after a request) or closed: the next read reports it.
      }
      return undefined;
    },
  }, { highWaterMark: 0 });
}

/**
 * `socket.writable`: each write is a `send()`; a write resolves when the
 * message is queued for a peer, so the send high-water mark is the stream's
 * backpressure.
 */
export function messageWritable(
  send: (message: MessageLike) => Promise<void>,
): WritableStream<MessageLike> {
  return new WritableStream<MessageLike>({ write: send }, { highWaterMark: 1 });
}
