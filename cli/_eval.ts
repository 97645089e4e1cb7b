/**
 * Message evaluation (`-e`/`--recv-eval`, `-E`/`--send-eval`), as the omq CLI
 * has it but in JavaScript: an expression evaluated for each message, with
 * `F` the frames as strings, `_` the first of them and `M` the frames as
 * bytes. It returns the message to use: an array of frames (strings or
 * `Uint8Array`s), one string or `Uint8Array` (one frame), or `null`,
 * `undefined` or `false` to skip the message. The expression is the user's
 * own code, run with the tool's permissions, like a shell one-liner.
 *
 * @module
 */

import type { Frames } from "./_source.ts";
import { UsageError } from "./_usage.ts";

/** A compiled expression: the message to use, or undefined to skip it. */
export type Transform = (message: readonly Uint8Array[]) => Frames | undefined;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function frame(value: unknown): Uint8Array<ArrayBuffer> {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  return encoder.encode(String(value));
}

/**
 * Compiles an expression given on the command line.
 *
 * @param expression JavaScript, e.g. `F.map((f) => f.toUpperCase())`.
 * @param flag The flag it came with, for error messages.
 * @returns The transform.
 * @throws {UsageError} If the expression does not compile.
 *
 * @example
 * ```ts
 * import { compileEval } from "./_eval.ts";
 * const upcase = compileEval("_.toUpperCase()", "-e");
 * const [out] = upcase([new TextEncoder().encode("hi")])!;
 * console.assert(new TextDecoder().decode(out) === "HI");
 * console.assert(compileEval("_ === 'x' ? null : F", "-e")([new TextEncoder().encode("x")]) === undefined);
 * ```
 */
export function compileEval(expression: string, flag: string): Transform {
  let fn: (F: string[], _: string | undefined, M: readonly Uint8Array[]) => unknown;
  try {
    fn = new Function("F", "_", "M", `"use strict"; return (${expression});`) as typeof fn;
  } catch (e) {
    throw new UsageError(`${flag} does not compile: ${(e as Error).message}`);
  }
  return (message) => {
    const strings = message.map((f) => decoder.decode(f));
    let value: unknown;
    try {
      value = fn(strings, strings[0], message);
    } catch (e) {
      throw new Error(`${flag} failed: ${(e as Error).message}`, { cause: e });
    }
    if (value === null || value === undefined || value === false) return undefined;
    if (Array.isArray(value)) return value.map(frame);
    return [frame(value)];
  };
}
