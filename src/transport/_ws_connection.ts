/**
 * A {@linkcode Connection} over a WHATWG `WebSocket` (the client's, or the
 * server's from `Deno.upgradeWebSocket`): message framing for ZWS 2.0. Each
 * binary message received is queued for `readMessage()`; each buffer given
 * to `write()` is sent as one binary message.
 *
 * The WHATWG API has no receive backpressure: the peer's messages arrive
 * whether or not the socket reads them. So what waits unread is bounded
 * ({@linkcode MAX_QUEUED_BYTES}, {@linkcode MAX_QUEUED_MESSAGES}); a peer
 * that outruns us past it is dropped. A text message is not ZWS (libzmq's
 * ws_decoder.cpp refuses every opcode but binary, close, ping and pong): it
 * drops the connection too. On send, `write()` settles only once the
 * browser's or Deno's send buffer (`bufferedAmount`) is down to
 * {@linkcode SEND_BUFFER}, so a peer that stops reading stalls our writes
 * instead of growing that buffer without bound.
 *
 * @module
 */

import { ZmqError } from "../errors.ts";
import type { Connection } from "./types.ts";

/** Unread octets we hold for a peer before dropping it. */
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** Unread messages (frames) we hold for a peer before dropping it. */
export const MAX_QUEUED_MESSAGES = 64 * 1024;
/** Octets the WebSocket may buffer for sending before `write()` waits. */
export const SEND_BUFFER = 1024 * 1024;
/** Longest pause between two looks at `bufferedAmount`, which has no event. */
const MAX_POLL_MS = 20;

/** The subprotocol a server picks among the client's for its mechanism, or undefined. */
export function chooseSubprotocol(offered: string[], mechanism: string): string | undefined {
  const wanted = mechanism === "NULL" ? ["ZWS2.0/NULL", "ZWS2.0"] : [`ZWS2.0/${mechanism}`];
  return wanted.find((name) => offered.includes(name));
}

/** The mechanism a subprotocol stands for; `""` for bare ZWS2.0. */
export function mechanismOf(protocol: string): string {
  return protocol === "ZWS2.0" ? "" : protocol.slice("ZWS2.0/".length);
}

/** A ZWS connection over a `WebSocket` that is already open. */
export class WsConnection implements Connection, Disposable {
  readonly framing = "message";
  readonly remoteEndpoint: string;
  readonly localEndpoint: string;
  readonly mechanism: string;
  #ws: WebSocket;
  #queue: Uint8Array[] = [];
  #head = 0;
  #queuedBytes = 0;
  #closed = false;
  #error: ZmqError | undefined;
  #wake: (() => void) | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * @param ws An open WebSocket whose `binaryType` may still be the default.
   * @param mechanism The negotiated mechanism, `""` for bare ZWS2.0.
   */
  constructor(ws: WebSocket, mechanism: string, localEndpoint: string, remoteEndpoint: string) {
    this.#ws = ws;
    this.mechanism = mechanism;
    this.localEndpoint = localEndpoint;
    this.remoteEndpoint = remoteEndpoint;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (event) => this.#onMessage(event.data);
    ws.onclose = () => this.#end();
    ws.onerror = () => this.#end();
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    if (!(data instanceof ArrayBuffer)) {
      this.#fail("The peer sent a text WebSocket message: ZWS carries binary ones only");
      return;
    }
    const message = new Uint8Array(data);
    this.#queuedBytes += message.length;
    this.#queue.push(message);
    if (
      this.#queuedBytes > MAX_QUEUED_BYTES || this.#queue.length - this.#head > MAX_QUEUED_MESSAGES
    ) {
      this.#fail("The peer sent more than we hold unread: a WebSocket cannot slow it down");
      return;
    }
    this.#signal();
  }

  #fail(reason: string): void {
    this.#error = new ZmqError("EPROTO", reason);
    this.close();
  }

  #end(): void {
    this.#closed = true;
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Not a byte stream: use `readMessage()`. */
  read(_buffer: Uint8Array): Promise<number | null> {
    return Promise.reject(new TypeError("A WebSocket connection is read with readMessage()"));
  }

  async readMessage(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#head < this.#queue.length) {
        const message = this.#queue[this.#head];
        (this.#queue as (Uint8Array | undefined)[])[this.#head++] = undefined;
        this.#queuedBytes -= message.length;
        if (this.#head === this.#queue.length) {
          this.#queue = [];
          this.#head = 0;
        } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        return message;
      }
      if (this.#closed) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  write(buffers: readonly Uint8Array[]): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new ZmqError("ECONNRESET", "Write on a closed connection"));
    }
    const result = this.#tail.then(() => this.#send(buffers));
    this.#tail = result.catch(() => {});
    return result;
  }

  async #send(buffers: readonly Uint8Array[]): Promise<void> {
    const ws = this.#ws;
    for (const buffer of buffers) {
      if (this.#closed || ws.readyState !== WebSocket.OPEN) {
        throw new ZmqError("ECONNRESET", "Connection closed during write");
      }
      ws.send(buffer);
    }
    // bufferedAmount has no event: look again after a pause that grows while it stays high.
    let pause = 1;
    while (ws.bufferedAmount > SEND_BUFFER) {
      if (this.#closed) throw new ZmqError("ECONNRESET", "Connection closed during write");
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(MAX_POLL_MS, pause * 2);
    }
  }

  close(): void {
    if (this.#closed && this.#ws.readyState >= WebSocket.CLOSING) return;
    this.#closed = true;
    try {
      this.#ws.close();
    } catch {
      // Closing already.
    }
    this.#signal();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
