/**
 * A line-delimited text protocol on the Monocoque kernel, served to `nc` or
 * telnet: a STREAM socket gives each connection a routing id and announces
 * it, the line codec turns bytes into one message per line. The server
 * greets each client, answers every line in upper case, and closes on
 * `quit`; a line over 4 KiB drops that client only.
 *
 *   deno run -A examples/line_server.ts            # a self-test with a TCP client
 *   deno run -A examples/line_server.ts --serve 7000
 *   nc 127.0.0.1 7000
 *
 * @module
 */

import { StreamSocket, text } from "../mod.ts";
import { type Codec, type Protocol, useProtocol } from "../src/kernel/mod.ts";

const LF = 0x0a;
const CR = 0x0d;

/** One message per line (LF or CRLF); a message sent is written as its frames, one line each. */
export class LineCodec implements Codec {
  #input: Uint8Array = new Uint8Array(0);
  #at = 0;
  /** The start of a line whose end has not arrived, copied out of the last chunk. */
  #partial: Uint8Array = new Uint8Array(0);

  get buffered(): number {
    return this.#partial.length;
  }

  push(chunk: Uint8Array): void {
    this.#input = chunk;
    this.#at = 0;
  }

  next(): Uint8Array[] | undefined {
    const input = this.#input;
    const end = input.indexOf(LF, this.#at);
    if (end < 0) {
      const rest = input.subarray(this.#at);
      if (rest.length > 0) this.#partial = concat(this.#partial, rest);
      this.#input = new Uint8Array(0);
      this.#at = 0;
      return undefined;
    }
    let line = concat(this.#partial, input.subarray(this.#at, end));
    this.#partial = new Uint8Array(0);
    this.#at = end + 1;
    if (line.at(-1) === CR) line = line.subarray(0, -1);
    return [line];
  }

  encode(message: readonly Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const frame of message) out.push(frame, Uint8Array.of(LF));
    return out;
  }
}

/** A copy of `a` then `b`: never a view of the caller's chunk. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The protocol: lines of at most 4 KiB. */
export const lines: Protocol = { name: "line", codec: () => new LineCodec(), maxBuffered: 4096 };

/**
 * Serves clients on `server` until it closes (or `limit` lines were answered):
 * greets, echoes in upper case, closes on "quit". Returns the lines answered.
 */
export async function serve(server: StreamSocket, limit = Infinity): Promise<number> {
  const greeted = new Set<string>();
  let answered = 0;
  for await (const [id, line] of server) {
    const key = id.join(",");
    if (line.length === 0) {
      // A connect or disconnect notice (an empty line carries no message either way).
      if (greeted.delete(key)) continue;
      greeted.add(key);
      await server.send([id, "hello, this is Monocoque: say something, or quit"]);
      continue;
    }
    const said = text(line);
    if (said === "quit") {
      greeted.delete(key);
      await server.send([id, "bye"]);
      await server.send([id, ""]); // close once "bye" is written
    } else {
      await server.send([id, said.toUpperCase()]);
    }
    if (++answered >= limit) return answered;
  }
  return answered;
}

/** Writes `input`, then reads until the server closes: what a `printf ... | nc` does. */
export async function talk(port: number, input: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(input));
  let out = "";
  const buf = new Uint8Array(1024);
  const decoder = new TextDecoder();
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    out += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  conn.close();
  return out;
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--serve");
  const port = at >= 0 ? Number(Deno.args[at + 1]) : 0;
  await using server = useProtocol(new StreamSocket(), lines);
  await server.bind(`tcp://127.0.0.1:${port}`);
  if (at >= 0) {
    console.log(`line_server: listening on ${server.lastEndpoint}; try nc 127.0.0.1 ${port}`);
    await serve(server);
  } else {
    const bound = Number(server.lastEndpoint!.split(":").at(-1));
    const serving = serve(server, 3);
    const transcript = await talk(bound, "hello kernel\r\nlines please\nquit\n");
    const answered = await serving;
    const replies = transcript.trimEnd().split("\n");
    console.log(
      `line_server: ${answered} lines answered, last replies ${replies.slice(1).join(" | ")}`,
    );
  }
}
