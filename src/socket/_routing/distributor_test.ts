import assert from "node:assert/strict";
import { allHaveRoom, distribute, type Subscriber, type Subscription } from "./distributor.ts";

const all = { matches: () => true };
const none = { matches: () => false };

class Peer implements Subscriber, Subscription<Peer> {
  readonly got: Uint8Array[][] = [];
  readonly peer: Peer = this;
  constructor(
    readonly room: boolean,
    readonly moving = false,
    readonly topics = all,
    readonly ready = true,
  ) {}
  hasRoom(): boolean {
    return this.room;
  }
  enqueue(frames: Uint8Array[]): void {
    this.got.push(frames);
  }
  congested(): boolean {
    return this.moving;
  }
}

const msg = [Uint8Array.of(1)];

Deno.test("distribute() queues to matching ready peers with room and counts the misses", () => {
  const peers = [
    new Peer(true),
    new Peer(false),
    new Peer(true, false, none),
    new Peer(true, false, all, false),
  ];
  assert.equal(distribute(peers, msg), 1);
  assert.deepEqual(peers.map((p) => p.got.length), [1, 0, 0, 0]);
});

Deno.test("distribute() defers a full peer whose writes move instead of missing it", () => {
  const moving = new Peer(false, true);
  const stalled = new Peer(false, false);
  const deferred: Peer[] = [];
  assert.equal(distribute([moving, stalled, new Peer(true)], msg, deferred), 1);
  assert.deepEqual(deferred, [moving]);
  assert.equal(moving.got.length, 0);
  // Without a list to defer to, the moving peer misses the message like any other.
  assert.equal(distribute([moving, stalled], msg), 2);
});

Deno.test("allHaveRoom() looks only at ready, matching peers", () => {
  assert.equal(allHaveRoom([new Peer(true), new Peer(false, false, none)], msg), true);
  assert.equal(allHaveRoom([new Peer(true), new Peer(false)], msg), false);
});
