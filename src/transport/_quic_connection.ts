/**
 * A {@linkcode Connection} over one bidirectional QUIC stream: the ZMTP byte
 * stream runs unchanged on it, one QUIC connection per ZMTP connection.
 *
 * The server learns of the stream only when the client first writes on it
 * (QUIC announces a stream with its first data), so a server connection
 * starts without one and `read()`/`write()` wait for it; a client that never
 * opens it is ended by the socket's handshake deadline, like one that never
 * sends a greeting.
 *
 * Closing: `Deno.QuicConn.close()` drops whatever is still unsent, unlike a
 * TCP close. So `close()` ends our sending side (FIN) after the queued
 * writes, reads (and discards) until the peer ends its side too, and only
 * then closes the QUIC connection; a peer that never does is cut off after
 * {@linkcode CLOSE_MS}. A Monocoque peer ends its side as soon as it reads
 * our FIN, so two peers part within a round trip.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import { EMPTY, gatherWrites, returnGather } from "./_gather.ts";
import type { Connection } from "./types.ts";

/** Longest wait in `close()` for the peer to end its side before the connection is cut. */
export const CLOSE_MS = 2000;

/** The QUIC application error code of a connection we cut (0: no error). */
export const CLOSE_ABORTED = 1;

/** What a connection is built from: a QUIC connection, and its stream when already open. */
export interface QuicConnectionInit {
  conn: Deno.QuicConn;
  /** The client's stream; servers wait for the first one the client opens. */
  stream?: Deno.QuicBidirectionalStream;
  localEndpoint: string;
  remoteEndpoint: string;
  /** Called once the QUIC connection is closed: releases its endpoint. */
  onClosed: () => void;
}

/** Maps a QUIC error (a plain `Error` from quinn) to `ECONNRESET` unless it is one already. */
function resetError(err: unknown, context: string): ZmqError {
  if (err instanceof ZmqError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ZmqError("ECONNRESET", `${context}: ${message}`, { cause: err });
}

/** One ZMTP connection: a bidirectional stream of its own QUIC connection. */
export class QuicConnection implements Connection, Disposable {
  readonly remoteEndpoint: string;
  readonly localEndpoint: string;
  #conn: Deno.QuicConn;
  #ready: Promise<boolean>;
  #reader: ReadableStreamBYOBReader | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** Our scratch buffer for BYOB reads: the caller's buffer must never be detached. */
  #scratch: ArrayBuffer = new ArrayBuffer(64 * 1024);
  /** Bytes read but not yet handed out (the caller's buffer was smaller). */
  #left: Uint8Array = EMPTY;
  /** The peer ended its side of the stream. */
  #eof = false;
  #closed = false;
  #gone = false;
  #onClosed: () => void;

  constructor(init: QuicConnectionInit) {
    this.#conn = init.conn;
    this.localEndpoint = init.localEndpoint;
    this.remoteEndpoint = init.remoteEndpoint;
    this.#onClosed = init.onClosed;
    // The connection ends one way or another (closed by either side, idle
    // timeout, endpoint closed): then its endpoint is released.
    init.conn.closed.then(this.#released, this.#released);
    this.#ready = init.stream !== undefined
      ? Promise.resolve(this.#take(init.stream))
      : this.#firstStream();
  }

  #released = (): void => {
    if (this.#gone) return;
    this.#gone = true;
    this.#closed = true;
    this.#onClosed();
  };

  async #firstStream(): Promise<boolean> {
    // Nothing here may reject: #ready is awaited only once the socket reads or writes.
    let incoming: ReadableStreamDefaultReader<Deno.QuicBidirectionalStream> | undefined;
    try {
      incoming = this.#conn.incomingBidirectionalStreams.getReader();
      const { value } = await incoming.read();
      if (value === undefined || this.#closed) return false;
      return this.#take(value);
    } catch {
      return false;
    } finally {
      incoming?.releaseLock();
    }
  }

  #take(stream: Deno.QuicBidirectionalStream): boolean {
    this.#reader = stream.readable.getReader({ mode: "byob" });
    this.#writer = stream.writable.getWriter();
    // Rejections surface through read() and write(); these only must not go unhandled.
    this.#writer.closed.catch(() => {});
    this.#reader.closed.catch(() => {});
    return true;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    if (this.#left.length > 0) return this.#copyOut(buffer, this.#left);
    if (this.#closed || !(await this.#ready) || this.#closed) return null;
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      const size = Math.min(buffer.length, this.#scratch.byteLength);
      result = await this.#reader!.read(new Uint8Array(this.#scratch, 0, size));
    } catch (err) {
      if (this.#closed) return null;
      throw resetError(err, "Read failed");
    }
    const view = result.value;
    if (view !== undefined) this.#scratch = view.buffer as ArrayBuffer;
    if (result.done || view === undefined) {
      this.#eof = true;
      return null;
    }
    if (this.#closed) return null;
    return this.#copyOut(buffer, view);
  }

  #copyOut(buffer: Uint8Array, data: Uint8Array): number {
    const n = Math.min(buffer.length, data.length);
    buffer.set(n === data.length ? data : data.subarray(0, n));
    // Leftovers are copied: the scratch buffer is read into again.
    this.#left = n === data.length ? EMPTY : data.slice(n);
    return n;
  }

  async write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#closed || !(await this.#ready) || this.#closed) {
      throw new ZmqError("ECONNRESET", "Write on a closed connection");
    }
    const units = gatherWrites(buffers);
    let i = 0;
    try {
      for (; i < units.length; i++) {
        const unit = units[i];
        try {
          await this.#writer!.write(unit);
        } finally {
          returnGather(unit);
        }
      }
    } catch (err) {
      for (i++; i < units.length; i++) returnGather(units[i]);
      throw resetError(err, this.#closed ? "Connection closed during write" : "Write failed");
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#gone) return;
    if (this.#writer === undefined || this.#eof) {
      this.#cut(0);
      return;
    }
    this.#part();
  }

  /** Ends our side after the queued writes, waits (bounded) for the peer's end, then closes. */
  async #part(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), CLOSE_MS);
    });
    this.#writer!.close().catch(() => {});
    const drained = this.#drain();
    const parted = await Promise.race([drained, late]);
    clearTimeout(timer);
    this.#cut(parted ? 0 : CLOSE_ABORTED);
  }

  /** Reads and discards until the peer ends its side; false if the stream failed. */
  async #drain(): Promise<boolean> {
    const sink = new ArrayBuffer(16 * 1024);
    let view = new Uint8Array(sink);
    try {
      while (!this.#gone) {
        const { value, done } = await this.#reader!.read(view);
        if (done) return true;
        view = new Uint8Array(value!.buffer as ArrayBuffer);
      }
    } catch {
      // The connection is already gone, or the reader was released.
    }
    return false;
  }

  #cut(code: number): void {
    if (this.#gone) return;
    try {
      this.#conn.close({ closeCode: code, reason: code === 0 ? "" : "closed" });
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
