import { SubscriptionTable } from "./subscription_table.ts";
import { LoadBalancer } from "./load_balancer.ts";
import { FairQueue } from "./fair_queue.ts";

const enc = new TextEncoder();
for (const n of [1, 100, 10_000]) {
  const t = new SubscriptionTable();
  for (let i = 0; i < n; i++) t.add(enc.encode(`topic.${i}.`));
  const hit = enc.encode(`topic.${n - 1}.payload`);
  const miss = enc.encode("other.topic.payload");
  Deno.bench(`SubscriptionTable.matches, ${n} prefixes, hit`, { group: `match-${n}` }, () => {
    t.matches(hit);
  });
  Deno.bench(`SubscriptionTable.matches, ${n} prefixes, miss`, { group: `match-${n}` }, () => {
    t.matches(miss);
  });
}

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
