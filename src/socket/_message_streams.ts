/**
 * The idiomatic ways to use a socket — `for await`, `readable`, `writable` —
 * at the speed of a hand-written `await receive()` loop. While the socket's
 * queue holds messages they are taken synchronously (no wait, no timer, no
 * promise of our own per message); only an empty queue costs a `receive()`
 * with its timeout and abort handling. Semantics are `receive()`'s and
 * `send()`'s: the same state checks (REQ/REP), `receiveTimeout` per wait,
 * errors propagate, and `ETERM` (the socket closed) ends the iteration or
 * closes the stream. Nothing a reader takes is lost when it stops early.
 *
 * @module
 */

import { abortError, ZmqError } from "../errors.ts";
import type { SocketCore } from "./_core.ts";
import type { Message, MessageLike } from "./_message.ts";

/** Whether `e` is the `ETERM` of a closed socket, which ends an iteration; internal. */
export function isTerm(e: unknown): boolean {
  return e instanceof ZmqError && e.code === "ETERM";
}

/** The result of a finished iterator, shared; internal. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/**
 * The iterator of `for await (const msg of socket)` and of
 * `socket.messages({ signal })`. Not an async generator: a generator costs
 * several promises and microtask hops per `yield await`, this costs one
 * already-resolved promise per queued message. An aborted `signal` makes the
 * pending (or next) `next()` reject with the `ZmqError` `receive()` would give
 * (`ECANCELED`, or `EAGAIN` for `AbortSignal.timeout()`), then ends.
 */
export class MessageIterator implements AsyncIterableIterator<Message> {
  #core: SocketCore;
  #signal: AbortSignal | undefined;
  #done = false;
  /** The wait of a `next()` in progress, so concurrent calls keep their order. */
  #waiting: Promise<IteratorResult<Message>> | undefined;

  constructor(core: SocketCore, signal?: AbortSignal) {
    this.#core = core;
    this.#signal = signal;
  }

  next(): Promise<IteratorResult<Message>> {
    if (this.#waiting !== undefined) return this.#waiting.then(() => this.next());
    if (this.#done) return Promise.resolve(DONE);
    const signal = this.#signal;
    if (signal?.aborted) return this.#fail(abortError(signal.reason, "Receive"));
    let msg: Message | undefined;
    try {
      msg = this.#core.tryReceiveNow();
    } catch (e) {
      return this.#fail(e);
    }
    if (msg !== undefined) return Promise.resolve({ done: false, value: msg });
    const waiting = this.#core.receive(signal).then(
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
 * A readable stream of the socket's messages (`socket.readable`, and a fresh
 * one per `socket.readableStream()` call), all sharing the socket's queue.
 * Nothing is taken from the socket before a reader asks (high-water mark 0,
 * so the socket's receive high-water mark stays the backpressure and a REQ
 * socket is not read before its request), and each read takes exactly one
 * message: a cancelled stream (a `pipeTo` aborted, a reader cancelled, a
 * `for await` left) never holds messages nobody will read. A wait in
 * progress is abandoned on cancel; a message it got anyway is given back to
 * the head of the socket's queue. `signal` errors the stream with the
 * `ZmqError` an aborted `receive()` gets.
 *
 * One message per read costs a `pull()` each (a few promises inside the
 * stream) where taking a batch into the stream's queue did not, but a
 * standard stream empties its queue on cancel before telling its source, so
 * a batch could not be given back.
 */
export function messageReadable(core: SocketCore, signal?: AbortSignal): ReadableStream<Message> {
  const abort = new AbortController();
  let ended = false;
  let controller!: ReadableStreamDefaultController<Message>;
  const stop = () => {
    ended = true;
    signal?.removeEventListener("abort", onAbort);
    abort.abort();
  };
  const fail = (e: unknown) => {
    if (ended) return;
    stop();
    if (isTerm(e)) controller.close();
    else controller.error(e);
  };
  const onAbort = () => fail(abortError(signal!.reason, "Receive"));
  const deliver = (msg: Message) => {
    if (ended) core.giveBack([msg]);
    else controller.enqueue(msg);
  };
  return new ReadableStream<Message>({
    start(c) {
      controller = c;
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    },
    pull(): Promise<void> | undefined {
      let msg: Message | undefined;
      try {
        msg = core.tryReceiveNow();
      } catch (e) {
        fail(e);
        return undefined;
      }
      if (msg !== undefined) {
        controller.enqueue(msg);
        return undefined;
      }
      return core.receive(abort.signal).then(deliver, fail);
    },
    cancel() {
      stop();
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
