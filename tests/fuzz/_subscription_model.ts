/**
 * A fast-check property of the {@linkcode SubscriptionTable} against a naive
 * model (a list of distinct prefixes with counts, searched linearly), for
 * `_properties.ts`.
 *
 * Inputs: churn — adds, removes, matches and cursor steps interleaved — over
 * mostly short topics from a 4-letter alphabet (so they share prefixes),
 * some of 300 B to 64 KiB, and a few of about 1 MiB; the long ones are cut
 * from one shared 1 MiB base (from the same alphabet), some with one byte
 * changed, so they share long prefixes with each other and with the short.
 *
 * Invariants: `add`/`remove` say whether the distinct set changed, `size`
 * is the number of distinct prefixes, `matches` is "some prefix starts the
 * data", a cursor stepped between changes yields the least prefix past its
 * last one, and full iteration is the model in byte order.
 *
 * @module
 */

import fc from "fast-check";
import { SubscriptionTable } from "../../src/socket/_routing/subscription_table.ts";

const MIB = 1 << 20;

/** One shared base for the long topics: bytes 0..3 from a fixed linear congruential sequence. */
const BASE = (() => {
  const b = new Uint8Array(MIB + 64);
  let x = 12345;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = (x >>> 16) & 3;
  }
  return b;
})();

/** A topic as generated: short bytes, or a cut of BASE with one byte maybe changed. */
type TopicSpec = Uint8Array | { length: number; at: number; to: number };

const topicArb: fc.Arbitrary<TopicSpec> = fc.oneof(
  { weight: 400, arbitrary: fc.uint8Array({ maxLength: 6, max: 3 }) },
  {
    weight: 8,
    arbitrary: fc.record({
      length: fc.integer({ min: 300, max: 65_536 }),
      at: fc.nat(),
      to: fc.integer({ min: -1, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      length: fc.constantFrom(MIB, MIB - 1, MIB + 7),
      at: fc.nat(),
      to: fc.integer({ min: -1, max: 3 }),
    }),
  },
);

function topicOf(spec: TopicSpec): Uint8Array {
  if (spec instanceof Uint8Array) return spec;
  const t = BASE.slice(0, spec.length);
  if (spec.to >= 0) t[spec.at % spec.length] = spec.to;
  return t;
}

type Op =
  | { o: "add" | "remove"; topic: TopicSpec }
  | { o: "match"; topic: TopicSpec; trim: number; suffix: Uint8Array }
  | { o: "step" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ o: fc.constant("add" as const), topic: topicArb }) },
  { weight: 3, arbitrary: fc.record({ o: fc.constant("remove" as const), topic: topicArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      o: fc.constant("match" as const),
      topic: topicArb,
      trim: fc.integer({ min: 0, max: 3 }),
      suffix: fc.uint8Array({ maxLength: 3, max: 4 }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ o: "step" as const }) },
);

/** The inputs of one case. */
export const subscriptionCaseArb: fc.Arbitrary<Op[]> = fc.array(opArb, { maxLength: 40 });

function compare(a: Uint8Array, b: Uint8Array): number {
  const m = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < m; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function fail(message: string): never {
  throw new Error(message);
}

function show(t: Uint8Array | undefined): string {
  if (t === undefined) return "undefined";
  const head = Array.from(t.subarray(0, 12)).join("");
  return t.length > 12 ? `${head}…(${t.length} B)` : `[${head}]`;
}

/** Runs one case against the table and the model; throws on the first difference. */
export function checkSubscriptionCase(ops: readonly Op[]): void {
  const table = new SubscriptionTable();
  /** The model: distinct prefixes with counts, in byte order. */
  const model: { topic: Uint8Array; count: number }[] = [];
  const find = (t: Uint8Array) => model.findIndex((e) => compare(e.topic, t) === 0);
  const cursor = table.cursor();
  let last: Uint8Array | undefined;
  let ended = false;
  for (const op of ops) {
    switch (op.o) {
      case "add": {
        const t = topicOf(op.topic);
        const i = find(t);
        const changed = table.add(t);
        if (changed !== (i < 0)) fail(`add ${show(t)} returned ${changed}`);
        if (i >= 0) model[i].count++;
        else {
          model.push({ topic: t.slice(), count: 1 });
          model.sort((a, b) => compare(a.topic, b.topic));
        }
        t.fill(9); // the table must have copied it
        break;
      }
      case "remove": {
        const t = topicOf(op.topic);
        const i = find(t);
        const expected = i >= 0 && model[i].count === 1;
        const changed = table.remove(t);
        if (changed !== expected) fail(`remove ${show(t)} returned ${changed}`);
        if (i >= 0 && --model[i].count === 0) model.splice(i, 1);
        break;
      }
      case "match": {
        const t = topicOf(op.topic);
        const cut = t.subarray(0, Math.max(0, t.length - op.trim));
        const data = new Uint8Array(cut.length + op.suffix.length);
        data.set(cut);
        data.set(op.suffix, cut.length);
        const expected = model.some((e) =>
          e.topic.length <= data.length && compare(e.topic, data.subarray(0, e.topic.length)) === 0
        );
        if (table.matches(data) !== expected) fail(`matches ${show(data)} is not ${expected}`);
        break;
      }
      case "step": {
        const got = cursor.next();
        const want = ended
          ? undefined
          : model.find((e) => last === undefined || compare(e.topic, last) > 0)?.topic;
        if ((got === undefined) !== (want === undefined) || (got && compare(got, want!) !== 0)) {
          fail(`cursor after ${show(last)} gave ${show(got)}, not ${show(want)}`);
        }
        if (got === undefined) ended = true;
        else last = got;
        break;
      }
    }
    if (table.size !== model.length) fail(`size ${table.size}, not ${model.length}`);
  }
  const all = [...table];
  if (all.length !== model.length || all.some((t, i) => compare(t, model[i].topic) !== 0)) {
    fail(`iteration gave ${all.map(show)}, not ${model.map((e) => show(e.topic))}`);
  }
}
