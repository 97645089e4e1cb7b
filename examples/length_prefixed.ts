/**
 * A custom binary protocol on the Monocoque kernel: each frame is a 4-octet
 * big-endian header (bit 31: more frames follow; bits 0-30: the length)
 * then its bytes. The codec is about 80 lines of sans-IO code; `useProtocol`
 * gives it connections, reconnect, HWM, backpressure and events. Here a
 * ROUTER serves two DEALERs over tcp, and a plain TCP client that writes the
 * bytes by hand gets the same service.
 *
 *   deno run -A examples/length_prefixed.ts
 *
 * @module
 */

import { DealerSocket, RouterSocket, text } from "../mod.ts";
import { type Codec, type Protocol, useProtocol } from "../src/kernel/mod.ts";

const MORE = 0x8000_0000;

/** The length-prefixed codec; frames over `maxFrame` octets are refused before any is buffered. */
export class LengthPrefixedCodec implements Codec {
  readonly #maxFrame: number;
  /** Unconsumed input: the caller's chunk, or our own copy when a partial frame was kept. */
  #input: Uint8Array = new Uint8Array(0);
  #at = 0;
  /** Bytes of an incomplete frame (header included), copied out of the last chunk. */
  #partial: Uint8Array = new Uint8Array(0);
  /** Complete frames of a message still waiting for its last frame. */
  #frames: Uint8Array[] = [];
  #framesBytes = 0;

  constructor(maxFrame = 1024 * 1024) {
    this.#maxFrame = maxFrame;
  }

  get buffered(): number {
    return this.#partial.length + this.#framesBytes;
  }

  push(chunk: Uint8Array): void {
    if (this.#partial.length === 0) {
      this.#input = chunk;
    } else {
      const joined = new Uint8Array(this.#partial.length + chunk.length);
      joined.set(this.#partial);
      joined.set(chunk, this.#partial.length);
      this.#input = joined;
      this.#partial = new Uint8Array(0);
    }
    this.#at = 0;
  }

  next(): Uint8Array[] | undefined {
    const input = this.#input;
    for (;;) {
      const at = this.#at;
      if (input.length - at < 4) break;
      const header = new DataView(input.buffer, input.byteOffset + at, 4).getUint32(0);
      const length = header & 0x7fff_ffff;
      if (length > this.#maxFrame) {
        throw new Error(`A frame of ${length} octets is over the limit of ${this.#maxFrame}`);
      }
      if (input.length - at - 4 < length) break;
      const body = input.slice(at + 4, at + 4 + length);
      this.#at = at + 4 + length;
      if ((header & MORE) !== 0) {
        this.#frames.push(body);
        this.#framesBytes += length;
        continue;
      }
      const frames = this.#frames;
      frames.push(body);
      this.#frames = [];
      this.#framesBytes = 0;
      return frames;
    }
    // Keep the incomplete rest as our own copy: the caller reuses its chunk.
    this.#partial = input.slice(this.#at);
    this.#input = new Uint8Array(0);
    this.#at = 0;
    return undefined;
  }

  encode(message: readonly Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < message.length; i++) {
      const header = new Uint8Array(4);
      const more = i < message.length - 1 ? MORE : 0;
      new DataView(header.buffer).setUint32(0, (message[i].length | more) >>> 0);
      out.push(header, message[i]);
    }
    return out;
  }
}

/** The protocol: frames up to 1 MiB, at most 4 MiB buffered of an unfinished message. */
export const lengthPrefixed: Protocol = {
  name: "length-prefixed",
  codec: () => new LengthPrefixedCodec(),
  maxBuffered: 4 * 1024 * 1024,
};

/** One frame on the wire, by hand: what any language's client would write. */
export function wireFrame(body: string): Uint8Array {
  const bytes = new TextEncoder().encode(body);
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

if (import.meta.main) {
  await using router = useProtocol(new RouterSocket(), lengthPrefixed);
  await router.bind("tcp://127.0.0.1:0");
  const port = Number(router.lastEndpoint!.split(":").at(-1));

  // The server: answers [id, ...frames] with the frames reversed.
  const served = (async () => {
    let answered = 0;
    for await (const [id, ...frames] of router) {
      await router.send([id, ...frames.map((f) => [...text(f)].reverse().join(""))]);
      if (++answered === 3) return answered;
    }
    return answered;
  })();

  await using a = useProtocol(new DealerSocket(), lengthPrefixed);
  await using b = useProtocol(new DealerSocket(), lengthPrefixed);
  a.connect(router.lastEndpoint!);
  b.connect(router.lastEndpoint!);
  await a.send(["hello", "world"]);
  await b.send("monocoque");
  const fromA = (await a.receive()).map(text).join(" ");
  const fromB = (await b.receive()).map(text).join(" ");

  // A client with no Monocoque at all: four header octets and the bytes.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(wireFrame("kernel"));
  const reply = new Uint8Array(64);
  let got = 0;
  while (got < 4 + "kernel".length) got += (await conn.read(reply.subarray(got))) ?? 0;
  conn.close();
  const raw = text(reply.subarray(4, got));

  const answered = await served;
  console.log(`length_prefixed: ${answered} requests answered: ${fromA} / ${fromB} / ${raw}`);
}
