/**
 * Harness processes for the side-by-side runner: spawn one, parse its
 * JSON-lines stdout into `ready` and `result` events (and any V8 `--trace-gc`
 * lines into collections), keep the tail of its stderr for error messages,
 * and kill it. Every live process is tracked so that the runner can kill
 * them all on exit or Ctrl-C.
 *
 * @module
 */

import { type GcEvent, parseGcLine } from "./gc_trace.ts";
import { ROOT } from "./impls.ts";

/** The JSON lines a harness prints: {"event":"ready"} then {"event":"result",...}. */
export type Json = Record<string, number | string>;

/** Trace lines kept per process at most (a run makes a few thousand at most). */
const MAX_GC_EVENTS = 1_000_000;

const live = new Set<Proc>();

/** One harness process with its stdout parsed into events. */
export class Proc {
  readonly name: string;
  /** Collections from `--trace-gc` lines on stdout, in order. */
  readonly gc: GcEvent[] = [];
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stderr = "";
  readonly ready: Promise<void>;
  readonly result: Promise<Json>;
  readonly status: Promise<Deno.CommandStatus>;
  /** Resolves once stdout reached its end: every line has been parsed. */
  readonly drained: Promise<void>;

  constructor(name: string, cmd: string[], env?: Record<string, string>) {
    this.name = name;
    this.#child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      cwd: ROOT,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    live.add(this);
    this.#stdin = this.#child.stdin.getWriter();
    this.status = this.#child.status.finally(() => live.delete(this));
    const ready = Promise.withResolvers<void>();
    const result = Promise.withResolvers<Json>();
    this.ready = ready.promise;
    this.result = result.promise;
    // Not every caller awaits both; a rejection is reported where it matters.
    this.ready.catch(() => {});
    this.result.catch(() => {});
    this.drained = this.#pumpStdout(this.#child.stdout, ready, result).catch(() => {});
    this.#pumpStderr(this.#child.stderr);
  }

  async #pumpStdout(
    stdout: ReadableStream<Uint8Array>,
    ready: PromiseWithResolvers<void>,
    result: PromiseWithResolvers<Json>,
  ): Promise<void> {
    let buf = "";
    let carry = "";
    for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        let line;
        [line, carry] = cutJson(carry + buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        line = line.trim();
        if (line.startsWith("[")) {
          const e = parseGcLine(line);
          if (e && this.gc.length < MAX_GC_EVENTS) this.gc.push(e);
          continue;
        }
        if (!line.startsWith("{")) continue;
        try {
          const j = JSON.parse(line) as Json;
          if (j.event === "ready") ready.resolve();
          else if (j.event === "result") result.resolve(j);
        } catch { /* not ours */ }
      }
    }
    const status = await this.status;
    const err = new Error(`${this.name} exited (${status.code}) ${this.stderrTail()}`.trim());
    ready.reject(err);
    result.reject(err);
  }

  async #pumpStderr(stderr: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stderr.pipeThrough(new TextDecoderStream())) {
      this.#stderr = (this.#stderr + chunk).slice(-2000);
    }
  }

  /** The last lines of stderr, npm's warnings left out. */
  stderrTail(): string {
    const lines = this.#stderr.trim().split("\n").filter((l) => !l.includes("npm warn"));
    return lines.slice(-3).join(" | ").slice(0, 300);
  }

  /** Tells a sender or echo server that the receiving side is done. */
  async closeStdin(): Promise<void> {
    try {
      await this.#stdin.close();
    } catch { /* already gone */ }
  }

  /** SIGKILL; a process that already exited is fine. */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already exited */ }
  }
}

/**
 * V8 writes `--trace-gc` lines through a stdio buffer flushed in 4 KiB blocks,
 * the harness its JSON lines in one write each, so a JSON line can land inside
 * a trace line: `[1:0x…]  88 ms: Scav{"event":…}` then `enge 3.2 …`. Returns
 * the line to parse (the JSON) and the trace line's start, to be put before
 * the next line (its continuation).
 */
export function cutJson(line: string): [line: string, carry: string] {
  const json = line.indexOf('{"event":');
  return json > 0 ? [line.slice(json), line.slice(0, json)] : [line, ""];
}

/** Kills every harness process still running. */
export function killAll(): void {
  for (const p of live) p.kill();
}

/** Resolves with `p`, or rejects after `ms` with a message naming what timed out. */
export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timeout: ${what} after ${ms / 1000}s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
