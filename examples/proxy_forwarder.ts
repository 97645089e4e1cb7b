/**
 * A forwarder (the Guide's "proxy" for pub-sub): publishers connect to an
 * XSUB, subscribers to an XPUB, and `proxy()` passes messages down and
 * subscriptions up, so a publisher behind the forwarder sends only what some
 * subscriber wants. It can bridge transports, here tcp on the publisher's
 * side and ipc on the subscribers'.
 *
 *   PUB ──▶ XSUB ══ proxy ══ XPUB ──▶ SUB "weather."
 *                                 └─▶ SUB "sports."
 *
 * Run: `deno run -A examples/proxy_forwarder.ts`
 *
 * @module
 */

import { proxy, PubSocket, SubSocket, XPubSocket, XSubSocket } from "../mod.ts";

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

await using frontend = new XSubSocket();
await frontend.bind("tcp://127.0.0.1:0");
await using backend = new XPubSocket();
await backend.bind(`ipc:///tmp/monocoque-forwarder-${crypto.randomUUID().slice(0, 8)}.sock`);
const stop = new AbortController();
const running = proxy(frontend, backend, { signal: stop.signal });

await using publisher = new PubSocket();
publisher.connect(frontend.lastEndpoint!);

const subscribers = ["weather.", "sports."].map((topic) => {
  const sub = new SubSocket();
  sub.subscribe(topic);
  sub.connect(backend.lastEndpoint!);
  const got: string[] = [];
  const done = (async () => {
    for await (const [name, value] of sub) {
      got.push(`${text(name)}=${text(value)}`);
      if (got.length === 3) return;
    }
  })();
  return { topic, sub, got, done };
});

// Subscriptions reach the publisher through the proxy in the background, and a PUB drops what
// nobody is subscribed to yet: publish every 10 ms until both subscribers have three messages.
let n = 0;
const publishing = setInterval(() => {
  n++;
  publisher.send(["weather.paris", `${20 + (n % 5)}C`]);
  publisher.send(["sports.rugby", `score-${n}`]);
  publisher.send(["news.nobody", "filtered out at the publisher"]);
}, 10);
await Promise.all(subscribers.map((s) => s.done));
clearInterval(publishing);

for (const s of subscribers) {
  console.log(`${s.topic} ${s.got.join(", ")}`);
  await s.sub.close();
}
stop.abort();
await running;
const summary = subscribers.map((s) => `${s.topic.slice(0, -1)} got ${s.got.length}`).join(", ");
console.log(`proxy_forwarder: ${summary} through the XSUB/XPUB forwarder`);
