/**
 * Reconnect backoff as libzmq computes it (ZMQ_RECONNECT_IVL,
 * ZMQ_RECONNECT_IVL_MAX): the first retry waits `interval`; when a maximum
 * above `interval` is set, each further retry doubles the wait up to that
 * maximum. A random jitter of up to `interval` is added, so that many
 * clients dropped at once do not redial in lock step. Pure: the random
 * source is passed in.
 *
 * @module
 */

/**
 * The wait before reconnect attempt `attempt` (0 for the first retry).
 *
 * @param attempt How many retries already happened since the last success.
 * @param interval `reconnectInterval` in ms; a negative value disables reconnecting.
 * @param maxInterval `reconnectMaxInterval` in ms; 0 means no doubling.
 * @param random A number in [0, 1) for the jitter.
 * @returns The delay in ms, or -1 when reconnecting is disabled.
 */
export function reconnectDelay(
  attempt: number,
  interval: number,
  maxInterval: number,
  random: number,
): number {
  if (interval < 0) return -1;
  let base = interval;
  if (maxInterval > interval) {
    base = Math.min(maxInterval, interval * 2 ** Math.min(attempt, 30));
  }
  return base + Math.floor(random * interval);
}
