/**
 * A {@linkcode ProtocolEngine} over a user {@linkcode Codec}: no greeting, no
 * handshake, no commands. It reports `ready` at once (at its first `tick()`,
 * or before the first bytes, whichever comes first), decodes messages while
 * the host can take them and pauses when it cannot, enforces the protocol's
 * bound on buffered input and the socket's `maxMessageSize`, and turns a
 * codec's exception into an `EPROTO` error event. Sans-IO, like the ZMTP
 * session it stands beside.
 *
 * @module
 */

import type { EngineContext, ProtocolEngine } from "../protocol/engine.ts";
import type { PeerInfo, SessionEvent, SessionPhase } from "../protocol/session.ts";
import type { SocketType } from "../protocol/socket_type.ts";
import type { Codec } from "./codec.ts";

/** Default bound on a codec's buffered input. */
export const DEFAULT_MAX_BUFFERED = 1024 * 1024;

const NO_EVENTS: SessionEvent[] = Object.freeze([]) as unknown as SessionEvent[];

/** How a {@linkcode CodecEngine} is set up, besides the pipe's context. */
export interface CodecEngineOptions {
  /** The codec of this connection. */
  codec: Codec;
  /** The protocol's name, for error reasons. */
  name: string;
  /** The peer type reported in `ready` (the engine cannot learn it). */
  peerType: SocketType;
  /** Most octets the codec may buffer; default {@linkcode DEFAULT_MAX_BUFFERED}. */
  maxBuffered?: number;
}

/** A protocol engine that runs a {@linkcode Codec}. */
export class CodecEngine implements ProtocolEngine {
  #phase: SessionPhase = "handshake";
  #peer: PeerInfo | undefined;
  #codec: Codec;
  #name: string;
  #peerType: SocketType;
  #maxBuffered: number;
  #maxMessageSize: number;
  #start: number;
  #events: SessionEvent[] = [];
  #out: Uint8Array[] = [];
  #outSize = 0;
  #held = false;
  #onMessage: ((frames: Uint8Array[]) => void) | undefined;
  #canDeliver: (() => boolean) | undefined;

  constructor(context: EngineContext, options: CodecEngineOptions) {
    this.#codec = options.codec;
    this.#name = options.name;
    this.#peerType = options.peerType;
    this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.#maxMessageSize = context.maxMessageSize;
    this.#start = context.now;
    this.#onMessage = context.onMessage;
    this.#canDeliver = context.canDeliver;
  }

  get phase(): SessionPhase {
    return this.#phase;
  }

  get peer(): PeerInfo | undefined {
    return this.#peer;
  }

  get outputSize(): number {
    return this.#outSize;
  }

  get paused(): boolean {
    return this.#held;
  }

  /** The codec may read the chunk until it is used up, i.e. while paused. */
  get retainsInput(): boolean {
    return this.#held;
  }

  receive(chunk: Uint8Array, _now: number): void {
    if (this.#phase === "closed") return;
    if (this.#held) throw new Error("Cannot receive while decoding is paused: call resume()");
    this.#ready();
    try {
      this.#codec.push(chunk);
    } catch (e) {
      this.#fail("EPROTO", e);
      return;
    }
    this.#decode();
  }

  resume(_now: number): void {
    if (this.#phase === "closed" || !this.#held) return;
    this.#decode();
  }

  tick(_now: number): void {
    if (this.#phase === "handshake") this.#ready();
  }

  /** Its start time until `ready` is out (so the host's timer reports it at once), then never. */
  nextTimeout(): number {
    return this.#phase === "handshake" ? this.#start : Infinity;
  }

  takeEvents(): SessionEvent[] {
    const events = this.#events;
    if (events.length === 0) return NO_EVENTS;
    this.#events = [];
    return events;
  }

  takeOutput(): Uint8Array[] {
    const out = this.#out;
    if (out.length === 0) return [];
    this.#out = [];
    this.#outSize = 0;
    return out;
  }

  send(frames: readonly Uint8Array[]): void {
    // Failed by an earlier encode: the error event ends the connection; later messages go nowhere.
    if (this.#phase === "closed") return;
    if (this.#phase !== "ready") throw new Error(`The ${this.#name} engine is not ready`);
    let bytes: Uint8Array[];
    try {
      bytes = this.#codec.encode(frames);
    } catch (e) {
      // Our side's fault, but the stream cannot go on without the message: end the connection.
      this.#fail("EPROTO", e);
      return;
    }
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i].length === 0) continue;
      this.#out.push(bytes[i]);
      this.#outSize += bytes[i].length;
    }
  }

  close(): void {
    this.#phase = "closed";
    this.#held = false;
  }

  #ready(): void {
    if (this.#phase !== "handshake") return;
    this.#phase = "ready";
    this.#peer = {
      socketType: this.#peerType,
      routingId: undefined,
      properties: new Map(),
      minorVersion: 0,
      mechanism: "",
    };
    this.#events.push({ type: "ready", peer: this.#peer });
  }

  /**
   * Decodes while the host can take messages. With flow control on, it stops
   * at a message boundary whenever an event waits (so messages never overtake
   * `ready`) or the host is full; the codec keeps the rest of its chunk.
   */
  #decode(): void {
    const codec = this.#codec;
    const canDeliver = this.#canDeliver;
    for (;;) {
      if (canDeliver !== undefined && (this.#events.length > 0 || !canDeliver())) {
        this.#held = true;
        return;
      }
      let message: Uint8Array[] | undefined;
      try {
        message = codec.next();
      } catch (e) {
        this.#fail("EPROTO", e);
        return;
      }
      if (message === undefined) break;
      if (this.#maxMessageSize >= 0) {
        let size = 0;
        for (let i = 0; i < message.length; i++) size += message[i].length;
        if (size > this.#maxMessageSize) {
          this.#fail("EMSGSIZE", new Error(`A ${this.#name} message is over maxMessageSize`));
          return;
        }
      }
      if (this.#onMessage !== undefined && this.#events.length === 0) this.#onMessage(message);
      else this.#events.push({ type: "message", frames: message });
      if (this.#phase === "closed") return;
    }
    this.#held = false;
    if (codec.buffered > this.#maxBuffered) {
      this.#fail(
        "EMSGSIZE",
        new Error(
          `The peer's incomplete ${this.#name} message is over ${this.#maxBuffered} octets`,
        ),
      );
    }
  }

  #fail(code: "EPROTO" | "EMSGSIZE", error: unknown): void {
    this.#phase = "closed";
    this.#held = false;
    const reason = error instanceof Error ? error.message : String(error);
    this.#events.push({ type: "error", kind: "protocol", code, reason });
  }
}
