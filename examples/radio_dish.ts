/**
 * RADIO/DISH: publish to groups (rfc.zeromq.org spec 48).
 *
 * Like PUB/SUB, but a DISH joins groups by exact name (at most 15 bytes)
 * instead of subscribing to topic prefixes, and the group travels beside the
 * message rather than in its first frame: `send(body, { group })` on the
 * RADIO, `message.group` on the DISH. As with PUB/SUB a DISH's JOIN reaches
 * the RADIO asynchronously and what is published before is dropped, so the
 * RADIO here publishes on a timer, as a real feed would.
 *
 *                 ┌──▶ DISH joined "news"
 *   RADIO ────────┤
 *                 └──▶ DISH joined "sport" and "news"
 *
 * Run: `deno run -A examples/radio_dish.ts`
 *
 * @module
 */

import { DishSocket, RadioSocket, text } from "../mod.ts";

const WANTED = 3;

await using radio = new RadioSocket();
await radio.bind("tcp://127.0.0.1:0");
console.log(`RADIO on ${radio.lastEndpoint}`);

await using newsDish = new DishSocket({ receiveTimeout: 5000 });
newsDish.join("news");
newsDish.connect(radio.lastEndpoint!);
await using allDish = new DishSocket({ receiveTimeout: 5000 });
allDish.join("sport", "news");
allDish.connect(radio.lastEndpoint!);

// The feed: one message per group every 10 ms, "weather" to a group nobody joined.
let tick = 0;
const feed = setInterval(() => {
  tick++;
  for (const group of ["news", "sport", "weather"]) {
    radio.send(`${group} #${tick}`, { group }).catch(() => {}); // a RADIO send never waits
  }
}, 10);

/** Receives until `dish` has `WANTED` messages of each of `groups`; returns the count per group. */
async function collect(dish: DishSocket, groups: string[]): Promise<Map<string, number>> {
  const counts = new Map(groups.map((g) => [g, 0]));
  while ([...counts.values()].some((n) => n < WANTED)) {
    const message = await dish.receive();
    const group = text(message.group);
    counts.set(group, (counts.get(group) ?? 0) + 1);
    if (counts.get(group)! <= WANTED) {
      console.log(`  ${groups.join("+")} dish got ${text(message[0])}`);
    }
  }
  return counts;
}

try {
  const [news, all] = await Promise.all([
    collect(newsDish, ["news"]),
    collect(allDish, ["sport", "news"]),
  ]);
  if (news.has("weather") || all.has("weather")) {
    throw new Error("A DISH got a group it never joined");
  }
  console.log(
    `radio_dish: news dish got ${Math.min(news.get("news")!, WANTED)} news, ` +
      `sport+news dish got ${Math.min(all.get("sport")!, WANTED)} sport and ` +
      `${Math.min(all.get("news")!, WANTED)} news, nobody got the weather`,
  );
} finally {
  clearInterval(feed);
}
