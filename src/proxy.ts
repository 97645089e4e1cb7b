/**
 * `proxy()`: libzmq's zmq_proxy and zmq_proxy_steerable (src/proxy.cpp) as an
 * async function over the public socket API. Messages flow both ways between
 * a frontend and a backend socket, each direction taking the next message
 * only once the previous one was accepted by the other side, so nothing is
 * buffered between the two sockets beyond one message in hand per direction:
 * a PUSH/DEALER at its high-water mark holds reading back (and so the peers
 * upstream), a PUB/ROUTER drops as it always does. An optional capture socket
 * gets a copy of every forwarded message, and an optional control socket
 * takes libzmq's PAUSE, RESUME, TERMINATE and STATISTICS commands.
 *
 * @module
 */

import { ZmqError } from "./errors.ts";
import type { Message } from "./socket/_message.ts";
import { nextTurn } from "./socket/_slices.ts";
import { Socket } from "./socket/socket.ts";

/** Options for {@linkcode proxy}. */
export interface ProxyOptions {
  /**
   * Gets a copy of every message forwarded either way, multipart preserved
   * (libzmq's `capture`): a PUB, PUSH, DEALER or PAIR socket. A capture
   * socket that waits (PUSH at its high-water mark) holds the proxy back, as
   * in libzmq.
   */
  capture?: Socket;
  /**
   * Takes single-frame commands (libzmq's zmq_proxy_steerable): `PAUSE`,
   * `RESUME`, `TERMINATE`, `STATISTICS`. A REP socket replies to each with an
   * empty message, and to `STATISTICS` with the statistics; any other socket
   * (PAIR, ROUTER...) gets only the statistics. Unknown commands are ignored.
   */
  control?: Socket;
  /** Ends the proxy as `TERMINATE` does: the promise resolves. */
  signal?: AbortSignal;
}

/** Types whose `receive()` is ENOTSUP: never read, as libzmq's poller never reports POLLIN. */
const SEND_ONLY: ReadonlySet<string> = new Set(["PUB", "PUSH", "RADIO", "SCATTER"]);
/** Types that cannot send: nothing is read towards them (libzmq waits for POLLOUT that never comes). */
const RECEIVE_ONLY: ReadonlySet<string> = new Set(["SUB", "PULL", "DISH", "GATHER"]);
/** Messages forwarded one way before yielding to I/O, as libzmq's proxy_burst_size (config.hpp). */
const BURST = 1000;

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** Messages and bytes (summed over frames) through one side of the proxy. */
class Tally {
  frames = 0;
  bytes = 0;
  add(message: Message): void {
    this.frames += message.length;
    for (let i = 0; i < message.length; i++) this.bytes += message[i].byteLength;
  }
}

/** Whether `e` is the rejection of a call cancelled by `signal` (a `ZmqError` with the reason as cause). */
function isAbortOf(signal: AbortSignal, e: unknown): boolean {
  return signal.aborted &&
    (e === signal.reason || (e instanceof ZmqError && e.cause === signal.reason));
}

/**
 * One running proxy: a loop per direction that can flow, a control loop, and
 * the state they share.
 */
class Run {
  readonly #frontend: Socket;
  readonly #backend: Socket;
  readonly #capture: Socket | undefined;
  readonly #control: Socket | undefined;
  /** Aborted by TERMINATE, the caller's signal, or the first error: ends every wait. */
  readonly #stop = new AbortController();
  /** Aborted by PAUSE (and by #stop): ends the receives, a message in hand is still sent. */
  #active = new AbortController();
  /** While paused: resolved by RESUME or TERMINATE. */
  #resumed: PromiseWithResolvers<void> | undefined;
  #failure: { error: unknown } | undefined;
  readonly #frontendIn = new Tally();
  readonly #frontendOut = new Tally();
  readonly #backendIn = new Tally();
  readonly #backendOut = new Tally();

  constructor(frontend: Socket, backend: Socket, options: ProxyOptions) {
    this.#frontend = frontend;
    this.#backend = backend;
    this.#capture = options.capture;
    this.#control = options.control;
  }

