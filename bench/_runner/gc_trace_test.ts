import assert from "node:assert/strict";
import { parseGcLine, tallyGc } from "./gc_trace.ts";
import { cutJson } from "./proc.ts";

const scavenge = (ms: string) =>
  `[11090:0x5610fd40f000]       88 ms: Scavenge 3.2 (4.0) -> 2.3 (4.0) MB, pooled: 0.0 MB, ${ms} / 0.00 ms (average mu = 0.966, current mu = 0.966) allocation failure; `;
const mark =
  "[11090:0x5610fd40f000]       72 ms: Mark-Compact 2.3 (2.8) -> 2.2 (2.8) MB, pooled: 0.0 MB, 2.37 / 0.00 ms (average mu = 0.966, current mu = 0.966) testing; GC in old space requested";
const full =
  "[11090:0x5610fd40f000]      900 ms: Mark-Compact 40.1 (52.0) -> 30.2 (50.0) MB, pooled: 0.0 MB, 12.50 / 0.00 ms (average mu = 0.9, current mu = 0.9) allocation failure; scavenge might not succeed";

Deno.test("parseGcLine() reads the kind, the pause and whether gc() asked for it", () => {
  assert.deepEqual(parseGcLine(scavenge("0.15")), { kind: "Scavenge", pauseMs: 0.15, mark: false });
  assert.deepEqual(parseGcLine(mark), { kind: "Mark-Compact", pauseMs: 2.37, mark: true });
  assert.equal(parseGcLine('{"event":"ready"}'), undefined);
});

Deno.test("tallyGc() counts only the collections between the first two marks", () => {
  const events = [scavenge("9"), mark, scavenge("0.5"), full, scavenge("0.25"), mark, scavenge("7")]
    .map((l) => parseGcLine(l)!);
  assert.deepEqual(tallyGc(events), {
    young: 2,
    youngPauseMs: 0.75,
    full: 1,
    fullPauseMs: 12.5,
    windowed: true,
  });
  assert.equal(tallyGc(events.slice(0, 3)).windowed, false);
});

Deno.test("cutJson() takes a JSON line out of the trace line it landed in", () => {
  const line = scavenge("0.15");
  const json = '{"event":"result","count":3}';
  const [got, carry] = cutJson(line.slice(0, 40) + json);
  assert.equal(got, json);
  assert.equal(parseGcLine(carry + line.slice(40))?.pauseMs, 0.15);
  assert.deepEqual(cutJson(json), [json, ""]);
});
