/**
 * The `shm://NAME` transport of `./native`: ZMTP over shared-memory rings
 * between processes of one host, and (through `src/transport/shm_worker.ts`)
 * between Workers of this process. The native binder listens on a Unix socket whose path derives from
 * NAME ({@linkcode rendezvousPath}); for each connection it accepts it
 * creates a sealed memfd holding two rings (`_shm_ring.ts`) and sends the
 * connecter a 16-byte hello naming it (`/proc/<pid>/fd/<fd>`, ring capacity).
 * The connecter maps it and answers with one doorbell byte; from then on the
 * Unix connection only carries wake-ups and end of stream
 * (`_shm_connection.ts`).
 *
 * Which rings a connection uses is decided without any race: a binder serves
 * both (the host's Unix socket and offers from Workers of its process); a
 * connecter that loaded `./native` connects to the host's name first, in
 * whichever process it is bound, and only if no process binds it natively
 * (`ECONNREFUSED`) looks for a binder in a Worker of this process that did
 * not load `./native`. A connecter without `./native` uses the Worker rings
 * only.
 *
 * @module
 */

import { ZmqError } from "../src/errors.ts";
import { IpcTransport } from "../src/transport/ipc.ts";
import {
  checkShm,
  formatShm,
  parseShm,
  SHM_WORKER_SCHEME,
  type ShmEndpoint,
  ShmWorkerTransport,
} from "../src/transport/shm_worker.ts";
import type {
  Connection,
  Listener,
  Transport,
  TransportConnectOptions,
  TransportScheme,
} from "../src/transport/types.ts";
import { mergeListeners } from "./_shm_merge.ts";
import { Errno } from "./_errno.ts";
import { acquireShm, releaseShm, shmAvailable } from "./_shm_library.ts";
import { Mapping, ShmConnection } from "./_shm_connection.ts";
import { CAPACITY, mappingSize } from "./_shm_ring.ts";
import type { ShmSymbols } from "./_symbols.ts";

export type { ShmEndpoint };

const MAGIC = 0x4853514d; // "MQSH" little-endian
const HELLO = 16;
/** How long a connecter waits for the binder's hello before giving up. */
const HELLO_TIMEOUT = 5000;
/** The largest ring a connecter agrees to map. */
const MAX_CAPACITY = 64 * 1024 * 1024;

/** The Unix socket a name meets at (a Unix socket path is at most 107 bytes: names are short). */
export function rendezvousPath(name: string): string {
  return `/tmp/monocoque-shm-${name}.sock`;
}

const ipc = new IpcTransport();
const workers = new ShmWorkerTransport();
/**
 * How long a connecter that found no host binder waits for one in a Worker
 * of this process before `ECONNREFUSED` (the socket then retries both).
 */
const WORKER_WAIT = 250;

/** A bound shm name: accepts on its Unix socket and sets up a mapping per connection. */
class ShmListener implements Listener, Disposable {
  readonly endpoint: string;
  #unix: Listener;
  #symbols: ShmSymbols;
  #closed = false;

  constructor(unix: Listener, symbols: ShmSymbols, endpoint: string) {
    this.#unix = unix;
    this.#symbols = symbols;
    this.endpoint = endpoint;
  }

  async accept(): Promise<Connection | null> {
    for (;;) {
      const bell = await this.#unix.accept();
      if (bell === null) return null;
      if (this.#closed) {
        bell.close();
        return null;
      }
      try {
        return await this.#setUp(bell);
      } catch {
        bell.close(); // out of memory or descriptors for this one: keep serving the others
      }
    }
  }

  async #setUp(bell: Connection): Promise<Connection> {
    const symbols = acquireShm();
    let mapping: Mapping;
    try {
      const size = mappingSize(CAPACITY);
      const fd = new Int32Array(1);
      const pointer = symbols.mq_shm_create(size, fd);
      if (pointer === null) {
        throw new ZmqError(
          "EINVAL",
          `Cannot create shared memory: errno ${symbols.mq_shm_errno()}`,
        );
      }
      mapping = new Mapping(symbols, pointer, size, CAPACITY, fd[0]);
    } catch (err) {
      releaseShm();
      throw err;
    }
    const hello = new Uint32Array([MAGIC, Deno.pid, mapping.fd, CAPACITY]);
    try {
      await bell.write([new Uint8Array(hello.buffer)]);
    } catch (err) {
      mapping.release();
      throw err;
    }
    return new ShmConnection(mapping, "binder", bell, this.endpoint);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unix.close();
    releaseShm();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The `shm://` transport (needs the native library and `--allow-ffi`, plus
 * `--allow-read`, `--allow-write` and `--allow-net` for the rendezvous socket).
 */
export class ShmTransport implements Transport<ShmEndpoint> {
  /**
   * Binds a name on this host.
   *
   * @param endpoint An `shm` endpoint.
   * @returns The listener; its `endpoint` is `shm://NAME`.
   * @throws {ZmqError} `EADDRINUSE` if a live process has bound the name.
   */
  async listen(endpoint: ShmEndpoint): Promise<Listener & Disposable> {
    const shm = checkShm(endpoint);
    const symbols = acquireShm();
    let host: ShmListener;
    try {
      const unix = await ipc.listen({ transport: "ipc", path: rendezvousPath(shm.name) });
      host = new ShmListener(unix, symbols, formatShm(shm));
    } catch (err) {
      releaseShm();
      if (err instanceof ZmqError) {
        throw new ZmqError(err.code, err.message.replace(/ipc:\/\/\S+/, formatShm(shm)), {
          cause: err,
        });
      }
      throw err;
    }
    try {
      return mergeListeners(host, await workers.listen(shm));
    } catch (err) {
      host.close(); // releases the library reference it holds
      throw err;
    }
  }

