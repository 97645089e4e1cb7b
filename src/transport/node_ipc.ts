/**
 * The IPC transport (`ipc:///path`) over `node:net` Unix domain sockets, for
 * Node ≥ 20 and Bun, with libzmq's handling of socket files like the Deno
 * transport in `ipc.ts`: a stale file left by a dead process is replaced on
 * bind, and the file is removed when the listener closes. `node:net` and
 * `node:fs` are imported on first use (see `_node_net.ts`).
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { formatIpc } from "./_address.ts";
import { type NodeFs, nodeModules, type NodeNet, type NodeSocket } from "./_node_net.ts";
import {
  listenServer,
  NodeConnection,
  NodeListener,
  nodeZmqError,
  openSocket,
} from "./_node_stream.ts";
import type {
  Connection,
  Endpoint,
  IpcEndpoint,
  Listener,
  Transport,
  TransportConnectOptions,
} from "./types.ts";

/**
 * The `ipc://` transport under Node and Bun.
 *
 * On `listen()`, an existing socket file that nobody accepts on (connecting
 * is refused) is removed and replaced; one with a live listener gives
 * `EADDRINUSE`, and so does a path that is not a socket. Closing the listener
 * removes its socket file. Unix peers are unnamed, so both endpoints of a
 * connection are reported as the bound path.
 *
 * @example Under Node or Bun
 * ```ts ignore
 * import { NodeIpcTransport } from "./node_ipc.ts";
 *
 * const ipc = new NodeIpcTransport();
 * const listener = await ipc.listen({ transport: "ipc", path: "/tmp/feed.sock" });
 * listener.close(); // removes /tmp/feed.sock
 * ```
 */
export class NodeIpcTransport implements Transport {
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
    const { net, fs } = await nodeModules();
    let server = net.createServer({ pauseOnConnect: true });
    try {
      await listenServer(server, { path });
    } catch (err) {
      server.close();
      if ((err as { code?: string })?.code !== "EADDRINUSE" || !(await isStale(net, fs, path))) {
        throw bindError(err, where, fs, path);
      }
      try {
        fs.unlinkSync(path);
      } catch (removeErr) {
        if ((removeErr as { code?: string })?.code !== "ENOENT") {
          throw nodeZmqError(removeErr, "EADDRINUSE", `Cannot remove stale socket '${path}'`);
        }
      }
      server = net.createServer({ pauseOnConnect: true });
      try {
        await listenServer(server, { path });
      } catch (again) {
        server.close();
        throw bindError(again, where, fs, path);
      }
    }
    const ino = inode(fs, path);
    const wrap = (socket: NodeSocket) => new NodeConnection(socket, where, where);
    return new NodeListener(server, where, wrap, () => removeIfOurs(fs, path, ino));
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
    const where = formatIpc(ipc);
    const { net } = await nodeModules();
    signal?.throwIfAborted();
    let socket: NodeSocket;
    try {
      socket = await openSocket(net, { path: ipc.path }, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw nodeZmqError(err, "ECONNREFUSED", `Cannot connect to '${where}'`);
    }
    return new NodeConnection(socket, where, where);
  }
}

function checkIpc(endpoint: Endpoint): IpcEndpoint {
  if (endpoint?.transport !== "ipc") {
    throw new ZmqError("EINVAL", `Not an ipc endpoint: ${endpoint?.transport}`);
  }
  return endpoint;
}

function bindError(err: unknown, where: string, fs: NodeFs, path: string): ZmqError {
  // ENOENT here is a missing directory, not a refused connection; libuv
  // reports it as EACCES (uv_pipe_bind), so look at the directory.
  const code = (err as { code?: string })?.code;
  if (code === "ENOENT" || (code === "EACCES" && !exists(fs, parentOf(path)))) {
    return new ZmqError("ENOENT", `Cannot bind to '${where}': ${(err as Error).message}`, {
      cause: err,
    });
  }
  return nodeZmqError(err, "EINVAL", `Cannot bind to '${where}'`);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

function exists(fs: NodeFs, path: string): boolean {
  try {
    fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A socket file is stale when connecting to it is refused: its listener is gone. */
async function isStale(net: NodeNet, fs: NodeFs, path: string): Promise<boolean> {
  try {
    if (!fs.lstatSync(path).isSocket()) return false;
  } catch (err) {
    return (err as { code?: string })?.code === "ENOENT";
  }
  try {
    const probe = await openSocket(net, { path }, undefined);
    probe.destroy();
    return false;
  } catch (err) {
    const code = (err as { code?: string })?.code;
    return code === "ECONNREFUSED" || code === "ENOENT";
  }
}

function inode(fs: NodeFs, path: string): number | bigint | null {
  try {
    return fs.lstatSync(path).ino;
  } catch {
    return null;
  }
}

/** Removes the socket file unless another listener has since replaced it. */
function removeIfOurs(fs: NodeFs, path: string, ino: number | bigint | null): void {
  try {
    const stat = fs.lstatSync(path);
    if (stat.isSocket() && (ino === null || stat.ino === ino)) fs.unlinkSync(path);
  } catch {
    // Already gone (Node's libuv unlinks it on close) or not ours to remove.
  }
}
