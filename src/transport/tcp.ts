/**
 * The TCP transport (`tcp://host:port`) over `Deno.listen` and
 * `Deno.connect`, with Nagle's algorithm off and small frames coalesced into
 * one write.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { formatTcp } from "./_address.ts";
import { StreamConnection, StreamListener, toZmqError } from "./_stream.ts";
import type {
  Connection,
  Endpoint,
  Listener,
  TcpEndpoint,
  Transport,
  TransportConnectOptions,
} from "./types.ts";

/**
 * The `tcp://` transport.
 *
 * `listen()` binds `*` to `0.0.0.0` (IPv4 only, like libzmq's default) and
 * resolves port 0 to a free port, reported in the listener's `endpoint`.
 * Connections have `TCP_NODELAY` set; runs of small buffers (under 16 KiB
 * each) passed to one `write()` are copied into one chunk and written with
 * one system call, larger ones are written as they are.
 *
 * @example Echo one message over loopback
 * ```ts
 * import { TcpTransport } from "./tcp.ts";
 *
 * const tcp = new TcpTransport();
 * const listener = await tcp.listen({ transport: "tcp", host: "127.0.0.1", port: 0 });
 * const port = Number(listener.endpoint.split(":").at(-1));
 * const [client, server] = await Promise.all([
 *   tcp.connect({ transport: "tcp", host: "127.0.0.1", port }),
 *   listener.accept(),
 * ]);
 * await client.write([new Uint8Array([1, 2, 3])]);
 * const buffer = new Uint8Array(16);
 * console.assert((await server!.read(buffer)) === 3);
 * client.close();
 * server!.close();
 * listener.close();
 * ```
 */
export class TcpTransport implements Transport {
  /**
   * Starts listening on a TCP endpoint.
   *
   * @param endpoint A `tcp` endpoint; host `*` means every IPv4 interface, port 0 any free port.
   * @returns The listener, whose `endpoint` has the wildcard and port resolved.
   * @throws {ZmqError} `EADDRINUSE`, `EADDRNOTAVAIL`, `EINVAL` (not a tcp endpoint or
   * an unusable host), `EACCES`.
   */
  listen(endpoint: Endpoint): Promise<Listener & Disposable> {
    try {
      return Promise.resolve(listenNow(endpoint));
    } catch (err) {
      return Promise.reject(err);
    }
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
      throw new ZmqError(
        "EINVAL",
        `Cannot connect to '${formatTcp(tcp)}': wildcard host or port`,
      );
    }
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: tcp.host, port: tcp.port, signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      // Deno reports a failed name lookup as a plain Error.
      const code = err instanceof Error && err.name === "Error" ? "EHOSTUNREACH" : "ECONNREFUSED";
      throw toZmqError(err, code, `Cannot connect to '${formatTcp(tcp)}'`);
    }
    if (signal?.aborted) {
      conn.close();
      throw signal.reason;
    }
    try {
      return wrap(conn);
    } catch (err) {
      conn.close();
      throw toZmqError(err, "ECONNRESET", `Cannot connect to '${formatTcp(tcp)}'`);
    }
  }
}

function listenNow(endpoint: Endpoint): StreamListener<Deno.TcpConn> {
  const tcp = checkTcp(endpoint);
  const hostname = tcp.host === "*" ? "0.0.0.0" : tcp.host;
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port: tcp.port, transport: "tcp" });
  } catch (err) {
    // Deno reports a failed name lookup as a plain Error.
    const code = err instanceof Error && err.name === "Error" ? "EADDRNOTAVAIL" : "EINVAL";
    throw toZmqError(err, code, `Cannot bind to '${formatTcp(tcp)}'`);
  }
  const addr = listener.addr;
  const bound = formatTcp({ transport: "tcp", host: addr.hostname, port: addr.port });
  return new StreamListener(listener, bound, wrap);
}

function checkTcp(endpoint: Endpoint): TcpEndpoint {
  if (endpoint?.transport !== "tcp") {
    throw new ZmqError("EINVAL", `Not a tcp endpoint: ${endpoint?.transport}`);
  }
  return endpoint;
}

function wrap(conn: Deno.TcpConn): StreamConnection {
  conn.setNoDelay(true);
  const local = conn.localAddr;
  const remote = conn.remoteAddr;
  return new StreamConnection(
    conn,
    localEndpoint(local.hostname, local.port),
    formatTcp({ transport: "tcp", host: remote.hostname, port: remote.port }),
  );
}

// Accepted connections share their listener's local address: one string for all of them.
let lastLocal = { host: "", port: -1, text: "" };

function localEndpoint(host: string, port: number): string {
  if (host !== lastLocal.host || port !== lastLocal.port) {
    lastLocal = { host, port, text: formatTcp({ transport: "tcp", host, port }) };
  }
  return lastLocal.text;
}
