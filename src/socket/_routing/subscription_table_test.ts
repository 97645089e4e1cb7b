import assert from "node:assert/strict";
import fc from "fast-check";
import { SubscriptionTable } from "./subscription_table.ts";

const b = (s: string) => new TextEncoder().encode(s);

Deno.test("SubscriptionTable matches nothing when empty", () => {
  const t = new SubscriptionTable();
  assert.equal(t.matches(b("anything")), false);
  assert.equal(t.matches(new Uint8Array(0)), false);
});

Deno.test("SubscriptionTable matches by prefix and the empty prefix matches all", () => {
  const t = new SubscriptionTable();
  t.add(b("weather."));
  assert.equal(t.matches(b("weather.paris")), true);
  assert.equal(t.matches(b("weather.")), true);
  assert.equal(t.matches(b("weather")), false);
  assert.equal(t.matches(b("traffic")), false);
  t.add(b(""));
  assert.equal(t.matches(b("traffic")), true);
  assert.equal(t.matches(new Uint8Array(0)), true);
});

Deno.test("SubscriptionTable counts subscriptions: the last remove unsubscribes", () => {
  const t = new SubscriptionTable();
  assert.equal(t.add(b("a")), true);
  assert.equal(t.add(b("a")), false);
  assert.equal(t.size, 1);
  assert.equal(t.remove(b("a")), false);
  assert.equal(t.matches(b("abc")), true);
  assert.equal(t.remove(b("a")), true);
  assert.equal(t.matches(b("abc")), false);
  assert.equal(t.size, 0);
  assert.equal(t.remove(b("a")), false, "removing an absent prefix is a no-op");
  assert.equal(t.remove(b("zzz")), false);
});

Deno.test("SubscriptionTable keeps longer prefixes when a shorter one goes", () => {
  const t = new SubscriptionTable();
  t.add(b("ab"));
  t.add(b("abcd"));
  t.remove(b("ab"));
  assert.equal(t.matches(b("abc")), false);
  assert.equal(t.matches(b("abcde")), true);
  assert.deepEqual(t.prefixes().map((p) => new TextDecoder().decode(p)), ["abcd"]);
});

Deno.test("SubscriptionTable agrees with a naive prefix list (property)", () => {
  const bytes = fc.uint8Array({ maxLength: 6, max: 3 });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), bytes), { maxLength: 40 }),
      fc.array(bytes, { maxLength: 20 }),
      (ops, probes) => {
        const t = new SubscriptionTable();
        const naive: Uint8Array[] = [];
        const key = (x: Uint8Array) => x.join(",");
        for (const [add, p] of ops) {
          if (add) {
            t.add(p);
            naive.push(p);
          } else {
            t.remove(p);
            const i = naive.findIndex((q) => key(q) === key(p));
            if (i >= 0) naive.splice(i, 1);
          }
        }
        for (const d of probes) {
          const expected = naive.some((p) => p.length <= d.length && p.every((x, i) => d[i] === x));
          assert.equal(t.matches(d), expected);
        }
        assert.equal(t.size, new Set(naive.map(key)).size);
        assert.deepEqual(new Set(t.prefixes().map(key)), new Set(naive.map(key)));
      },
    ),
    { numRuns: 300 },
  );
});
