/**
 * Publish-subscribe: one publisher, many subscribers, filtered by topic.
 *
 * A subscriber says which topic prefixes it wants; the publisher sends each
 * message only to the subscribers whose prefixes match the message's first
 * frame. Here:
 *
 * - subscriber "all-weather" wants `weather.` (every city) and `control.`;
 * - subscriber "paris+sports" wants `weather.paris`, `sports.` and `control.`;
 * - nobody wants `news.`, so those messages are not even sent over the wire.
 *
 * The "slow joiner": subscriptions travel to the publisher asynchronously,
 * after the connection is made. A plain PUB socket silently drops messages
 * published before they arrive. We use an XPUB socket instead — a PUB that
 * also receives its subscribers' subscriptions as messages (first byte 1 =
 * subscribe, then the topic) — and start publishing only once every
 * subscription has arrived. No guessing with sleeps.
 *
 * Run: `deno run -A examples/pub_sub.ts`
 *
 * @module
 */

import { SubSocket, XPubSocket } from "../mod.ts";

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

// `verbose` passes on every subscription, even one another subscriber
// already made (both subscribe to `control.`), so we can count them all.
await using publisher = new XPubSocket({ verbose: true });
await publisher.bind("tcp://127.0.0.1:0");

await using allWeather = new SubSocket();
allWeather.subscribe("weather.", "control.");
allWeather.connect(publisher.lastEndpoint!);

await using parisSports = new SubSocket();
parisSports.subscribe("weather.paris", "sports.", "control.");
parisSports.connect(publisher.lastEndpoint!);

// Wait until the publisher has seen all 5 subscriptions.
for (let seen = 0; seen < 5; seen++) {
  const [subscription] = await publisher.receive();
  const kind = subscription[0] === 1 ? "subscribe" : "unsubscribe";
  console.log(`publisher saw ${kind} "${text(subscription.subarray(1))}"`);
}

// Each subscriber collects messages until it gets the `control.end` message.
async function collect(name: string, sub: SubSocket): Promise<string[]> {
  const got: string[] = [];
  for await (const [topic, body] of sub) {
    if (text(topic) === "control.end") break;
    got.push(text(topic));
    console.log(`  ${name} <- ${text(topic)}: ${text(body)}`);
  }
  return got;
}
const results = Promise.all([
  collect("all-weather", allWeather),
  collect("paris+sports", parisSports),
]);

// Publish: the first frame is the topic, the second the payload.
const updates: [string, string][] = [
  ["weather.paris", "21°C, sunny"],
  ["weather.oslo", "4°C, sleet"],
  ["sports.tennis", "6-4 6-3"],
  ["news.local", "nobody subscribed to this"],
  ["weather.paris", "22°C, sunny"],
  ["control.end", ""],
];
for (const update of updates) await publisher.send(update);

const [a, b] = await results;
console.log(`pub_sub: all-weather got ${a.length} messages, paris+sports got ${b.length}`);
