/**
 * Reads V8's `--trace-gc` lines (a Deno harness run with
 * `--v8-flags=--trace-gc,--expose-gc`), e.g.
 *
 *   [11090:0x5610fd40f000]   88 ms: Scavenge 3.2 (4.0) -> 2.3 (4.0) MB, pooled: 0.0 MB, 0.15 / 0.00 ms (average mu = …) allocation failure;
 *
 * The harness marks the window it wants counted by calling `gc()` at its
 * start and end (bench/_modes.mjs `gcMark`): those are the full collections
 * whose reason is "testing". Only the collections between the first two marks
 * are counted, so start-up, handshake and warm-up stay out of the figure.
 *
 * @module
 */

/** One collection from the trace. */
export interface GcEvent {
  /** "Scavenge" and "Minor Mark-Sweep" are young-generation collections. */
  kind: string;
  /** Main-thread pause, ms. */
  pauseMs: number;
  /** A collection requested by `gc()`: a window mark. */
  mark: boolean;
}

const LINE = /^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: ([A-Za-z -]+?) [\d.]+ \(.*?MB, ([\d.]+) \/ [\d.]+ ms/;

/** The collection a trace line reports, or undefined for any other line. */
export function parseGcLine(line: string): GcEvent | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const kind = m[1].trim();
  return { kind, pauseMs: parseFloat(m[2]), mark: line.includes(" testing;") };
}

/** Young-generation collections and other (full) ones inside the marked window. */
export interface GcTally {
  young: number;
  youngPauseMs: number;
  full: number;
  fullPauseMs: number;
  /** False when the trace had fewer than two marks (the counts are then the whole process's). */
  windowed: boolean;
}

/** Counts the collections between the first two marks (or all, without marks). */
export function tallyGc(events: readonly GcEvent[]): GcTally {
  const marks = events.flatMap((e, i) => e.mark ? [i] : []);
  const windowed = marks.length >= 2;
  const inside = windowed ? events.slice(marks[0] + 1, marks[1]) : events;
  const t: GcTally = { young: 0, youngPauseMs: 0, full: 0, fullPauseMs: 0, windowed };
  for (const e of inside) {
    if (e.mark) continue;
    if (e.kind === "Scavenge" || e.kind.startsWith("Minor")) {
      t.young++;
      t.youngPauseMs += e.pauseMs;
    } else {
      t.full++;
      t.fullPauseMs += e.pauseMs;
    }
  }
  return t;
}
