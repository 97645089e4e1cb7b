/**
 * The `shm://NAME` transport between Deno Workers of one process (and
 * between sockets of one isolate): ZMTP over two byte rings in a
 * `SharedArrayBuffer` (`_shm_worker_connection.ts`), woken with
 * `Atomics.waitAsync`/`Atomics.notify`. No FFI and no permission: only web
 * APIs, so the main entry registers it.
 *
 * Rendezvous: Workers of one process share `BroadcastChannel`s, and a
 * `SharedArrayBuffer` posted on one is shared, not copied. A connecter
 * allocates the connection's memory and posts an offer naming NAME; a binder
 * of NAME takes it with a compare-and-swap on the offer's state word (so of
 * two answers exactly one wins) and wakes the connecter. Nothing answers
 * "nobody binds it": as with `inproc://`, a connect waits until some Worker
 * binds the name (every bind posts a notice, and waiting connecters offer
 * again), and the socket's `connectTimeout` or close ends the wait. A binder
 * or connecter in the same isolate is met directly, without the channel.
 *
 * The channel is open only while this isolate binds a name or waits to
 * connect, so it keeps no process alive once everything is closed.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { invalid } from "./_address.ts";
import { mappingSize } from "./_shm_ring.ts";
import {
  ACCEPTED,
  CONTROL_BYTES,
  OFFERED,
  ShmWorkerConnection,
  STATE,
  WITHDRAWN,
} from "./_shm_worker_connection.ts";
import type {
  Connection,
  EndpointBase,
  EndpointUse,
  Listener,
  Transport,
  TransportConnectOptions,
  TransportScheme,
} from "./types.ts";

/**
 * A parsed `shm://NAME` endpoint.
 *
 * @example
 * ```ts
 * import type { ShmEndpoint } from "./shm_worker.ts";
 *
 * const endpoint: ShmEndpoint = { transport: "shm", name: "feed" };
 * console.assert(endpoint.name === "feed");
 * ```
 */
export interface ShmEndpoint extends EndpointBase {
  /** The scheme, always `"shm"`. */
  readonly transport: "shm";
  /** The name shared by binder and connecters (in this process, or on this host with `./native`). */
  readonly name: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** Data bytes per ring and direction of a Worker connection (a power of two). */
export const WORKER_CAPACITY = 128 * 1024;
const CHANNEL = "monocoque-shm/1";

/** Parses the NAME of `shm://NAME`: 1 to 64 letters, digits, `.`, `_` or `-`, not starting with `.` or `-`. */
export function parseShm(address: string, _use: EndpointUse, endpoint: string): ShmEndpoint {
  if (!NAME.test(address)) {
    throw invalid(endpoint, "an shm name is 1 to 64 letters, digits, '.', '_' or '-'");
  }
  return { transport: "shm", name: address };
}

/** Writes an shm endpoint back as `shm://NAME`. */
export function formatShm(endpoint: ShmEndpoint): string {
  return `shm://${endpoint.name}`;
}

/** Throws `EINVAL` for an endpoint of another scheme. */
export function checkShm(endpoint: EndpointBase): ShmEndpoint {
  if (endpoint?.transport !== "shm") {
    throw new ZmqError("EINVAL", `Not an shm endpoint: ${endpoint?.transport}`);
  }
  return endpoint as ShmEndpoint;
}

/** Whether this runtime can share memory between Workers and wait on it without blocking. */
export function hasWorkerShm(): boolean {
  return typeof SharedArrayBuffer === "function" &&
    typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function" &&
    typeof BroadcastChannel === "function";
}

/** A connecter's offer: the connection's memory, posted to every isolate of the process. */
interface Offer {
  t: "offer";
  name: string;
  control: SharedArrayBuffer;
  rings: SharedArrayBuffer;
  capacity: number;
}

/** Posted by a bind, so that connecters waiting for the name offer again. */
interface BoundNotice {
  t: "bound";
  name: string;
}

/** A pending connect of this isolate. */
interface Pending {
  offer: Offer;
  /** Offers it to a binder of this isolate, which may take it (and settle the connect). */
  take(listener: ShmWorkerListener): void;
}

/** Names this isolate binds. */
const bound = new Map<string, ShmWorkerListener>();
/** Names this isolate waits to connect to → its pending offers. */
const pending = new Map<string, Set<Pending>>();
let channel: BroadcastChannel | undefined;
let users = 0;

/** Opens the process-wide channel on first use; {@linkcode unuse} closes it after the last. */
function use(): BroadcastChannel {
  users++;
  if (channel === undefined) {
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (event: MessageEvent) => onMessage(event.data);
    channel.onmessageerror = () => {};
  }
  return channel;
}

function unuse(): void {
  if (--users > 0 || channel === undefined) return;
  channel.close();
  channel = undefined;
}

/** Another isolate of this process posted something: never throws, whatever it posted. */
function onMessage(data: unknown): void {
  if (typeof data !== "object" || data === null) return;
  const message = data as {
    t?: unknown;
    name?: unknown;
    control?: unknown;
    rings?: unknown;
    capacity?: unknown;
  };
  if (typeof message.name !== "string") return;
  if (message.t === "bound") {
    for (const p of pending.get(message.name) ?? []) channel?.postMessage(p.offer);
    return;
  }
  if (message.t !== "offer") return;
  const listener = bound.get(message.name);
  if (listener === undefined) return;
  const { control, rings, capacity } = message;
  if (
    !(control instanceof SharedArrayBuffer) || control.byteLength !== CONTROL_BYTES ||
    !(rings instanceof SharedArrayBuffer) || typeof capacity !== "number" ||
    capacity < 4096 || capacity > 64 * 1024 * 1024 || (capacity & (capacity - 1)) !== 0 ||
    rings.byteLength !== mappingSize(capacity)
  ) {
    return;
  }
  listener.take(control, rings, capacity);
}

/** A bound name of this isolate: takes offers (from any isolate of the process). */
class ShmWorkerListener implements Listener, Disposable {
  readonly endpoint: string;
  #name: string;
  #backlog: ShmWorkerConnection[] = [];
  #accepting: ((conn: ShmWorkerConnection | null) => void)[] = [];
  #closed = false;

