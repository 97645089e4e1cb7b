/**
 * The framing seam: how a session's ZMTP frames travel on a connection. A
 * session speaks in frames (flags, body) and delegates their wire form to one
 * of two framings:
 *
 * - the stream framing (`_stream_framing.ts`): the 64-octet ZMTP greeting,
 *   then length-prefixed frames on a byte stream (RFC 23/37 "Framing"), for
 *   tcp, ipc and inproc;
 * - the message framing (`_message_framing.ts`): ZWS 2.0 (rfc.zeromq.org
 *   spec 45), one WebSocket message per frame whose first octet carries the
 *   flags, no greeting (the WebSocket subprotocol negotiated the mechanism).
 *
 * Flags cross this seam in ZMTP's encoding, whatever the wire uses:
 * `FLAG_MORE` and `FLAG_COMMAND` of `_wire.ts`. The
 * interface is kept small on purpose so that a custom framing can implement
 * it later.
 *
 * @module
 */

import type { ViolationCode } from "./_wire.ts";

/** Result of {@linkcode FrameReader.next}: a frame is ready. */
export const FRAME = 1;
/** Result of {@linkcode FrameReader.next}: the input is used up, feed more. */
export const NEED_MORE = 0;
/** Result of {@linkcode FrameReader.next}: the input is broken, see `error`. */
export const BROKEN = -1;

/**
 * Decodes frames from what the connection delivers: byte chunks of a stream,
 * or whole messages. `feed()` one unit, then call `next()` until it is not
 * {@linkcode FRAME}.
 */
export interface FrameReader {
  /** Starts decoding `input` from offset `start`; the previous input must be used up. */
  feed(input: Uint8Array, start: number): void;
  /** Decodes the next frame: {@linkcode FRAME}, {@linkcode NEED_MORE} or {@linkcode BROKEN}. */
  next(): number;
  /** Flags of the frame last returned, as ZMTP's `FLAG_MORE` | `FLAG_COMMAND`. */
  readonly flags: number;
  /** Body of the frame last returned. */
  readonly body: Uint8Array;
  /** Why the input is broken, after `next()` returned {@linkcode BROKEN}. */
  readonly error: string;
  /** The libzmq code for `error`. */
  readonly errorCode: ViolationCode;
  /** Whether views of the current input were handed out or kept: it must not be overwritten. */
  readonly retainsChunk: boolean;
  /** Whether undecoded octets of the current input remain. */
  readonly hasInput: boolean;
}

/** Encodes frames into the units the connection writes: byte chunks, or one message per frame. */
export interface FrameWriter {
  /** Queues a frame whose body is `prefix` (if any) then `body`; flags as in {@linkcode FrameReader.flags}. */
  writeFrame(flags: number, prefix: Uint8Array | undefined, body: Uint8Array): void;
  /** Hands out everything queued, in order; nothing is written to the arrays afterwards. */
  take(): Uint8Array[];
  /** Octets waiting to be taken. */
  readonly size: number;
}

/** What the peer's ZMTP greeting said. */
export interface PeerGreeting {
  /** Its security mechanism name. */
  mechanism: string;
  /** 0 for ZMTP 3.0, 1 for 3.1 and later. */
  minorVersion: number;
  /** Its as-server octet. */
  asServer: boolean;
}

/** One connection's framing: a reader, a writer, and what precedes the first frame. */
export interface Framing {
  /** `"stream"` or `"message"`. */
  readonly kind: "stream" | "message";
  /** Decodes received input into frames. */
  readonly reader: FrameReader;
  /** Encodes frames to write. */
  readonly writer: FrameWriter;
  /** Whether a ZMTP greeting is exchanged before the first frame. */
  readonly hasGreeting: boolean;
  /**
   * Whether subscriptions go as `0x01`/`0x00`-prefixed messages whatever the
   * peer's version: ZWS 2.0 does (libzmq ws_encoder.cpp writes the
   * subscribe/cancel octet before the topic of a data frame).
   */
  readonly legacySubscriptions: boolean;
  /** Queues what precedes the first frame: our greeting, if the framing has one. */
  start(mechanism: string, asServer: boolean): void;
  /**
   * Reads greeting octets from `input` (from `start`), only while
   * {@linkcode Framing.hasGreeting}.
   *
   * @returns How many octets it took; `greeting` is set once the peer's is complete.
   * @throws {ProtocolViolation} For a greeting that is not ZMTP 3.
   */
  receiveGreeting(input: Uint8Array, start: number): number;
  /** The peer's greeting, once complete. */
  readonly greeting: PeerGreeting | undefined;
}
