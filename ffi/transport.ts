/**
 * {@linkcode NativeTransport}: the `tcp://` and `ipc://` transport over
 * io_uring, through a {@linkcode NativeLibrary}.
 *
 * @module
 */

import { ZmqError } from "../src/errors.ts";
import { formatEndpoint } from "../src/transport/endpoint.ts";
import type {
  Connection,
  Endpoint,
  Listener,
  Transport,
  TransportConnectOptions,
} from "../src/transport/types.ts";
import { NativeConnection } from "./_connection.ts";
import { Errno, errnoError } from "./_errno.ts";
import { NativeListener, sockName } from "./_listener.ts";
import { cstr, type Ring, ringOf } from "./_ring.ts";
import type { NativeLibrary } from "./library.ts";

const BACKLOG = 1024;

/**
 * The `tcp://` and `ipc://` transport over io_uring: sockets, buffers and
 * the ring live in C (`libmonocoque.so`), JavaScript prepares submissions and
 * reads completions from shared memory. Pass it to a socket as its
 * `transport` option to opt in; it behaves like the built-in TCP and IPC
 * transports (same endpoints, errors and close semantics).
 *
 * `tcp://*:port` binds every IPv4 interface; port 0 picks a free port, which
 * the listener's `endpoint` reports. Connections have `TCP_NODELAY` set. For
 * `ipc://`, a stale socket file (nobody accepts on it) is replaced, the file
 * is removed when the listener closes, and both endpoints of a connection are
 * reported as the bound path. `inproc://` is not supported (`EPROTONOSUPPORT`).
 *
 * Needs `--allow-ffi`; with `--allow-net` the ring wakes the event loop
 * through a doorbell socket (faster), otherwise through a pool thread.
 *
 * Where it pays: a publisher (PUB, XPUB) writing to many peers, where one
 * `io_uring_enter` carries every peer's writes of a turn. Keep
 * latency-bound sockets (REQ, REP, request-reply DEALER/ROUTER) on the
 * default transport: each wake takes a longer path here (measured: about
 * half the round trips per second). On a single flow it ties the default
 * transport. The transport is chosen per socket, so a process can mix both;
 * `ffi/README.md` has the measurements.
 *
 * @example Echo over loopback (needs `--allow-ffi` and `deno task build:native`)
 * ```ts ignore
 * import { loadNative, NativeTransport } from "@monocoque/zmtp/native";
 *
 * await using native = loadNative();
 * if (native) {
 *   const transport = new NativeTransport(native);
 *   const listener = await transport.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
 *   const port = Number(listener.endpoint.split(":").at(-1));
 *   const [client, server] = await Promise.all([
 *     transport.connect({ transport: "tcp", host: "127.0.0.1", port }),
 *     listener.accept(),
 *   ]);
 *   await client.write([new TextEncoder().encode("hello")]);
 *   const buffer = new Uint8Array(64);
 *   console.assert((await server!.read(buffer)) === 5);
 *   client.close();
 *   server!.close();
 *   listener.close();
 * }
 * ```
 */
export class NativeTransport implements Transport {
  #ring: Ring;

  /**
   * Creates a transport over an open library. Closing the library closes
   * every listener and connection made through it.
   *
   * @param library The loaded native library (see {@linkcode loadNative}).
   */
  constructor(library: NativeLibrary) {
    this.#ring = ringOf(library);
  }

  /**
   * Starts listening on a `tcp` or `ipc` endpoint.
   *
   * @param endpoint Where to listen; host `*` means every IPv4 interface, port 0 any free port.
   * @returns The listener, whose `endpoint` has the wildcard and port resolved.
   * @throws {ZmqError} `EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`, `ENOENT` (missing ipc
   * directory), `EINVAL`, `EPROTONOSUPPORT` (`inproc`), `ETERM` (library closed).
   */
  async listen(endpoint: Endpoint): Promise<Listener & Disposable> {
    checkEndpoint(endpoint);
    const ring = this.#ring;
    ring.checkOpen();
    await ring.ready();
    ring.checkOpen();
    const where = formatEndpoint(endpoint);
    const { sym, ctx } = ring;
    if (endpoint.transport === "tcp") {
      const host = endpoint.host === "*" ? "0.0.0.0" : endpoint.host;
      const fd = sym.mq_tcp_listen(ctx, cstr(host), endpoint.port, BACKLOG);
      if (fd < 0) throw errnoError(-fd, `Cannot bind to '${where}'`, ring.describe, "EINVAL");
      const bound = sockName(ring, fd, false);
      if (bound === undefined) {
        ring.closeFd(fd);
        throw new ZmqError("EINVAL", `Cannot bind to '${where}': no local address`);
      }
      return new NativeListener(ring, fd, bound);
    }
    const path = (endpoint as { path: string }).path;
    const fd = sym.mq_ipc_listen(ctx, cstr(path), BACKLOG);
    if (fd < 0) {
      throw errnoError(-fd, `Cannot bind to '${where}'`, ring.describe, "EINVAL", {
        [Errno.ENOENT]: "ENOENT",
      });
    }
    return new NativeListener(ring, fd, where, path, sym.mq_file_id(cstr(path)));
  }

