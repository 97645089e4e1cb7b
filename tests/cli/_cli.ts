/**
 * Runs the command-line tool as a child process, as a user would: `deno run
 * -A cli/main.ts ARGS` from the repository root, stdin piped or closed,
 * stdout and stderr collected as they come. Waits are event driven (each
 * chunk of output wakes the waiters) and bounded; disposal kills a process
 * still running and releases every pipe, so the sanitizers stay quiet.
 *
 * ```ts ignore
 * await using pull = Cli.start(["pull", "-b", "tcp://127.0.0.1:0", "-v", "-n", "1"]);
 * const endpoint = await pull.listening();
 * ```
 *
 * @module
 */

import { withTimeout } from "../_util/timeout.ts";

/** The repository root. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;
/** The CLI's entry. */
export const MAIN: string = new URL("../../cli/main.ts", import.meta.url).pathname;
/** Bound for a CLI process to start, do its work and exit on this loaded machine. */
export const CLI_WAIT = 30_000;

/** How a finished CLI process ended. */
export interface CliResult {
  /** Exit status. */
  code: number;
  /** Standard output as text. */
  stdout: string;
  /** Standard output as bytes. */
  bytes: Uint8Array;
  /** Standard error as text. */
  stderr: string;
}

const decoder = new TextDecoder();

/** A running CLI process. */
export class Cli implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #out: Uint8Array[] = [];
  #err = "";
  #wake: () => void = () => {};
  #changed: Promise<void>;
  #pumps: Promise<void>;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #status: Promise<Deno.CommandStatus>;
  #exited = false;

  private constructor(args: string[], stdin: boolean, env?: Record<string, string>) {
    this.#changed = new Promise((r) => this.#wake = r);
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, ...args],
      cwd: ROOT,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...env },
    }).spawn();
    if (stdin) this.#stdin = this.#child.stdin.getWriter();
    this.#pumps = Promise.all([
      this.#pump(this.#child.stdout, (c) => this.#out.push(c)),
      this.#pump(this.#child.stderr, (c) => this.#err += decoder.decode(c)),
    ]).then(() => {});
    this.#status = this.#child.status.then((s) => {
      this.#exited = true;
      return s;
    });
  }

  /**
   * Starts `monocoque ARGS`.
   *
   * @param args The arguments.
   * @param options `stdin: true` to pipe stdin (else it is /dev/null); extra `env`.
   * @returns The process.
   */
  static start(
    args: string[],
    options: { stdin?: boolean; env?: Record<string, string> } = {},
  ): Cli {
    return new Cli(args, options.stdin ?? false, options.env);
  }

  async #pump(stream: ReadableStream<Uint8Array>, take: (c: Uint8Array) => void): Promise<void> {
    for await (const chunk of stream) {
      take(chunk);
      const wake = this.#wake;
      this.#changed = new Promise((r) => this.#wake = r);
      wake();
    }
  }

  /** Standard output so far. */
  get stdout(): string {
    return decoder.decode(this.bytes);
  }

  /** Standard output so far, as bytes. */
  get bytes(): Uint8Array {
    const size = this.#out.reduce((n, c) => n + c.length, 0);
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of this.#out) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  }

  /** Standard error so far. */
  get stderr(): string {
    return this.#err;
  }

  /**
   * Waits until `ready()` holds for the output, at most `ms`.
   *
   * @param ready Checked after every chunk of output.
   * @param what Names the wait in the timeout error.
   * @param ms The bound.
   */
  async until(ready: () => boolean, what: string, ms = CLI_WAIT): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ready()) {
      if (this.#exited && !ready()) {
        await this.#pumps;
        if (ready()) return;
        throw new Error(`CLI exited before ${what}; stderr:\n${this.#err}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}; stderr:\n${this.#err}`);
      await withTimeout(Promise.race([this.#changed, this.#status]), left, what).catch(() => {});
    }
  }

  /**
   * Waits for the LISTENING event line (needs `-v`) and returns its endpoint.
   *
   * @returns The bound endpoint, port resolved.
   */
  async listening(): Promise<string> {
    const line = /LISTENING (\S+)|"event":"LISTENING","endpoint":"([^"]+)"/;
    await this.until(() => line.test(this.#err), "LISTENING");
    const m = line.exec(this.#err)!;
    return m[1] ?? m[2];
  }

  /**
   * Writes to the process's stdin.
   *
   * @param text Text or bytes.
   */
  async write(text: string | Uint8Array): Promise<void> {
    await this.#stdin!.write(typeof text === "string" ? new TextEncoder().encode(text) : text);
  }

  /** Closes the process's stdin (end of input). */
  async endInput(): Promise<void> {
    const w = this.#stdin;
    this.#stdin = undefined;
    await w?.close();
  }

  /**
   * Waits for the process to exit, at most `ms` (then kills it and throws).
   *
   * @param ms The bound.
   * @returns How it ended.
   */
  async result(ms = CLI_WAIT): Promise<CliResult> {
    let status: Deno.CommandStatus;
    try {
      status = await withTimeout(this.#status, ms, "CLI exit");
    } catch (e) {
      throw new Error(`${(e as Error).message}; stderr:\n${this.#err}`);
    }
    await this.#pumps;
    return { code: status.code, stdout: this.stdout, bytes: this.bytes, stderr: this.#err };
  }

  /**
   * Sends a signal to the process.
   *
   * @param signal E.g. `"SIGINT"`.
   */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (!this.#exited) this.#child.kill(signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin?.close().catch(() => {});
    if (!this.#exited) {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }
    await this.#status;
    await this.#pumps;
  }
}

/**
 * Runs `monocoque ARGS` to the end.
 *
 * @param args The arguments.
 * @param options `stdin` to feed (else /dev/null), and the bound `ms`.
 * @returns How it ended.
 */
export async function cli(
  args: string[],
  options: { stdin?: string | Uint8Array; ms?: number } = {},
): Promise<CliResult> {
  await using p = Cli.start(args, { stdin: options.stdin !== undefined });
  if (options.stdin !== undefined) {
    await p.write(options.stdin);
    await p.endInput();
  }
  return await p.result(options.ms);
}
