/**
 * The message framing of ZWS 2.0 (rfc.zeromq.org spec 45, as libzmq's
 * ws_decoder.cpp and ws_encoder.cpp implement it): each ZMTP frame is one
 * binary WebSocket message whose first octet holds the flags, MORE `0x01`
 * and COMMAND `0x02`, and whose rest is the frame's body. There is no
 * greeting: the WebSocket subprotocol (`ZWS2.0/NULL`, `ZWS2.0/PLAIN`,
 * `ZWS2.0/CURVE`, or bare `ZWS2.0`) negotiated the mechanism.
 *
 * The transport delivers whole messages, so the reader takes one message per
 * `feed()` and hands out its body as a view; the writer makes one array per
 * frame, which the transport sends as one message.
 *
 * @module
 */

import { BROKEN, FRAME, type FrameReader, type FrameWriter, NEED_MORE } from "./_framing.ts";
import type { Framing, PeerGreeting } from "./_framing.ts";
import { EMPTY_BYTES, FLAG_COMMAND, FLAG_MORE, type ViolationCode } from "./_wire.ts";

/** ZWS flag: more frames of this message follow. */
export const ZWS_MORE = 0x01;
/** ZWS flag: the frame is a command. */
export const ZWS_COMMAND = 0x02;

const NO_OUTPUT: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

/** Decodes one ZWS frame from each message. */
export class MessageReader implements FrameReader {
  #maxFrame: number;
  #message: Uint8Array = EMPTY_BYTES;
  #start = 0;
  #done = true;
  #flags = 0;
  #body: Uint8Array = EMPTY_BYTES;
  #error = "";
  #errorCode: ViolationCode = "EPROTO";
  #retains = false;

  /** @param maxFrame Largest accepted frame body, in octets (`Infinity` for none). */
  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
  }

  get flags(): number {
    return this.#flags;
  }

  get body(): Uint8Array {
    return this.#body;
  }

  get error(): string {
    return this.#error;
  }

  get errorCode(): ViolationCode {
    return this.#errorCode;
  }

  get retainsChunk(): boolean {
    return this.#retains;
  }

  get hasInput(): boolean {
    return !this.#done;
  }

  /** Takes one whole WebSocket message (from `start`). */
  feed(input: Uint8Array, start: number): void {
    this.#message = input;
    this.#start = start;
    this.#done = false;
    this.#retains = false;
  }

  next(): number {
    if (this.#done) return NEED_MORE;
    this.#done = true;
    const message = this.#message;
    const at = this.#start;
    this.#message = EMPTY_BYTES;
    // libzmq's ws_decoder_t refuses an empty binary message: it has no flags octet.
    if (message.length <= at) {
      return this.#broken("Empty WebSocket message: a ZWS frame starts with its flags octet");
    }
    const size = message.length - at - 1;
    // The limit counts the body, not the flags octet (ws_decoder.cpp flags_ready).
    if (size > this.#maxFrame) {
      return this.#broken(
        `Frame of ${size} octets exceeds the maximum message size of ${this.#maxFrame}`,
        "EMSGSIZE",
      );
    }
    const zws = message[at];
    // Reserved bits are ignored, as libzmq's flags_ready does.
    this.#flags = ((zws & ZWS_MORE) !== 0 ? FLAG_MORE : 0) |
      ((zws & ZWS_COMMAND) !== 0 ? FLAG_COMMAND : 0);
    this.#body = message.subarray(at + 1);
    this.#retains = size > 0;
    return FRAME;
  }

  #broken(reason: string, code: ViolationCode = "EPROTO"): number {
    this.#error = reason;
    this.#errorCode = code;
    return BROKEN;
  }
}

/** Encodes each frame as one message: the ZWS flags octet, then the body. */
export class MessageWriter implements FrameWriter {
  #queue: Uint8Array[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  writeFrame(flags: number, prefix: Uint8Array | undefined, body: Uint8Array): void {
    const prefixLength = prefix === undefined ? 0 : prefix.length;
    const message = new Uint8Array(1 + prefixLength + body.length);
    message[0] = ((flags & FLAG_MORE) !== 0 ? ZWS_MORE : 0) |
      ((flags & FLAG_COMMAND) !== 0 ? ZWS_COMMAND : 0);
    if (prefix !== undefined) message.set(prefix, 1);
    message.set(body, 1 + prefixLength);
    this.#queue.push(message);
    this.#size += message.length;
  }

  take(): Uint8Array[] {
    if (this.#queue.length === 0) return NO_OUTPUT;
    const out = this.#queue;
    this.#queue = [];
    this.#size = 0;
    return out;
  }
}

/** ZWS 2.0: one WebSocket message per frame, no greeting. */
export class MessageFraming implements Framing {
  readonly kind = "message";
  readonly hasGreeting = false;
  readonly legacySubscriptions = true;
  readonly greeting: PeerGreeting | undefined = undefined;
  readonly reader: MessageReader;
  readonly writer: MessageWriter = new MessageWriter();

  /** @param maxFrame Largest accepted frame body, in octets (`Infinity` for none). */
  constructor(maxFrame: number) {
    this.reader = new MessageReader(maxFrame);
  }

  start(): void {}

  receiveGreeting(): number {
    throw new Error("ZWS has no greeting");
  }
}