  constructor(name: string) {
    this.#name = name;
    this.endpoint = `shm://${name}`;
  }

  /**
   * Takes an offer if nobody took or withdrew it yet, and wakes a connecter
   * of another isolate; returns our end (a connecter of this isolate links
   * its own to it), or `undefined` if the offer was gone.
   */
  take(
    control: SharedArrayBuffer,
    rings: SharedArrayBuffer,
    capacity: number,
  ): ShmWorkerConnection | undefined {
    if (this.#closed) return undefined;
    const state = new Int32Array(control);
    if (Atomics.compareExchange(state, STATE, OFFERED, ACCEPTED) !== OFFERED) return undefined;
    const conn = new ShmWorkerConnection(control, rings, capacity, "binder", this.endpoint);
    Atomics.notify(state, STATE);
    const accept = this.#accepting.shift();
    if (accept !== undefined) accept(conn);
    else this.#backlog.push(conn);
    return conn;
  }

  accept(): Promise<Connection | null> {
    if (this.#closed) return Promise.resolve(null);
    const conn = this.#backlog.shift();
    if (conn !== undefined) return Promise.resolve(conn);
    return new Promise((resolve) => this.#accepting.push(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (bound.get(this.#name) === this) bound.delete(this.#name);
    for (const accept of this.#accepting) accept(null);
    this.#accepting = [];
    for (const conn of this.#backlog) conn.close(); // taken, never accepted: the connecter reads the end
    this.#backlog = [];
    unuse();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Options for {@linkcode ShmWorkerTransport.connect} beyond the transport's.
 * @internal
 */
export interface ShmWorkerConnectOptions extends TransportConnectOptions {
  /** Give up with `ECONNREFUSED` after this many ms without a binder (default: wait). */
  within?: number;
}

/**
 * The `shm://` transport between Workers (and sockets) of one process. A
 * name can be bound once per isolate (`EADDRINUSE` otherwise; across Workers
 * the first binder to take an offer serves it). A connect waits until a
 * binder takes its offer: abort it with `signal` (sockets do at close, or
 * after `connectTimeout`).
 *
 * @example Two ends in one isolate (across Workers it is the same)
 * ```ts
 * import { ShmWorkerTransport } from "./shm_worker.ts";
 *
 * const shm = new ShmWorkerTransport();
 * const listener = await shm.listen({ transport: "shm", name: "doc-worker" });
 * const client = await shm.connect({ transport: "shm", name: "doc-worker" });
 * const server = (await listener.accept())!;
 * await client.write([new TextEncoder().encode("hi")]);
 * const buffer = new Uint8Array(8);
 * console.assert((await server.read(buffer)) === 2);
 * client.close();
 * console.assert((await server.read(buffer)) === null);
 * server.close();
 * listener.close();
 * ```
 */
export class ShmWorkerTransport implements Transport<ShmEndpoint> {
  /**
   * Binds a name in this process.
   *
   * @param endpoint An `shm` endpoint.
   * @returns The listener; its `endpoint` is `shm://NAME`.
   * @throws {ZmqError} `EADDRINUSE` if this isolate binds the name already.
   */
  listen(endpoint: ShmEndpoint): Promise<Listener & Disposable> {
    let name: string;
    try {
      name = checkShm(endpoint).name;
    } catch (err) {
      return Promise.reject(err);
    }
    if (bound.has(name)) {
      return Promise.reject(
        new ZmqError("EADDRINUSE", `Endpoint 'shm://${name}' is already bound`),
      );
    }
    const listener = new ShmWorkerListener(name);
    bound.set(name, listener);
    use().postMessage({ t: "bound", name } satisfies BoundNotice);
    for (const p of pending.get(name) ?? []) p.take(listener);
    return Promise.resolve(listener);
  }

  /**
   * Offers a connection to whoever binds the name in this process, and waits
   * until one takes it.
   *
   * @param endpoint An `shm` endpoint.
   * @param options `signal` aborts the wait (the promise rejects with its reason).
   * @returns The connection.
   */
  connect(endpoint: ShmEndpoint, options?: ShmWorkerConnectOptions): Promise<Connection> {
    let name: string;
    try {
      options?.signal?.throwIfAborted();
      name = checkShm(endpoint).name;
    } catch (err) {
      return Promise.reject(err);
    }
    const where = `shm://${name}`;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const rings = new SharedArrayBuffer(mappingSize(WORKER_CAPACITY));
    const offer: Offer = { t: "offer", name, control, rings, capacity: WORKER_CAPACITY };
    const connection = () =>
      new ShmWorkerConnection(control, rings, WORKER_CAPACITY, "connecter", where);
    const binder = bound.get(name)?.take(control, rings, WORKER_CAPACITY);
    if (binder !== undefined) {
      const mine = connection();
      ShmWorkerConnection.link(mine, binder);
      return Promise.resolve(mine);
    }
    return this.#wait(name, offer, connection, options);
  }

  async #wait(
    name: string,
    offer: Offer,
    connection: () => ShmWorkerConnection,
    options?: ShmWorkerConnectOptions,
  ): Promise<Connection> {
    const state = new Int32Array(offer.control);
    const signal = options?.signal;
    // Settled by a binder of this isolate or our own withdrawal: a wake-up
    // posted to our own isolate by Atomics.notify might never run (see
    // _shm_worker_connection.ts), so those use a plain promise.
    let settle!: (binder: ShmWorkerConnection | undefined) => void;
    const here = new Promise<ShmWorkerConnection | undefined>((resolve) => settle = resolve);
    const withdraw = () => {
      // The notify only lets V8 drop our pending waitAsync (and the memory it holds).
      if (Atomics.compareExchange(state, STATE, OFFERED, WITHDRAWN) === OFFERED) {
        Atomics.notify(state, STATE);
      }
      settle(undefined);
    };
    const entry: Pending = {
      offer,
      take: (listener) => {
        const binder = listener.take(offer.control, offer.rings, offer.capacity);
        if (binder !== undefined) settle(binder);
      },
    };
    let set = pending.get(name);
    if (set === undefined) pending.set(name, set = new Set());
    set.add(entry);
    const timer = options?.within === undefined ? undefined : setTimeout(withdraw, options.within);
    signal?.addEventListener("abort", withdraw, { once: true });
    use().postMessage(offer);
    let binder: ShmWorkerConnection | undefined;
    try {
      // A binder of another isolate notifies the state word; our channel, open meanwhile, keeps
      // this isolate's event loop running until it does.
      while (Atomics.load(state, STATE) === OFFERED) {
        const waited = Atomics.waitAsync(state, STATE, OFFERED);
        if (!waited.async) continue;
        binder = await Promise.race([waited.value.then(() => undefined), here]);
        if (binder !== undefined) break;
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", withdraw);
      set.delete(entry);
      if (set.size === 0 && pending.get(name) === set) pending.delete(name);
      unuse();
    }
    if (Atomics.load(state, STATE) === ACCEPTED) {
      const mine = connection();
      if (binder !== undefined) ShmWorkerConnection.link(mine, binder);
      return mine;
    }
    signal?.throwIfAborted();
    throw new ZmqError("ECONNREFUSED", `Nothing binds 'shm://${name}' in this process`);
  }
}

/**
 * The registry row of `shm://` in the main entry: the Worker rings, on
 * runtimes that share memory between Workers. `@monocoque/zmtp/native`
 * replaces it with a row that also reaches other processes (`ffi/_shm.ts`).
 */
export const SHM_WORKER_SCHEME: TransportScheme<ShmEndpoint> = {
  parse: parseShm,
  format: formatShm,
  transport: (() => {
    let made: ShmWorkerTransport | undefined;
    return () => made ??= hasWorkerShm() ? new ShmWorkerTransport() : undefined;
  })(),
};
