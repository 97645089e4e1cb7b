/**
 * The TCP transport (`tcp://host:port`) over `node:net`, for Node ≥ 20 and
 * Bun: Nagle's algorithm off and small frames coalesced into one write, like
 * the Deno transport in `tcp.ts`. `node:net` is imported on the first
 * `listen()` or `connect()` (see `_node_net.ts`), never at load.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { formatTcp } from "./_address.ts";
import { nodeModules, type NodeSocket } from "./_node_net.ts";
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
  Listener,
  TcpEndpoint,
  Transport,
  TransportConnectOptions,
} from "./types.ts";

/**
 * The `tcp://` transport under Node and Bun.
 *
 * `listen()` binds `*` to `0.0.0.0` (IPv4 only, like libzmq's default) and
 * resolves port 0 to a free port, reported in the listener's `endpoint`.
 * Connections have `TCP_NODELAY` set. Error codes are those of the Deno
 * transport: `EADDRINUSE`, `EADDRNOTAVAIL`, `ECONNREFUSED`, `EHOSTUNREACH`.
 *
 * @example Under Node or Bun
 * ```ts ignore
 * import { NodeTcpTransport } from "./node_tcp.ts";
 *
 * const tcp = new NodeTcpTransport();
 * const listener = await tcp.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
 * console.log(listener.endpoint); // "tcp://127.0.0.1:40123"
 * listener.close();
 * ```
 */
export class NodeTcpTransport implements Transport {
  /**
   * Starts listening on a TCP endpoint.
   *
   * @param endpoint A `tcp` endpoint; host `*` means every IPv4 interface, port 0 any free port.
   * @returns The listener, whose `endpoint` has the wildcard and port resolved.
   * @throws {ZmqError} `EADDRINUSE`, `EADDRNOTAVAIL`, `EINVAL`, `EACCES`.
   */
  async listen(endpoint: Endpoint): Promise<Listener & Disposable> {
    const tcp = checkTcp(endpoint);
    const { net } = await nodeModules();
    const host = tcp.host === "*" ? "0.0.0.0" : tcp.host;
    const server = net.createServer({ pauseOnConnect: true });
    try {
      await listenServer(server, { host, port: tcp.port });
    } catch (err) {
      server.close();
      // A host name that does not resolve is not an address of ours.
      const code = (err as { code?: string })?.code;
      const fallback = code === "ENOTFOUND" || code === "EAI_AGAIN" ? "EADDRNOTAVAIL" : "EINVAL";
      throw nodeZmqError(err, fallback, `Cannot bind to '${formatTcp(tcp)}'`);
    }
    const address = server.address();
    const bound = typeof address === "object" && address !== null
      ? formatTcp({ transport: "tcp", host: address.address, port: address.port })
      : formatTcp(tcp);
    return new NodeListener(server, bound, wrap);
  }

  /**
   * Connects to a TCP endpoint.
   *
   * @param endpoint A `tcp` endpoint with a concrete host and a non-zero port.
   * @param options `signal` aborts the attempt; the promise then rejects with its reason.
   * @returns The connection.
   * @throws {ZmqError} `ECONNREFUSED`, `EHOSTUNREACH` (host name not resolved),
   * `ETIMEDOUT`, `EINVAL` (wildcard host or port 0).
   */
  async connect(
    endpoint: Endpoint,
    options?: TransportConnectOptions,
  ): Promise<Connection & Disposable> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    const tcp = checkTcp(endpoint);
    if (tcp.host === "*" || tcp.port === 0) {
      throw new ZmqError("EINVAL", `Cannot connect to '${formatTcp(tcp)}': wildcard host or port`);
    }
    const { net } = await nodeModules();
    signal?.throwIfAborted();
    let socket: NodeSocket;
    try {
      socket = await openSocket(net, { host: tcp.host, port: tcp.port }, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const code = (err as { code?: string })?.code;
      const fallback = code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "EHOSTUNREACH"
        : "ECONNREFUSED";
      throw nodeZmqError(err, fallback, `Cannot connect to '${formatTcp(tcp)}'`);
    }
    try {
      return wrap(socket);
    } catch (err) {
      socket.destroy();
      throw nodeZmqError(err, "ECONNRESET", `Cannot connect to '${formatTcp(tcp)}'`);
    }
  }
}

function checkTcp(endpoint: Endpoint): TcpEndpoint {
  if (endpoint?.transport !== "tcp") {
    throw new ZmqError("EINVAL", `Not a tcp endpoint: ${endpoint?.transport}`);
  }
  return endpoint;
}

function wrap(socket: NodeSocket): NodeConnection {
  if (socket.remoteAddress === undefined || socket.destroyed) {
    throw new ZmqError("ECONNRESET", "The peer went away before the connection was set up");
  }
  socket.setNoDelay(true);
  return new NodeConnection(
    socket,
    formatTcp({ transport: "tcp", host: socket.localAddress ?? "", port: socket.localPort ?? 0 }),
    formatTcp({ transport: "tcp", host: socket.remoteAddress, port: socket.remotePort ?? 0 }),
  );
}
