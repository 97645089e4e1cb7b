/**
 * Micro benchmarks of the routing policies: subscription matching at 1, 100
 * and 10 000 prefixes (hit, miss, near miss), subscription churn, load
 * balancing and fair queuing. Run with `deno bench src/socket/_routing/`.
 *
 * @module
 */

import { SubscriptionTable } from "./subscription_table.ts";
import { LoadBalancer } from "./load_balancer.ts";
import { FairQueue } from "./fair_queue.ts";

const enc = new TextEncoder();
for (const n of [1, 100, 10_000]) {
  const t = new SubscriptionTable();
  for (let i = 0; i < n; i++) t.add(enc.encode(`topic.${i}.`));
  const hit = enc.encode(`topic.${n - 1}.payload`);
  const miss = enc.encode("other.topic.payload");
  // Shares the prefixes' first bytes, then turns away: the deepest miss.
  const nearMiss = enc.encode(`topic.${n}x.payload`);
  Deno.bench(`SubscriptionTable.matches, ${n} prefixes, hit`, { group: `match-${n}` }, () => {
    t.matches(hit);
  });
  Deno.bench(`SubscriptionTable.matches, ${n} prefixes, miss`, { group: `match-${n}` }, () => {
    t.matches(miss);
  });
  Deno.bench(`SubscriptionTable.matches, ${n} prefixes, near miss`, { group: `match-${n}` }, () => {
    t.matches(nearMiss);
  });
}

const churn = new SubscriptionTable();
for (let i = 0; i < 10_000; i++) churn.add(enc.encode(`topic.${i}.`));
const churned = enc.encode("topic.5000.x");
Deno.bench("SubscriptionTable add + remove among 10 000 prefixes", () => {
  churn.add(churned);
  churn.remove(churned);
});

const lb = new LoadBalancer<number>();
for (let i = 0; i < 100; i++) lb.add(i);
Deno.bench("LoadBalancer.next over 100 peers", () => {
  lb.next(() => true);
});

const fq = new FairQueue<number, number>();
const sources = Array.from({ length: 100 }, (_, i) => fq.add(i));
Deno.bench("FairQueue push + shift over 100 sources", () => {
  for (let i = 0; i < 100; i++) sources[i].push(i);
  for (let i = 0; i < 100; i++) fq.shift();
});
