import assert from "node:assert/strict";
import { Deadline, deadlineStats } from "./_deadlines.ts";
import { withTimeout } from "../../tests/_util/timeout.ts";

Deno.test("Deadlines fire in time order on one shared timer", async () => {
  const fired: number[] = [];
  const base = performance.now();
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const deadlines = [30, 10, 20].map((ms) =>
    new Deadline(() => {
      fired.push(ms);
      if (fired.length === 3) done();
    })
  );
  deadlines.forEach((d, i) => d.set(base + [30, 10, 20][i]));
  assert.deepEqual(deadlineStats(), { live: 3, entries: 3, timer: true });
  await withTimeout(all, 5000);
  assert.deepEqual(fired, [10, 20, 30]);
  assert.deepEqual(deadlineStats(), { live: 0, entries: 0, timer: false });
  for (const d of deadlines) assert.equal(d.at, Infinity);
});

Deno.test("A disarmed or re-armed deadline fires only at its current time", async () => {
  const fired: string[] = [];
  let done!: () => void;
  const last = new Promise<void>((resolve) => (done = resolve));
  const base = performance.now();
  const gone = new Deadline(() => fired.push("gone"));
  const moved = new Deadline(() => fired.push("moved"));
  const end = new Deadline(() => (fired.push("end"), done()));
  gone.set(base + 5);
  moved.set(base + 5);
  end.set(base + 40);
  gone.set(Infinity);
  moved.set(base + 20);
  await withTimeout(last, 5000);
  assert.deepEqual(fired, ["moved", "end"]);
  assert.deepEqual(deadlineStats(), { live: 0, entries: 0, timer: false });
});

Deno.test("Re-arming one deadline many times keeps the heap bounded", () => {
  const d = new Deadline(() => {});
  const base = performance.now() + 60_000;
  for (let i = 0; i < 100_000; i++) d.set(base + i);
  assert.ok(deadlineStats().entries <= 2 + 64, `${deadlineStats().entries} heap entries`);
  d.set(Infinity);
  assert.deepEqual(deadlineStats(), { live: 0, entries: 0, timer: false });
});

Deno.test("A deadline that throws does not keep the others from firing", async () => {
  const fired: string[] = [];
  const base = performance.now();
  let reported!: (error: unknown) => void;
  const uncaught = new Promise<unknown>((resolve) => (reported = resolve));
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    reported(e.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    let done!: () => void;
    const both = new Promise<void>((resolve) => (done = resolve));
    const a = new Deadline(() => {
      fired.push("a");
      throw new Error("boom");
    });
    const b = new Deadline(() => (fired.push("b"), done()));
    a.set(base + 5);
    b.set(base + 5);
    await withTimeout(both, 5000);
    // The error surfaces after the batch, as an uncaught timer error would.
    const error = await withTimeout(uncaught, 5000);
    assert.deepEqual(fired, ["a", "b"]);
    assert.equal((error as Error).message, "boom");
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});
