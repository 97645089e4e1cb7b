/**
 * The error a wrong command line raises: the tool prints its message and the
 * usage of the command on stderr and exits with status 2.
 *
 * @module
 */

/**
 * A mistake in the command line (exit status 2), as opposed to a failure at run time (status 1).
 *
 * @example
 * ```ts
 * import { UsageError } from "./_usage.ts";
 * const e = new UsageError("Give at least one --bind or --connect endpoint");
 * console.assert(e.name === "UsageError");
 * ```
 */
export class UsageError extends TypeError {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the command line.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
