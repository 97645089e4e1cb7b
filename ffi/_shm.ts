/**
 * The `shm://NAME` transport: ZMTP over shared-memory rings between processes
 * of one host. The binder listens on a Unix socket whose path derives from
 * NAME ({@linkcode rendezvousPath}); for each connection it accepts it
 * creates a sealed memfd holding two rings (`_shm_ring.ts`) and sends the
 * connecter a 16-byte hello naming it (`/proc/<pid>/fd/<fd>`, ring capacity).
 * The connecter maps it and answers with one doorbell byte; from then on the
 * Unix connection only carries wake-ups and end of stream
 * (`_shm_connection.ts`).
 *
 * @module
 */

import { ZmqError } from "../src/errors.ts";
import { invalid } from "../src/transport/_address.ts";
import { IpcTransport } from "../src/transport/ipc.ts";
import type {
  Connection,
  EndpointBase,
  EndpointUse,
  Listener,
  Transport,
  TransportConnectOptions,
  TransportScheme,
} from "../src/transport/types.ts";
import { Errno } from "./_errno.ts";
import { acquireShm, releaseShm, shmAvailable } from "./_shm_library.ts";
import { Mapping, ShmConnection } from "./_shm_connection.ts";
import { CAPACITY, mappingSize } from "./_shm_ring.ts";
import type { ShmSymbols } from "./_symbols.ts";

/** A parsed `shm://NAME` endpoint. */
export interface ShmEndpoint extends EndpointBase {
  /** The scheme, always `"shm"`. */
  readonly transport: "shm";
  /** The name shared by binder and connecters on this host. */
  readonly name: string;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
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

function parseShm(address: string, _use: EndpointUse, endpoint: string): ShmEndpoint {
  if (!NAME.test(address)) {
    throw invalid(endpoint, "an shm name is 1 to 64 letters, digits, '.', '_' or '-'");
  }
  return { transport: "shm", name: address };
}

function formatShm(endpoint: ShmEndpoint): string {
  return `shm://${endpoint.name}`;
}

function check(endpoint: EndpointBase): ShmEndpoint {
  if (endpoint?.transport !== "shm") {
    throw new ZmqError("EINVAL", `Not an shm endpoint: ${endpoint?.transport}`);
  }
  return endpoint as ShmEndpoint;
}

const ipc = new IpcTransport();

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
    const shm = check(endpoint);
    const symbols = acquireShm();
    try {
      const unix = await ipc.listen({ transport: "ipc", path: rendezvousPath(shm.name) });
      return new ShmListener(unix, symbols, formatShm(shm));
    } catch (err) {
      releaseShm();
      if (err instanceof ZmqError) {
        throw new ZmqError(err.code, err.message.replace(/ipc:\/\/\S+/, formatShm(shm)), {
          cause: err,
        });
      }
      throw err;
    }
  }

  /**
   * Connects to a bound name and maps its rings.
   *
   * @param endpoint An `shm` endpoint.
   * @param options `signal` aborts the attempt.
   * @returns The connection.
   * @throws {ZmqError} `ECONNREFUSED` when nobody binds the name, `ETIMEDOUT`
   * when the binder sends no hello, `EPROTO` when the binder's hello or
   * memory is not what this transport sets up.
   */
  async connect(endpoint: ShmEndpoint, options?: TransportConnectOptions): Promise<Connection> {
    const shm = check(endpoint);
    const where = formatShm(shm);
    let bell: Connection;
    try {
      bell = await ipc.connect({ transport: "ipc", path: rendezvousPath(shm.name) }, options);
    } catch (err) {
      if (options?.signal?.aborted) throw err;
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
 * The registry row of `shm://`: a transport only where the native library
 * loads (else bind and connect are `EPROTONOSUPPORT`).
 */
export const SHM_SCHEME: TransportScheme<ShmEndpoint> = {
  parse: parseShm,
  format: formatShm,
  transport: (() => {
    let made: ShmTransport | undefined;
    return () => made ??= shmAvailable() ? new ShmTransport() : undefined;
  })(),
};