  async run(signal: AbortSignal | undefined): Promise<void> {
    const f = this.#frontend, b = this.#backend;
    const loops: Promise<void>[] = [];
    if (!SEND_ONLY.has(f.type) && !RECEIVE_ONLY.has(b.type)) {
      loops.push(this.#forward(f, b, this.#frontendIn, this.#backendOut));
    }
    // The same socket on both sides (libzmq allows it) is one direction: its own replies.
    if (f !== b && !SEND_ONLY.has(b.type) && !RECEIVE_ONLY.has(f.type)) {
      loops.push(this.#forward(b, f, this.#backendIn, this.#frontendOut));
    }
    if (loops.length === 0) {
      throw new TypeError(`A proxy between ${f.type} and ${b.type} sockets has nothing to forward`);
    }
    if (this.#control !== undefined) loops.push(this.#steer(this.#control));
    const onAbort = () => this.#terminate();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await Promise.all(loops);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Ends every loop; with an error, `run()` rejects with it (the first one wins). */
  #terminate(failure?: { error: unknown }): void {
    if (this.#stop.signal.aborted) return;
    this.#failure = failure;
    this.#stop.abort();
    this.#active.abort();
    this.#resumed?.resolve();
  }

  /** One direction: receive, capture, send, and only then receive again. */
  async #forward(from: Socket, to: Socket, received: Tally, sent: Tally): Promise<void> {
    const stop = this.#stop.signal;
    let burst = 0;
    try {
      while (!stop.aborted) {
        if (this.#resumed !== undefined) {
          await this.#resumed.promise;
          continue;
        }
        const active = this.#active.signal;
        let message: Message;
        try {
          message = await from.receive({ signal: active });
        } catch (e) {
          if (isAbortOf(active, e)) continue; // paused or stopped: the message stays queued
          throw e;
        }
        received.add(message);
        // libzmq captures each frame just before forwarding it (proxy.cpp, forward()).
        if (this.#capture !== undefined) await this.#capture.send(message, { signal: stop });
        await to.send(message, { signal: stop });
        sent.add(message);
        // Queued messages resolve in microtasks: let I/O and the other loops in now and then.
        if (++burst === BURST) {
          burst = 0;
          await nextTurn();
        }
      }
    } catch (e) {
      if (!isAbortOf(stop, e)) this.#terminate({ error: e });
    }
  }

  /** The control socket: commands as handle_control() in libzmq's proxy.cpp. */
  async #steer(control: Socket): Promise<void> {
    const stop = this.#stop.signal;
    const rep = control.type === "REP";
    try {
      while (!stop.aborted) {
        const [command] = await control.receive({ signal: stop });
        switch (decoder.decode(command)) {
          case "PAUSE":
            this.#pause();
            break;
          case "RESUME":
            this.#resume();
            break;
          case "TERMINATE":
            // The REP's empty reply is queued before the proxy ends, so it leaves with linger.
            if (rep) await control.send(EMPTY, { signal: stop });
            this.#terminate();
            return;
          case "STATISTICS":
            await control.send(this.statistics(), { signal: stop });
            continue;
        }
        // libzmq 4.3.5 "satisfies REP duty": an empty reply to anything but STATISTICS.
        if (rep) await control.send(EMPTY, { signal: stop });
      }
    } catch (e) {
      if (!isAbortOf(stop, e)) this.#terminate({ error: e });
    }
  }

  #pause(): void {
    if (this.#resumed !== undefined || this.#stop.signal.aborted) return;
    this.#resumed = Promise.withResolvers();
    this.#active.abort();
  }

  #resume(): void {
    const resumed = this.#resumed;
    if (resumed === undefined || this.#stop.signal.aborted) return;
    this.#resumed = undefined;
    this.#active = new AbortController();
    resumed.resolve();
  }

  /**
   * The STATISTICS reply: eight 8-byte frames, frontend then backend, each
   * received count and bytes then sent count and bytes. libzmq memcpy()s
   * host-order uint64s (proxy.cpp, handle_control()); every platform Deno
   * runs on is little-endian, so that is what we write.
   */
  statistics(): Uint8Array[] {
    const values = [
      this.#frontendIn,
      this.#frontendOut,
      this.#backendIn,
      this.#backendOut,
    ].flatMap((t) => [t.frames, t.bytes]);
    return values.map((v) => {
      const frame = new Uint8Array(8);
      new DataView(frame.buffer).setBigUint64(0, BigInt(v), true);
      return frame;
    });
  }
}

function checkSocket(value: unknown, what: string): asserts value is Socket {
  if (!(value instanceof Socket)) throw new TypeError(`The ${what} must be a socket`);
}

/**
 * Forwards messages between two sockets, both ways, until stopped: libzmq's
 * zmq_proxy and zmq_proxy_steerable. Each direction takes a message from
 * one socket only once the other has accepted the previous one, so the
 * proxy buffers nothing beyond its sockets' own queues: a backend PUSH or
 * DEALER at its high-water mark stops the frontend being read (and, through
 * its high-water mark, the peers sending to it), while a PUB or ROUTER drops
 * as it always does. A socket that cannot receive (PUB, PUSH) is never read
 * and nothing is read towards a socket that cannot send (SUB, PULL); the
 * same socket may be both frontend and backend. The Guide's shapes are a
 * ROUTER/DEALER queue, an XSUB/XPUB forwarder (subscriptions flow back from
 * the XPUB) and a PULL/PUSH streamer.
 *
 * The `control` socket steers the proxy with libzmq 4.3.5's commands:
 * `PAUSE` stops taking messages (a message already taken is still
 * delivered), `RESUME` goes on, `TERMINATE` ends the proxy, and `STATISTICS`
 * replies with eight little-endian uint64 frames: frames and bytes received
 * by the frontend, sent by the frontend, received by the backend, sent by the
 * backend (each frame of a multipart message counts, as libzmq 4.3.5 and the
 * zmq_proxy_steerable page say; libzmq 4.3.4 counted whole messages). A REP
 * control socket gets an empty reply to every other command.
 *
 * The proxy never closes the sockets. Give them no `receiveTimeout` or
 * `sendTimeout` (the defaults): libzmq's proxy polls and never times out,
 * while here a timeout ends a wait with `EAGAIN`, which ends the proxy.
 *
 * @param frontend The socket the requests come in on (conceptually; the proxy is symmetric).
 * @param backend The socket they go out on.
 * @param options `capture`, `control` and `signal`.
 * @returns Resolves when `TERMINATE` arrives or `signal` is aborted. Rejects
 *   with the first error of a socket operation, as libzmq's zmq_proxy returns
 *   -1: a `ZmqError` with code `ETERM` once one of the sockets is closed
 *   (libzmq's answer when the context is terminated), `EHOSTUNREACH` from a
 *   `mandatory` ROUTER, `EAGAIN` from a socket's timeout. Pending waits are
 *   withdrawn first, so the sockets are free for other use afterwards (a
 *   message taken from one side and not yet accepted by the other is dropped).
 * @throws {TypeError} When an argument is not a socket, or the two sockets
 *   have nothing to forward (a PUB frontend with a PUSH backend).
 *
 * @example A PULL/PUSH streamer with a control socket
 * ```ts
 * import { PairSocket, proxy, PullSocket, PushSocket } from "@monocoque/zmtp";
 *
 * await using frontend = new PullSocket();
 * await frontend.bind("inproc://streamer-in");
 * await using backend = new PushSocket();
 * await backend.bind("inproc://streamer-out");
 * await using control = new PairSocket();
 * await control.bind("inproc://streamer-control");
 * const running = proxy(frontend, backend, { control });
 *
 * await using producer = new PushSocket();
 * producer.connect("inproc://streamer-in");
 * await using worker = new PullSocket();
 * worker.connect("inproc://streamer-out");
 * await producer.send("task 1");
 * const [task] = await worker.receive();
 * console.assert(new TextDecoder().decode(task) === "task 1");
 *
 * await using steer = new PairSocket();
 * steer.connect("inproc://streamer-control");
 * await steer.send("TERMINATE");
 * await running;
 * ```
 */
export async function proxy(
  frontend: Socket,
  backend: Socket,
  options: ProxyOptions = {},
): Promise<void> {
  checkSocket(frontend, "frontend");
  checkSocket(backend, "backend");
  if (options.capture !== undefined) checkSocket(options.capture, "capture");
  if (options.control !== undefined) checkSocket(options.control, "control");
  if (options.signal?.aborted) return;
  await new Run(frontend, backend, options).run(options.signal);
}