  /**
   * Connects to a `tcp` or `ipc` endpoint.
   *
   * @param endpoint Where to connect; a `tcp` endpoint needs a concrete host and port.
   * @param options `signal` aborts the attempt; the promise then rejects with its reason.
   * @returns The connection.
   * @throws {ZmqError} `ECONNREFUSED`, `EHOSTUNREACH` (unknown host or no route),
   * `ETIMEDOUT`, `EINVAL`, `EPROTONOSUPPORT` (`inproc`), `ETERM` (library closed).
   */
  async connect(
    endpoint: Endpoint,
    options?: TransportConnectOptions,
  ): Promise<Connection & Disposable> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    checkEndpoint(endpoint);
    const where = formatEndpoint(endpoint);
    if (endpoint.transport === "tcp" && (endpoint.host === "*" || endpoint.port === 0)) {
      throw new ZmqError("EINVAL", `Cannot connect to '${where}': wildcard host or port`);
    }
    const ring = this.#ring;
    ring.checkOpen();
    await ring.ready();
    ring.checkOpen();
    signal?.throwIfAborted();
    const { sym, ctx } = ring;
    const op = ring.allocOp();
    const fd = endpoint.transport === "tcp"
      ? sym.mq_tcp_socket(ctx, op, cstr(endpoint.host), endpoint.port)
      : sym.mq_ipc_socket(ctx, op, cstr((endpoint as { path: string }).path));
    if (fd < 0) {
      ring.releaseOp(op);
      throw errnoError(-fd, `Cannot connect to '${where}'`, ring.describe, "EINVAL", {
        [Errno.EADDRNOTAVAIL]: "EHOSTUNREACH",
      });
    }
    const rc = sym.mq_prep_connect(ctx, op, fd);
    if (rc < 0) {
      ring.releaseOp(op);
      ring.closeFd(fd);
      throw errnoError(-rc, `Cannot connect to '${where}'`, ring.describe, "EINVAL");
    }
    const abort = () => {
      ring.cancel(op);
      ring.flushNow();
    };
    let result: NativeConnection | number;
    try {
      signal?.addEventListener("abort", abort, { once: true });
      result = await new Promise<NativeConnection | number>((resolve) => {
        // Runs while reaping: the fd becomes a tracked connection (or is
        // closed) at once, so a library closing meanwhile cannot leak it.
        ring.start(op, (res) => {
          if (res < 0 || ring.closed || signal?.aborted) {
            ring.closeFd(fd);
            resolve(res < 0 ? res : -Errno.ECANCELED);
            return;
          }
          if (endpoint.transport === "tcp") {
            sym.mq_nodelay(fd);
            const local = sockName(ring, fd, false);
            const remote = sockName(ring, fd, true);
            if (local === undefined || remote === undefined) {
              ring.closeFd(fd);
              resolve(-Errno.ECONNRESET);
              return;
            }
            resolve(new NativeConnection(ring, fd, local, remote));
          } else {
            resolve(new NativeConnection(ring, fd, where, where));
          }
        });
      });
    } finally {
      signal?.removeEventListener("abort", abort);
    }
    if (typeof result === "number") {
      if (signal?.aborted) throw signal.reason;
      if (ring.closed) throw new ZmqError("ETERM", "The native library is closed");
      throw errnoError(-result, `Cannot connect to '${where}'`, ring.describe, "ECONNREFUSED");
    }
    if (signal?.aborted) {
      result.close();
      throw signal.reason;
    }
    if (ring.closed) {
      result.close();
      throw new ZmqError("ETERM", "The native library is closed");
    }
    return result;
  }
}

function checkEndpoint(endpoint: Endpoint): void {
  if (endpoint?.transport !== "tcp" && endpoint?.transport !== "ipc") {
    throw new ZmqError(
      "EPROTONOSUPPORT",
      `The native transport supports tcp:// and ipc:// only, not ${endpoint?.transport}`,
    );
  }
}
