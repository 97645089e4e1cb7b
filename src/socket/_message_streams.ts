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
 * `socket.readable`: each pull enqueues every message already queued, up to
 * the stream's desired size, and waits (one `receive()`) only when the queue
 * is empty. With the default high-water mark of 0 nothing is taken from the
 * socket before a reader asks for it, so the socket's receive high-water mark
 * stays the only buffer and the backpressure.
 */
export function messageReadable(core: SocketCore): ReadableStream<Message> {
  const fail = (controller: ReadableStreamDefaultController<Message>, e: unknown) => {
    if (isTerm(e)) controller.close();
    else controller.error(e);
  };
  return new ReadableStream<Message>({
    pull(controller): Promise<void> | undefined {
      try {
        let msg = core.tryReceiveNow();
        if (msg !== undefined) {
          controller.enqueue(msg);
          while ((controller.desiredSize ?? 0) > 0 && (msg = core.tryReceiveNow()) !== undefined) {
            controller.enqueue(msg);
          }
          return undefined;
        }
      } catch (e) {
        fail(controller, e);
        return undefined;
      }
      return core.receive(undefined).then(
        (msg) => controller.enqueue(msg),
        (e) => fail(controller, e),
      );
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
