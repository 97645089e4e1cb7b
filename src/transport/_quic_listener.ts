/**
 * The server side of `quic://`: a `Deno.QuicEndpoint` listening with the
 * socket's certificate, its QUIC handshakes run concurrently so that a peer
 * that starts one and stalls holds up nobody, and at most
 * {@linkcode MAX_HANDSHAKES} of them (and {@linkcode BACKLOG} finished but
 * not yet accepted connections) at a time: beyond that new peers are
 * refused, the ones already connected keep being served.
 *
 * Each accepted QUIC connection carries one ZMTP connection on the first
 * bidirectional stream its client opens: the transport parameters let a
 * client open one stream at a time and no unidirectional one, so a client
 * that tries to open many gets a stream-limit error on its side and costs
 * us nothing.
 *
 * The endpoint (the UDP socket) is closed when the listener is closed and
 * the last connection it accepted has ended: closing it earlier would cut
 * the connections still parting (see `_quic_connection.ts`).
 *
 * @module
 */

import { QuicConnection } from "./_quic_connection.ts";
import type { Listener } from "./types.ts";

/** QUIC handshakes in progress at once; more incoming connections are refused. */
export const MAX_HANDSHAKES = 64;
/** Finished handshakes waiting for `accept()`; more incoming connections are refused. */
export const BACKLOG = 128;

/** Turns a peer away; it may already be gone, which is no error of ours. */
function refuse(incoming: Deno.QuicIncoming): void {
  try {
    incoming.refuse();
  } catch {
    // Gone already.
  }
}

/** Everything the listener needs to know about its transport. */
export interface QuicServerInit {
  alpn: string;
  cert: string;
  key: string;
  transportOptions: Deno.QuicTransportOptions;
  format: (addr: Deno.NetAddr) => string;
}

/** A listening `quic://` endpoint. */
export class QuicServer implements Listener, Disposable {
  readonly endpoint: string;
  #endpoint: Deno.QuicEndpoint;
  #listener: Deno.QuicListener;
  #init: QuicServerInit;
  #ready: QuicConnection[] = [];
  #waiter: ((conn: QuicConnection | null) => void) | undefined;
  #handshakes = 0;
  #live = 0;
  #closed = false;
  #endpointClosed = false;

  /** @throws What `Deno.QuicEndpoint` and its `listen()` throw (address in use, bad PEM). */
  constructor(hostname: string, port: number, init: QuicServerInit) {
    this.#init = init;
    this.#endpoint = new Deno.QuicEndpoint({ hostname, port });
    try {
      this.#listener = this.#endpoint.listen({
        ...init.transportOptions,
        alpnProtocols: [init.alpn],
        cert: init.cert,
        key: init.key,
        // One ZMTP connection per QUIC connection: one stream, no others.
        maxConcurrentBidirectionalStreams: 1,
        maxConcurrentUnidirectionalStreams: 0,
      });
    } catch (err) {
      this.#endpoint.close();
      throw err;
    }
    this.endpoint = init.format(this.#endpoint.addr);
    this.#loop();
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      let incoming: Deno.QuicIncoming;
      try {
        incoming = await this.#listener.incoming();
      } catch {
        return; // the endpoint was closed
      }
      // Note: reading `incoming.remoteAddr` consumes it in Deno 2.9 (the op
      // takes the quinn `Incoming`), so nothing is asked of it but an answer.
      if (this.#closed || this.#handshakes >= MAX_HANDSHAKES || this.#ready.length >= BACKLOG) {
        refuse(incoming);
        continue;
      }
      this.#handshakes++;
      this.#handshake(incoming);
    }
  }

  async #handshake(incoming: Deno.QuicIncoming): Promise<void> {
    let conn: Deno.QuicConn;
    try {
      conn = await incoming.accept();
    } catch {
      // A failed or abandoned handshake (quinn ends it at the idle timeout).
      return;
    } finally {
      this.#handshakes--;
    }
    let remote: string;
    try {
      if (this.#closed || conn.protocol !== this.#init.alpn) {
        throw new Error(this.#closed ? "not listening" : "wrong ALPN");
      }
      remote = this.#init.format(conn.remoteAddr);
    } catch (err) {
      try {
        conn.close({ closeCode: 1, reason: (err as Error).message });
      } catch {
        // Already gone.
      }
      return;
    }
    this.#live++;
    const connection = new QuicConnection({
      conn,
      localEndpoint: this.endpoint,
      remoteEndpoint: remote,
      onClosed: () => {
        this.#live--;
        this.#maybeCloseEndpoint();
      },
    });
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter(connection);
    } else {
      this.#ready.push(connection);
    }
  }

  accept(): Promise<QuicConnection | null> {
    const next = this.#ready.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.stop();
    } catch {
      // Already stopped.
    }
    for (const conn of this.#ready.splice(0)) conn.close();
    this.#waiter?.(null);
    this.#waiter = undefined;
    this.#maybeCloseEndpoint();
  }

  #maybeCloseEndpoint(): void {
    if (!this.#closed || this.#live > 0 || this.#endpointClosed) return;
    this.#endpointClosed = true;
    try {
      this.#endpoint.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
