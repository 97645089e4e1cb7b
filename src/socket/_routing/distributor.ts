/**
 * Fan-out (RFC 29): one message to every peer whose subscriptions match its
 * first frame and that has room; a peer at its high-water mark misses it,
 * unless its writes are still moving: then it is held back (see `deferred`)
 * for the caller to retry once I/O ran. The frames are shared, not copied,
 * between peers. The subscriptions are the pattern's, kept per peer in a
 * {@linkcode Subscription} it allocates; the peer itself knows nothing of them.
 *
 * @module
 */

/** A peer as the distributor sees it. */
export interface Subscriber {
  readonly ready: boolean;
  hasRoom(): boolean;
  enqueue(frames: Uint8Array[]): void;
  /** Whether a full peer's writes are moving, so the message is worth a retry (optional). */
  congested?(): boolean;
}

/** A peer and the topics it subscribed to, as a publishing pattern keeps them. */
export interface Subscription<S extends Subscriber> {
  readonly peer: S;
  readonly topics: { matches(data: Uint8Array): boolean };
}

/**
 * Queues `frames` to every ready, matching subscriber with room. With
 * `deferred`, a full subscriber whose writes are moving is pushed there
 * instead of missing the message.
 *
 * @returns How many matching subscribers had no room and missed the message.
 */
export function distribute<S extends Subscriber>(
  subscriptions: Iterable<Subscription<S>>,
  frames: Uint8Array[],
  deferred?: S[],
): number {
  const topic = frames[0];
  let missed = 0;
  for (const { peer, topics } of subscriptions) {
    if (peer.ready && topics.matches(topic)) {
      if (peer.hasRoom()) peer.enqueue(frames);
      else if (deferred !== undefined && peer.congested?.() === true) deferred.push(peer);
      else missed++;
    }
  }
  return missed;
}

/** Whether every ready subscriber matching `frames` has room (for lossless publishing). */
export function allHaveRoom<S extends Subscriber>(
  subscriptions: Iterable<Subscription<S>>,
  frames: Uint8Array[],
): boolean {
  const topic = frames[0];
  for (const { peer, topics } of subscriptions) {
    if (peer.ready && !peer.hasRoom() && topics.matches(topic)) return false;
  }
  return true;
}
