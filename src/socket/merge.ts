/**
 * Receiving from several sockets in one loop: pyzmq's `Poller`, zmq_poll
 * with ZMQ_POLLIN, as an async iterator. `merge()` was chosen over a
 * `poll()` that reports which sockets are ready without taking anything:
 * readiness is a question only each socket type can answer (a REQ is
 * readable once its reply came, a REP only between requests), a ready
 * socket can stop being ready before the caller acts, and a poll loop
 * written on it is three steps where this is one `for await`. What a merge
 * takes is never lost: each socket has at most one message taken and not yet
 * handed out, and ending the merge (`break`, `return()`, an abort, an error)
 * gives such messages back to the head of their socket's queue.
 *
 * @module
 */

import { abortError } from "../errors.ts";
import { coreOf } from "./_core.ts";
import type { SocketCore } from "./_core.ts";
import { DONE, isTerm } from "./_message_streams.ts";
import type { Message, Socket } from "./socket.ts";

/** Options for {@linkcode merge}. */
export interface MergeOptions {
  /**
   * Ends the merge: the pending (or next) `next()` rejects with `ZmqError`
   * `ECANCELED`, or `EAGAIN` for `AbortSignal.timeout()`, the reason as `cause`.
   */
  signal?: AbortSignal;
}

/** One message from a merge, with the socket it came from. */
export interface MergedMessage<S extends Socket = Socket> {
  /** The socket that received the message. */
  socket: S;
  /**
   * The message, one `Uint8Array` per frame, typed as `socket` receives it
   * (a `ServerMessage` from a `ServerSocket`, with its `routingId`).
   */
  message: S extends Socket<infer M> ? M : Message;
}

interface Entry<S> {
  socket: S;
  core: SocketCore;
  /** A message taken by a wait and not yet handed out. */
  slot: Message | undefined;
  /** A `receive()` waits on this socket for the merge. */
  armed: boolean;
  /** The socket closed: it leaves the merge. */
  gone: boolean;
}

class Merge<S extends Socket> implements AsyncIterableIterator<MergedMessage<S>> {
  #entries: Entry<S>[];
  #signal: AbortSignal | undefined;
  /** Withdraws the merge's waiting receives when it ends. */
  #stop = new AbortController();
  #cursor = 0;
  #done = false;
  #error: unknown = undefined;
  #wake: (() => void) | undefined;
  /** The `next()` in progress, so concurrent calls run one after another. */
  #running: Promise<IteratorResult<MergedMessage<S>>> = Promise.resolve(DONE);

