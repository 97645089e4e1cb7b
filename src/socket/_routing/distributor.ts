/**
 * Fan-out (RFC 29): one message to every peer whose subscriptions match its
 * first frame and that has room; a peer at its high-water mark misses it,
 * unless its writes are still moving: then it is held back (see `deferred`)
 * for the caller to retry once I/O ran. The frames are shared, not copied,
 * between peers.
 *
 * @module
 */

/** A peer as the distributor sees it. */
export interface Subscriber {
  readonly ready: boolean;
  readonly subscriptions: { matches(data: Uint8Array): boolean } | undefined;
  hasRoom(): boolean;
  enqueue(frames: Uint8Array[]): void;
  /** Whether a full peer's writes are moving, so the message is worth a retry (optional). */
  congested?(): boolean;
}

/**
 * Queues `frames` to every ready, matching subscriber with room. With
 * `deferred`, a full subscriber whose writes are moving is pushed there
 * instead of missing the message.
 *
 * @returns How many matching subscribers had no room and missed the message.
 */
export function distribute<S extends Subscriber>(
  subscribers: Iterable<S>,
  frames: Uint8Array[],
  deferred?: S[],
): number {
  const topic = frames[0];
  let missed = 0;
  for (const s of subscribers) {
    if (s.ready && s.subscriptions?.matches(topic)) {
      if (s.hasRoom()) s.enqueue(frames);
      else if (deferred !== undefined && s.congested?.() === true) deferred.push(s);
      else missed++;
    }
  }
  return missed;
}

/** Whether every ready subscriber matching `frames` has room (for lossless publishing). */
export function allHaveRoom(subscribers: Iterable<Subscriber>, frames: Uint8Array[]): boolean {
  const topic = frames[0];
  for (const s of subscribers) {
    if (s.ready && !s.hasRoom() && s.subscriptions?.matches(topic)) return false;
  }
  return true;
}
