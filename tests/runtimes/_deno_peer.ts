/**
 * The scenario end of the channel to Monocoque-on-Deno in the test process
 * (`_deno_side.ts` is the other end): a command goes out on stdout as one
 * `@deno {json}` line, which `runtimes_test.ts` runs, and its answer comes
 * back on stdin as one JSON line. Every wait is bounded.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { within } from "./_harness.ts";

type Answer = { id: number; error?: string; [key: string]: unknown };

const waiting = new Map<number, (answer: Answer) => void>();
let lines: ReturnType<typeof createInterface> | undefined;
let next = 0;

/** Sends a command to the Deno side and returns its answer; throws the Deno side's error. */
export async function deno(
  command: Record<string, unknown>,
  ms = 20_000,
): Promise<Record<string, unknown>> {
  lines ??= createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() === "") return;
    const answer = JSON.parse(line) as Answer;
    const resolve = waiting.get(answer.id);
    waiting.delete(answer.id);
    resolve?.(answer);
  });
  const id = next++;
  const answered = new Promise<Answer>((resolve) => waiting.set(id, resolve));
  process.stdout.write(`@deno ${JSON.stringify({ id, ...command })}\n`);
  try {
    const answer = await within(answered, `Deno side ${command.op}`, ms);
    if (answer.error !== undefined) throw new Error(`Deno side ${command.op}: ${answer.error}`);
    return answer;
  } finally {
    waiting.delete(id);
  }
}

/** A Monocoque socket on Deno, in the test process. */
export class DenoSocket {
  /** Its bound (port resolved) or connected endpoint. */
  readonly endpoint: string;
  #sock: number;

  private constructor(sock: number, endpoint: string) {
    this.#sock = sock;
    this.endpoint = endpoint;
  }

  /** Opens a socket of `type` that binds or connects, and subscribes (SUB). */
  static async open(
    type: string,
    how: { bind?: string; connect?: string; subscribe?: string },
  ): Promise<DenoSocket> {
    const answer = await deno({ op: "open", type, ...how });
    return new DenoSocket(answer.sock as number, answer.endpoint as string);
  }

  /** Sends one message of text frames. */
  async send(frames: string[]): Promise<void> {
    await deno({ op: "send", sock: this.#sock, frames });
  }

  /** Receives one message (the Deno side's receiveTimeout bounds it). */
  async receive(): Promise<string[]> {
    return (await deno({ op: "recv", sock: this.#sock })).frames as string[];
  }

  /** Closes the socket. */
  async close(): Promise<void> {
    await deno({ op: "close", sock: this.#sock });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
