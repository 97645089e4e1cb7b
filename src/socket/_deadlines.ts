/**
 * One runtime timer for every connection's deadline (handshake timeout,
 * heartbeat PING and its timeouts). A `setTimeout` per connection costs
 * about 1 KiB of short-lived garbage per handshake and a timer object per
 * idle peer; a thousand peers arriving at once then push V8's young
 * generation to grow. Here each connection owns one {@linkcode Deadline}
 * and all of them share a binary min-heap checked by one timer armed for the
 * earliest. libzmq does the same with one timer list per I/O thread
 * (src/poller_base.cpp `add_timer`/`execute_timers`, a multimap by time).
 *
 * Re-arming does not search the heap: the new time is pushed and the old
 * entry, whose time no longer matches its deadline's, is skipped when it
 * comes up. The heap is rebuilt when such stale entries outnumber the live
 * deadlines, so a connection re-armed on every message keeps it bounded.
 *
 * @module
 */

// The heap, as parallel arrays (no entry objects): times and their deadlines.
const heapAt: number[] = [];
const heapOf: Deadline[] = [];
/** Deadlines armed (finite time): the heap holds at least these. */
let live = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let timerAt = Infinity;

/** One connection's next deadline, sharing the process's timer with all others. */
export class Deadline {
  #at = Infinity;
  readonly #fire: () => void;

  /** @param fire Called (from the shared timer) once the armed time has come; not armed again by itself. */
  constructor(fire: () => void) {
    this.#fire = fire;
  }

  /** The armed time (`performance.now()` clock), or Infinity when not armed. */
  get at(): number {
    return this.#at;
  }

  /** Arms the deadline for `at` (milliseconds, `performance.now()` clock); Infinity disarms it. */
  set(at: number): void {
    if (!(at < Infinity)) at = Infinity; // NaN too: never a heap key
    const was = this.#at;
    if (at === was) return;
    this.#at = at;
    if (at === Infinity) {
      if (--live === 0) Deadline.#reset();
      return;
    }
    if (was === Infinity) live++;
    push(at, this);
    if (heapAt.length > 2 * live + 64) Deadline.#compact();
    if (at < timerAt) schedule(at);
  }

  /** Whether the heap entry (`at`, this) is the deadline's current one. */
  static #current(at: number, d: Deadline): boolean {
    return d.#at === at;
  }

  /** No deadline is armed: drop the stale entries and the timer. */
  static #reset(): void {
    heapAt.length = 0;
    heapOf.length = 0;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    timerAt = Infinity;
  }

  /** Rebuilds the heap from the current entries, once each. */
  static #compact(): void {
    const ats = heapAt.splice(0);
    const ofs = heapOf.splice(0);
    const seen = new Set<Deadline>();
    for (let i = 0; i < ats.length; i++) {
      const d = ofs[i];
      if (Deadline.#current(ats[i], d) && !seen.has(d)) {
        seen.add(d);
        push(ats[i], d);
      }
    }
  }

  /** The shared timer fired: runs every deadline that has come, then re-arms for the next. */
  static run(): void {
    timer = undefined;
    timerAt = Infinity;
    const now = performance.now();
    // Collected first: a deadline re-armed by its callback waits for the next turn.
    const due: Deadline[] = [];
    while (heapAt.length > 0 && heapAt[0] <= now) {
      const at = heapAt[0];
      const d = heapOf[0];
      pop();
      if (Deadline.#current(at, d)) {
        d.#at = Infinity;
        live--;
        due.push(d);
      }
    }
    if (live === 0) Deadline.#reset();
    let failure: { error: unknown } | undefined;
    for (const d of due) {
      try {
        d.#fire();
      } catch (error) {
        failure ??= { error };
      }
    }
    // Skip stale entries at the top so the timer is armed for a live one.
    while (heapAt.length > 0 && !Deadline.#current(heapAt[0], heapOf[0])) pop();
    if (heapAt.length > 0 && heapAt[0] < timerAt) schedule(heapAt[0]);
    if (failure !== undefined) throw failure.error;
  }
}

function schedule(at: number): void {
  if (timer !== undefined) clearTimeout(timer);
  timerAt = at;
  timer = setTimeout(Deadline.run, Math.max(0, Math.ceil(at - performance.now())));
}

function push(at: number, d: Deadline): void {
  let i = heapAt.length;
  heapAt.push(at);
  heapOf.push(d);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heapAt[parent] <= at) break;
    heapAt[i] = heapAt[parent];
    heapOf[i] = heapOf[parent];
    i = parent;
  }
  heapAt[i] = at;
  heapOf[i] = d;
}

function pop(): void {
  const at = heapAt.pop()!;
  const d = heapOf.pop()!;
  const n = heapAt.length;
  if (n === 0) return;
  let i = 0;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heapAt[child + 1] < heapAt[child]) child++;
    if (heapAt[child] >= at) break;
    heapAt[i] = heapAt[child];
    heapOf[i] = heapOf[child];
    i = child;
  }
  heapAt[i] = at;
  heapOf[i] = d;
}

/** Deadlines armed and heap entries held, for tests. */
export function deadlineStats(): { live: number; entries: number; timer: boolean } {
  return { live, entries: heapAt.length, timer: timer !== undefined };
}
