/**
 * The terminal the command-line tool talks to, as one object so that the
 * commands never touch `Deno.std*` themselves: stdin as a byte stream,
 * stdout for messages, stderr for everything else, and the signal that
 * Ctrl-C aborts.
 *
 * @module
 */

/** Where a command reads and writes. */
export interface Io {
  /** Standard input (opened on first use). */
  stdin(): ReadableStream<Uint8Array>;
  /** Writes bytes to standard output; resolves false once the reader went away (broken pipe). */
  write(bytes: Uint8Array): Promise<boolean>;
  /** Writes text to standard output at once (help, version: printed just before exiting). */
  print(text: string): void;
  /** Writes one line to standard error. */
  log(line: string): void;
  /** Whether standard error is a terminal (live lines overwrite themselves). */
  stderrIsTerminal: boolean;
  /** Aborted by Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
}

const encoder = new TextEncoder();

/**
 * The process's own stdin, stdout and stderr.
 *
 * @param signal Aborted when the command should stop.
 * @returns The {@linkcode Io}.
 *
 * @example
 * ```ts
 * import { denoIo } from "./_io.ts";
 * const io = denoIo(new AbortController().signal);
 * io.log("to stderr");
 * ```
 */
export function denoIo(signal: AbortSignal): Io {
  let broken = false;
  return {
    stdin: () => Deno.stdin.readable,
    async write(bytes) {
      if (broken) return false;
      try {
        for (let at = 0; at < bytes.length;) at += await Deno.stdout.write(bytes.subarray(at));
        return true;
      } catch (e) {
        if (e instanceof Deno.errors.BrokenPipe) {
          broken = true;
          return false;
        }
        throw e;
      }
    },
    print(text) {
      const bytes = encoder.encode(text);
      try {
        for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
      } catch (e) {
        if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
      }
    },
    log(line) {
      const bytes = encoder.encode(line.endsWith("\r") ? line : line + "\n");
      for (let at = 0; at < bytes.length;) at += Deno.stderr.writeSync(bytes.subarray(at));
    },
    stderrIsTerminal: Deno.stderr.isTerminal(),
    signal,
  };
}
