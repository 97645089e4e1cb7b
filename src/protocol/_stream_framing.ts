/**
 * The stream framing of ZMTP (RFC 23/37): the 64-octet greeting, then
 * length-prefixed frames on a byte stream, for tcp, ipc and inproc. It puts
 * the incremental {@linkcode FrameDecoder}, the {@linkcode OutputBuffer} and
 * the greeting behind the {@linkcode Framing} seam.
 *
 * @module
 */

import { FrameDecoder } from "./_frame_decoder.ts";
import type { Framing, PeerGreeting } from "./_framing.ts";
import {
  AS_SERVER_OFFSET,
  checkGreeting,
  encodeGreeting,
  greetingMechanism,
  greetingMinorVersion,
} from "./_greeting.ts";
import { OutputBuffer } from "./_output_buffer.ts";
import { GREETING_SIZE, ProtocolViolation } from "./_wire.ts";

/** The greeting buffer once the greeting is in. */
const DONE = new Uint8Array(0);

/**
 * Our greetings, by mechanism and role: every connection of a socket sends
 * the same 64 octets (copied into the output), so each is encoded once.
 */
const greetings = new Map<string, [Uint8Array | undefined, Uint8Array | undefined]>();

function ourGreeting(mechanism: string, asServer: boolean): Uint8Array {
  let pair = greetings.get(mechanism);
  if (pair === undefined) {
    pair = [undefined, undefined];
    // Names are 1 to 20 checked characters: few, but bound the map anyway.
    if (greetings.size < 16) greetings.set(mechanism, pair);
  }
  return pair[asServer ? 1 : 0] ??= encodeGreeting(mechanism, asServer);
}

/** Greeting plus ZMTP frames on a byte stream. */
export class StreamFraming implements Framing {
  readonly kind = "stream";
  readonly hasGreeting = true;
  readonly legacySubscriptions = false;
  readonly reader: FrameDecoder;
  readonly writer: OutputBuffer = new OutputBuffer();
  #greeting: PeerGreeting | undefined;
  #received = new Uint8Array(GREETING_SIZE);
  #have = 0;

  /** @param maxFrame Largest accepted frame body, in octets (`Infinity` for none). */
  constructor(maxFrame: number) {
    this.reader = new FrameDecoder(maxFrame);
  }

  get greeting(): PeerGreeting | undefined {
    return this.#greeting;
  }

  start(mechanism: string, asServer: boolean): void {
    this.writer.writeRaw(ourGreeting(mechanism, asServer));
  }

  receiveGreeting(input: Uint8Array, start: number): number {
    const received = this.#received;
    const have = this.#have;
    const take = Math.min(GREETING_SIZE - have, input.length - start);
    received.set(input.subarray(start, start + take), have);
    this.#have = have + take;
    // Checked as octets arrive: a non-ZMTP peer is refused at its first wrong octet.
    const problem = checkGreeting(received, have, have + take);
    if (problem !== undefined) throw new ProtocolViolation(problem);
    if (have + take === GREETING_SIZE) {
      this.#greeting = {
        mechanism: greetingMechanism(received),
        minorVersion: greetingMinorVersion(received),
        asServer: received[AS_SERVER_OFFSET] !== 0,
      };
      // Not needed again: an idle connection keeps no greeting buffer.
      this.#received = DONE;
    }
    return take;
  }
}