  /**
   * Connects to a bound name and maps its rings; if no process binds it
   * natively, to a binder in a Worker of this process.
   *
   * @param endpoint An `shm` endpoint.
   * @param options `signal` aborts the attempt.
   * @returns The connection.
   * @throws {ZmqError} `ECONNREFUSED` when nobody binds the name, `ETIMEDOUT`
   * when the binder sends no hello, `EPROTO` when the binder's hello or
   * memory is not what this transport sets up.
   */
  async connect(endpoint: ShmEndpoint, options?: TransportConnectOptions): Promise<Connection> {
    const shm = checkShm(endpoint);
    const where = formatShm(shm);
    let bell: Connection;
    try {
      bell = await ipc.connect({ transport: "ipc", path: rendezvousPath(shm.name) }, options);
    } catch (err) {
      if (options?.signal?.aborted) throw err;
      try {
        return await workers.connect(shm, { ...options, within: WORKER_WAIT });
      } catch (inProcess) {
        if (options?.signal?.aborted) throw inProcess;
      }
      throw new ZmqError("ECONNREFUSED", `Cannot connect to '${where}'`, { cause: err });
    }
    let hello: Uint32Array;
    try {
      hello = await readHello(bell, options?.signal);
    } catch (err) {
      bell.close();
      throw err;
    }
    const [magic, pid, fd, capacity] = hello;
    if (
      magic !== MAGIC || capacity < 4096 || capacity > MAX_CAPACITY ||
      (capacity & (capacity - 1)) !== 0
    ) {
      bell.close();
      throw new ZmqError("EPROTO", `The binder of '${where}' sent a malformed hello`);
    }
    const symbols = acquireShm();
    const size = mappingSize(capacity);
    const path = new TextEncoder().encode(`/proc/${pid}/fd/${fd}\0`);
    const pointer = symbols.mq_shm_open(path, size);
    if (pointer === null) {
      const errno = symbols.mq_shm_errno();
      releaseShm();
      bell.close();
      throw new ZmqError(
        errno === Errno.EACCES ? "EACCES" : "EPROTO",
        `Cannot map the shared memory of '${where}': errno ${errno}`,
      );
    }
    const connection = new ShmConnection(
      new Mapping(symbols, pointer, size, capacity, -1),
      "connecter",
      bell,
      where,
    );
    await bell.write([new Uint8Array([1])]).catch(() => {}); // "mapped": the binder closes its memfd
    return connection;
  }
}

/** Reads the binder's 16-byte hello, bounded by `signal` and {@linkcode HELLO_TIMEOUT}. */
async function readHello(bell: Connection, signal?: AbortSignal): Promise<Uint32Array> {
  const bytes = new Uint8Array(HELLO);
  let timedOut = false;
  const stop = () => bell.close();
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, HELLO_TIMEOUT);
  signal?.addEventListener("abort", stop, { once: true });
  try {
    let got = 0;
    while (got < HELLO) {
      const n = await bell.read(bytes.subarray(got));
      if (n === null) {
        signal?.throwIfAborted();
        if (timedOut) {
          throw new ZmqError(
            "ETIMEDOUT",
            `The shm binder sent no hello within ${HELLO_TIMEOUT} ms`,
          );
        }
        throw new ZmqError("ECONNREFUSED", "The shm binder closed before its hello");
      }
      got += n;
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
  }
  return new Uint32Array(bytes.buffer);
}

/**
 * The registry row of `shm://` that `./native` installs: host-wide rings
 * plus the Worker rings where the native library loads; where it does not
 * (not built, no `--allow-ffi`), the main entry's Worker rings alone.
 */
export const SHM_SCHEME: TransportScheme<ShmEndpoint> = {
  parse: parseShm,
  format: formatShm,
  transport: (() => {
    let made: Transport<ShmEndpoint> | undefined;
    return () => made ??= shmAvailable() ? new ShmTransport() : SHM_WORKER_SCHEME.transport();
  })(),
};
