/**
 * The IPC transport (`ipc:///path`) over Unix domain sockets, with libzmq's
 * handling of socket files: a stale file left by a dead process is replaced
 * on bind, and the file is removed when the listener closes.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { formatIpc } from "./_address.ts";
import { StreamConnection, StreamListener, toZmqError } from "./_stream.ts";
import type {
  Connection,
  Endpoint,
  IpcEndpoint,
  Listener,
  Transport,
  TransportConnectOptions,
} from "./types.ts";

/**
 * The `ipc://` transport (Unix domain sockets; needs `--allow-read`,
 * `--allow-write` and `--allow-net`).
 *
 * On `listen()`, an existing socket file that nobody accepts on (connecting
 * is refused) is removed and replaced; one with a live listener gives
 * `EADDRINUSE`, and so does a path that is not a socket. Closing the listener
 * removes its socket file. Unix peers are unnamed, so both endpoints of a
 * connection are reported as the bound path.
 *
 * @example Connect and accept over a Unix socket
 * ```ts
 * import { IpcTransport } from "./ipc.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const ipc = new IpcTransport();
 * const listener = await ipc.listen({ transport: "ipc", path: `${dir}/sock` });
 * const [client, server] = await Promise.all([
 *   ipc.connect({ transport: "ipc", path: `${dir}/sock` }),
 *   listener.accept(),
 * ]);
 * console.assert(listener.endpoint === `ipc://${dir}/sock`);
 * client.close();
 * server!.close();
 * listener.close();
 * await Deno.remove(dir);
 * ```
 */
export class IpcTransport implements Transport {
  /**
   * Starts listening on a Unix socket path, replacing a stale socket file.
   *
   * @param endpoint An `ipc` endpoint.
   * @returns The listener; its `endpoint` is `ipc://` and the path as given.
   * @throws {ZmqError} `EADDRINUSE` (someone listens there, or the path is
   * not a socket), `ENOENT` (missing directory), `EACCES`, `EINVAL` (path too long).
   */
  async listen(endpoint: Endpoint): Promise<Listener & Disposable> {
    const ipc = checkIpc(endpoint);
    const { path } = ipc;
    const where = formatIpc(ipc);
    let listener: Deno.UnixListener;
    try {
      listener = listenUnix(path, where);
    } catch (err) {
      if (!(err instanceof ZmqError && err.code === "EADDRINUSE")) throw err;
      if (!(await isStale(path))) throw err;
      try {
        await Deno.remove(path);
      } catch (removeErr) {
        if (!(removeErr instanceof Deno.errors.NotFound)) {
          throw toZmqError(removeErr, "EADDRINUSE", `Cannot remove stale socket '${path}'`);
        }
      }
      listener = listenUnix(path, where);
    }
    const ino = inode(path);
    const wrapConn = (conn: Deno.UnixConn) => new StreamConnection(conn, where, where);
    return new StreamListener(listener, where, wrapConn, () => removeIfOurs(path, ino));
  }

  /**
   * Connects to a Unix socket path.
   *
   * @param endpoint An `ipc` endpoint.
   * @param options `signal` aborts the attempt; the promise then rejects with its reason.
   * @returns The connection.
   * @throws {ZmqError} `ECONNREFUSED` (no socket file, or nobody accepts on it), `EACCES`.
   */
  async connect(
    endpoint: Endpoint,
    options?: TransportConnectOptions,
  ): Promise<Connection & Disposable> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    const ipc = checkIpc(endpoint);
    const { path } = ipc;
    const where = formatIpc(ipc);
    const attempt = Deno.connect({ transport: "unix", path });
    let conn: Deno.UnixConn;
    try {
      conn = signal ? await abortable(attempt, signal) : await attempt;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw toZmqError(err, "ECONNREFUSED", `Cannot connect to '${where}'`);
    }
    return new StreamConnection(conn, where, where);
  }
}

function checkIpc(endpoint: Endpoint): IpcEndpoint {
  if (endpoint?.transport !== "ipc") {
    throw new ZmqError("EINVAL", `Not an ipc endpoint: ${endpoint?.transport}`);
  }
  return endpoint;
}

function listenUnix(path: string, where: string): Deno.UnixListener {
  try {
    return Deno.listen({ transport: "unix", path });
  } catch (err) {
    // NotFound here is a missing directory, not a refused connection.
    if (err instanceof Deno.errors.NotFound) {
      throw new ZmqError("ENOENT", `Cannot bind to '${where}': ${err.message}`, { cause: err });
    }
    throw toZmqError(err, "EINVAL", `Cannot bind to '${where}'`);
  }
}

/** A socket file is stale when connecting to it is refused: its listener is gone. */
async function isStale(path: string): Promise<boolean> {
  try {
    if (!(await Deno.lstat(path)).isSocket) return false;
  } catch (err) {
    return err instanceof Deno.errors.NotFound;
  }
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close();
    return false;
  } catch (err) {
    return err instanceof Deno.errors.ConnectionRefused || err instanceof Deno.errors.NotFound;
  }
}

function inode(path: string): number | null {
  try {
    return Deno.lstatSync(path).ino;
  } catch {
    return null;
  }
}

/** Removes the socket file unless another listener has since replaced it. */
function removeIfOurs(path: string, ino: number | null): void {
  try {
    const stat = Deno.lstatSync(path);
    if (stat.isSocket && (ino === null || stat.ino === ino)) Deno.removeSync(path);
  } catch {
    // Already gone (Deno 2.9 unlinks it itself on close) or not ours to remove.
  }
}

/** Races `attempt` against `signal`; a connection that arrives after the abort is closed. */
function abortable(attempt: Promise<Deno.UnixConn>, signal: AbortSignal): Promise<Deno.UnixConn> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    attempt.then(
      (conn) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) conn.close();
        else resolve(conn);
      },
      (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
