/**
 * Bounded waiting for tests: {@linkcode withTimeout} races a promise against a timer and always
 * clears the timer, so Deno's op sanitizer never sees a leaked timeout.
 *
 * @module
 */

/** Thrown by {@linkcode withTimeout} when the promise does not settle in time. */
export class TimeoutError extends Error {
  /**
   * @param message What timed out.
   */
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/**
 * Resolves or rejects like `promise`, or rejects with a {@linkcode TimeoutError} after `ms`.
 * The timer is cleared either way. The promise itself is not cancelled.
 *
 * @param promise The promise to wait for.
 * @param ms How long to wait, in milliseconds.
 * @param what Names the operation in the error message.
 * @returns The promise's value.
 *
 * @example
 * ```ts
 * const value = await withTimeout(Promise.resolve(42), 1000, "the answer");
 * ```
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what = "operation",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