  constructor(sockets: Iterable<S>, signal: AbortSignal | undefined) {
    this.#entries = [...sockets].map((socket) => ({
      socket,
      core: coreOf(socket),
      slot: undefined,
      armed: false,
      gone: false,
    }));
    if (new Set(this.#entries.map((e) => e.core)).size !== this.#entries.length) {
      throw new TypeError("A socket can appear only once in a merge");
    }
    this.#signal = signal;
  }

  next(): Promise<IteratorResult<MergedMessage<S>>> {
    const step = this.#running.then(() => this.#next(), () => this.#next());
    this.#running = step;
    return step;
  }

  return(): Promise<IteratorResult<MergedMessage<S>>> {
    this.#finish();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #next(): Promise<IteratorResult<MergedMessage<S>>> {
    const signal = this.#signal;
    while (!this.#done) {
      if (signal?.aborted) {
        this.#finish();
        throw abortError(signal.reason, "Receive");
      }
      if (this.#error !== undefined) {
        const e = this.#error;
        this.#finish();
        throw e;
      }
      const got = this.#take();
      if (got !== undefined) return { done: false, value: got };
      if (this.#entries.length === 0) break;
      // Nothing queued anywhere: one receive per socket, the first to get a message wakes us.
      const woken = new Promise<void>((resolve) => (this.#wake = resolve));
      for (const e of this.#entries) if (!e.armed && e.slot === undefined) this.#arm(e);
      const onAbort = () => this.#wake?.();
      signal?.addEventListener("abort", onAbort, { once: true });
      await woken;
      signal?.removeEventListener("abort", onAbort);
    }
    this.#finish();
    return DONE;
  }

  /** The next message in turn, starting after the socket that gave the last one. */
  #take(): MergedMessage<S> | undefined {
    const entries = this.#entries;
    const n = entries.length;
    let found: MergedMessage<S> | undefined;
    for (let k = 0; k < n && found === undefined; k++) {
      const i = (this.#cursor + k) % n;
      const e = entries[i];
      let message = e.slot;
      e.slot = undefined;
      if (message === undefined && !e.armed && !e.gone) {
        try {
          message = e.core.tryReceiveNow() as Message | undefined;
        } catch (err) {
          if (!isTerm(err)) throw this.#fail(err);
          e.gone = true;
        }
      }
      if (message !== undefined) {
        this.#cursor = i + 1;
        found = { socket: e.socket, message } as MergedMessage<S>;
      }
    }
    if (entries.some((e) => e.gone && e.slot === undefined)) {
      this.#entries = entries.filter((e) => !e.gone || e.slot !== undefined);
      this.#cursor = 0;
    }
    return found;
  }

  #arm(e: Entry<S>): void {
    e.armed = true;
    // No timeout: the sockets' receiveTimeout is for their own receive() calls.
    e.core.receive(this.#stop.signal, -1).then(
      (message) => {
        e.armed = false;
        if (this.#done) e.core.giveBack([message]);
        else e.slot = message as Message;
        this.#wakeUp();
      },
      (err) => {
        e.armed = false;
        if (this.#done) return;
        if (isTerm(err)) e.gone = true;
        else this.#error = err;
        this.#wakeUp();
      },
    );
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #fail(e: unknown): unknown {
    this.#finish();
    return e;
  }

  /** Ends the merge: withdraws its receives and gives back what it holds. */
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#stop.abort();
    for (const e of this.#entries) {
      if (e.slot !== undefined) e.core.giveBack([e.slot]);
      e.slot = undefined;
    }
    this.#wakeUp();
  }
}

/**
 * Receives from several sockets in one loop, fairly: each `next()` takes the
 * next message in turn from the sockets that have one (one socket cannot
 * starve the others), and waits — without polling — only when none has. The
 * sockets' `receiveTimeout` does not apply; `signal` bounds the wait. A
 * socket that closes leaves the merge; the merge ends when all have. An
 * error of one socket (e.g. `EFSM`) ends it by throwing.
 *
 * While a merge runs it takes each socket's messages first: do not also call
 * `receive()` on them. Nothing is lost when it ends: a message it had taken
 * and not handed out goes back to the head of its socket's queue.
 *
 * @example A worker that listens to jobs and to a control channel
 * ```ts
 * import { merge, PullSocket, PushSocket, SubSocket, PubSocket, text } from "@monocoque/zmtp";
 *
 * await using jobs = new PullSocket();
 * await jobs.bind("inproc://merge-doc-jobs");
 * await using control = new SubSocket();
 * control.subscribe();
 * control.connect("inproc://merge-doc-control");
 * await using boss = new PubSocket();
 * await boss.bind("inproc://merge-doc-control");
 * await using producer = new PushSocket();
 * producer.connect("inproc://merge-doc-jobs");
 *
 * await producer.send("job 1");
 * await boss.waitForSubscribers(1);
 * await boss.send("stop");
 * const done: string[] = [];
 * for await (const { socket, message } of merge([jobs, control])) {
 *   if (socket === control) break; // "stop"
 *   done.push(text(message[0]));
 * }
 * console.assert(done.length <= 1);
 * ```
 *
 * @param sockets The sockets to receive from, each at most once.
 * @param options `signal` ends the merge.
 * @returns An async iterator of `{ socket, message }`.
 */
export function merge<S extends Socket>(
  sockets: Iterable<S>,
  options?: MergeOptions,
): AsyncIterableIterator<MergedMessage<S>> {
  return new Merge(sockets, options?.signal);
}
