/**
 * Secure publish-subscribe: CURVE encryption with an allow list of
 * subscribers.
 *
 * - The publisher is the CURVE server: it has a long-term key pair and
 *   publishes its public key (the subscribers must know it beforehand, as
 *   they would know a host's SSH key).
 * - Each subscriber is a CURVE client with its own key pair.
 * - An `Authenticator` (the in-process ZAP handler) lets in only the
 *   subscriber keys on its list; the others fail their handshake, and the
 *   publisher's `handshakeFailed` event says why.
 * - Everything after the 64-byte greeting is encrypted: topics, payloads and
 *   the sockets' metadata.
 *
 * Keys are 40-character Z85 strings (what libzmq's `zmq_curve_keypair` and
 * pyzmq's `zmq.curve_keypair()` make), so they can live in a config file.
 *
 * Run: `deno run -A examples/secure_pub_sub.ts`
 *
 * @module
 */

import { Authenticator, curveKeyPair, type SocketEvent, SubSocket, XPubSocket } from "../mod.ts";

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

const publisherKeys = curveKeyPair();
const trusted = curveKeyPair();
const stranger = curveKeyPair();

// The ZAP handler: CURVE clients must present a listed key.
await using auth = new Authenticator();
await auth.start();
auth.configureCurve([trusted.publicKey]);

// An XPUB tells us when the trusted subscription has arrived (no sleeps).
await using publisher = new XPubSocket({
  curveServer: true,
  curveSecretKey: publisherKeys.secretKey,
});
const events = publisher.events();
await publisher.bind("tcp://127.0.0.1:0");

/** A subscriber that knows the publisher's public key and has its own key pair. */
function subscriber(keys: { publicKey: string; secretKey: string }): SubSocket {
  const sub = new SubSocket({
    curveServerKey: publisherKeys.publicKey,
    curvePublicKey: keys.publicKey,
    curveSecretKey: keys.secretKey,
    reconnectInterval: -1, // a refused subscriber gives up instead of retrying
  });
  sub.subscribe("prices.");
  sub.connect(publisher.lastEndpoint!);
  return sub;
}

await using good = subscriber(trusted);
await using _stranger = subscriber(stranger); // refused: closed at the end all the same

// Wait for one accepted and one refused handshake.
let accepted: Extract<SocketEvent, { type: "handshakeSucceeded" }> | undefined;
let refused: Extract<SocketEvent, { type: "handshakeFailed" }> | undefined;
for await (const event of events) {
  if (event.type === "handshakeSucceeded") accepted = event;
  if (event.type === "handshakeFailed") refused = event;
  if (accepted && refused) break;
}
console.log(`accepted subscriber ${accepted!.peer.userId?.slice(0, 8)}… (its public key)`);
console.log(`refused the other: ${refused!.reason}`);

// The trusted subscription arrives as a message on the XPUB.
const [subscription] = await publisher.receive();
console.log(`publisher saw subscribe "${text(subscription.subarray(1))}"`);

await publisher.send(["prices.eurusd", "1.0842"]);
await publisher.send(["prices.end", ""]);

const got: string[] = [];
for await (const [topic, body] of good) {
  if (text(topic) === "prices.end") break;
  got.push(`${text(topic)}=${text(body)}`);
}
console.log(`secure_pub_sub: trusted subscriber got ${got.join(", ")}; stranger refused`);
