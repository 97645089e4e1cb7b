/**
 * fast-check properties over the PLAIN and CURVE mechanisms and CURVE's
 * MESSAGE codec, shared by `security_fuzz_test.ts` (`deno task test`) and
 * `tools/fuzz.ts` (`deno task fuzz`).
 *
 * Inputs: a real client and server wired back to back while a hostile
 * network mutates the bytes in flight (bit flips, byte sets, insertions,
 * deletions, truncations, in either direction, in any split), with random
 * ZAP replies (every status code, invalid ones, malformed metadata); random
 * command frames after a valid greeting; and hostile bodies for the MESSAGE
 * decoder (random, MESSAGE-prefixed, tampered valid boxes, replays).
 *
 * Invariants: nothing throws out of the session; at most one `error` event,
 * last, with a known kind and code and a reason; a `ready` only before it;
 * without mutations both sides become ready and messages arrive intact; the
 * MESSAGE decoder either yields a frame with valid flags or throws a
 * ProtocolViolation.
 *
 * @module
 */

import fc from "fast-check";
import { CurveCodec, PeerNonce } from "../../src/protocol/_curve_codec.ts";
import { ProtocolViolation } from "../../src/protocol/_wire.ts";
import { curveKeyPair } from "../../src/protocol/curve_keys.ts";
import { CurveClientMechanism, CurveServerMechanism } from "../../src/protocol/curve_mechanism.ts";
import type { Mechanism, ZapReply } from "../../src/protocol/mechanism.ts";
import { PlainClientMechanism, PlainServerMechanism } from "../../src/protocol/plain_mechanism.ts";
import { Session, type SessionEvent } from "../../src/protocol/session.ts";
import { mutate, type NamedProperty, splitAt } from "./_properties.ts";

type Mutation = Parameters<typeof mutate>[1][number];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ m: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    m: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 2, 4, 5, 0x7f, 0x80, 0xff),
  }),
  fc.record({
    m: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
  fc.record({
    m: fc.constant("delete" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({ m: fc.constant("truncate" as const), at: fc.nat() }),
);

/** A mutation hitting the n-th batch of bytes in one direction. */
interface Attack {
  round: number;
  toServer: boolean;
  mutations: Mutation[];
}

const attackArb: fc.Arbitrary<Attack> = fc.record({
  round: fc.integer({ min: 0, max: 5 }),
  toServer: fc.boolean(),
  mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
});

const encoder = new TextEncoder();
const metadataArb = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 24 }),
  fc.dictionary(fc.constantFrom("Role", "X", "bad name", ""), fc.string({ maxLength: 6 }), {
    maxKeys: 2,
  }),
);
const zapReplyArb: fc.Arbitrary<ZapReply> = fc.record({
  statusCode: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(200, 300, 400, 500) },
    { weight: 1, arbitrary: fc.integer({ min: -1, max: 999 }) },
  ),
  userId: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
  metadata: metadataArb,
}, { requiredKeys: ["statusCode"] }) as fc.Arbitrary<ZapReply>;

const KINDS = new Set(["protocol", "authentication", "timeout", "remote"]);
const CODES = new Set(["EPROTO", "EMSGSIZE", "ETIMEDOUT", "EACCES"]);

function fail(message: string): never {
  throw new Error(message);
}

/** Checks one side's whole event sequence. */
function checkEvents(events: readonly SessionEvent[]): void {
  let ready = false;
  let errored = false;
  for (const [i, e] of events.entries()) {
    if (errored) fail(`event ${i} (${e.type}) after an error`);
    if (e.type === "ready") {
      if (ready) fail("two ready events");
      ready = true;
    } else if (e.type === "error") {
      errored = true;
      if (!KINDS.has(e.kind) || !CODES.has(e.code)) fail(`bad error ${e.kind}/${e.code}`);
      if (typeof e.reason !== "string" || e.reason.length === 0) fail("error without a reason");
    } else if (e.type === "authenticate") {
      if (ready) fail("authenticate after ready");
    } else if (!ready) {
      fail(`${e.type} before ready`);
    }
  }
}

type Kind = "PLAIN" | "CURVE";

function mechanisms(kind: Kind, authenticate: boolean): [Mechanism, Mechanism] {
  if (kind === "PLAIN") {
    return [
      new PlainClientMechanism({ username: "user", password: "pass" }),
      new PlainServerMechanism({ authenticate }),
    ];
  }
  const server = curveKeyPair();
  return [
    new CurveClientMechanism({ serverKey: server.publicKey, ...curveKeyPair() }),
    new CurveServerMechanism({ secretKey: server.secretKey, authenticate }),
  ];
}

const PAYLOAD = [encoder.encode("payload"), new Uint8Array(300).fill(7)];

/**
 * Runs a handshake and one message each way under attack; checks both
 * sides. Returns whether both became ready.
 */
function duel(
  kind: Kind,
  authenticate: boolean,
  reply: ZapReply,
  attacks: readonly Attack[],
  cuts: readonly number[],
): void {
  const [clientMechanism, serverMechanism] = mechanisms(kind, authenticate);
  const client = new Session({ socketType: "DEALER", now: 0, mechanism: clientMechanism });
  const server = new Session({ socketType: "ROUTER", now: 0, mechanism: serverMechanism });
  const all = { client: [] as SessionEvent[], server: [] as SessionEvent[] };
  let sent = false;
  const accepted = !authenticate || reply.statusCode === 200;
  for (let round = 0; round < 8; round++) {
    for (const toServer of [true, false]) {
      const [from, to, events] = toServer
        ? [client, server, all.server]
        : [server, client, all.client];
      let bytes = concat(from.takeOutput());
      for (const attack of attacks) {
        if (attack.round === round && attack.toServer === toServer) {
          bytes = mutate(bytes, attack.mutations);
        }
      }
      for (const chunk of splitAt(bytes, cuts)) to.receive(chunk, round);
      for (const e of to.takeEvents()) {
        events.push(e);
        if (e.type === "authenticate") {
          to.authenticated(reply, round);
          events.push(...to.takeEvents());
        }
      }
    }
    if (!sent && client.phase === "ready" && server.phase === "ready") {
      client.send(PAYLOAD);
      sent = true;
    }
  }
  client.tick(1_000_000);
  server.tick(1_000_000);
  all.client.push(...client.takeEvents());
  all.server.push(...server.takeEvents());
  checkEvents(all.client);
  checkEvents(all.server);
  if (attacks.length === 0 && accepted && reply.metadata === undefined) {
    if (!sent) fail(`an unattacked ${kind} handshake did not complete`);
    const message = all.server.find((e) => e.type === "message");
    if (message?.type !== "message" || message.frames.length !== 2) {
      fail("the message did not arrive intact");
    }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function greeting(mechanism: string, asServer: boolean): Uint8Array {
  const g = new Uint8Array(64);
  g.set([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1]);
  g.set(encoder.encode(mechanism), 12);
  g[32] = asServer ? 1 : 0;
  return g;
}

const NAMES = ["HELLO", "WELCOME", "INITIATE", "READY", "ERROR", "MESSAGE", "PING", "X"];
const commandArb = fc.record({
  name: fc.constantFrom(...NAMES),
  size: fc.constantFrom(0, 1, 2, 16, 24, 160, 194, 248, 260, 300),
  seed: fc.uint8Array({ maxLength: 32 }),
  flags: fc.constantFrom(0x04, 0x04, 0x05, 0x00, 0x06),
}).map(({ name, size, seed, flags }) => {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = seed.length > 0 ? seed[i % seed.length] : 0;
  if (name === "HELLO" && size >= 2) data.set([1, 0]);
  const body = new Uint8Array(1 + name.length + size);
  body[0] = name.length;
  body.set(encoder.encode(name), 1);
  body.set(data, 1 + name.length);
  const head = body.length < 256 ? Uint8Array.of(flags & ~2, body.length) : Uint8Array.of(
    flags | 2,
    0,
    0,
    0,
    0,
    0,
    0,
    body.length >>> 8,
    body.length & 0xff,
  );
  return concat([head, body]);
});

/** Cases run so far, per property. */
export const securityCounts: Record<string, number> = {};

function counted<T extends unknown[]>(name: string, check: (...args: T) => void) {
  securityCounts[name] = 0;
  return (...args: T) => {
    securityCounts[name]++;
    check(...args);
  };
}

/**
 * The properties, by name. `cheap` marks those without key exchanges, which
 * can run many more cases in the same time.
 */
export function securityProperties(): (NamedProperty & { cheap: boolean })[] {
  const duelName = (kind: Kind) =>
    `${kind}: client and server under a hostile network and random ZAP replies`;
  const randomName = (kind: Kind) =>
    `${kind}: random command frames after a valid greeting, to client and server`;
  const codecName = "CURVE MESSAGE decoder: hostile bodies yield a frame or a ProtocolViolation";
  const duelProperty = (kind: Kind) =>
    fc.property(
      fc.boolean(),
      zapReplyArb,
      fc.oneof(
        { weight: 1, arbitrary: fc.constant([] as Attack[]) },
        { weight: 4, arbitrary: fc.array(attackArb, { minLength: 1, maxLength: 2 }) },
      ),
      fc.array(fc.nat(), { maxLength: 6 }),
      counted(duelName(kind), (authenticate, reply, attacks, cuts) => {
        duel(kind, authenticate, reply, attacks, cuts);
      }),
    ) as NamedProperty["property"];
  const randomProperty = (kind: Kind) =>
    fc.property(
      fc.boolean(),
      fc.array(commandArb, { maxLength: 6 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      zapReplyArb,
      counted(randomName(kind), (asServer, commands, tail, cuts, reply) => {
        const [clientMechanism, serverMechanism] = mechanisms(kind, true);
        const session = new Session({
          socketType: "PAIR",
          now: 0,
          mechanism: asServer ? serverMechanism : clientMechanism,
        });
        const stream = concat([greeting(kind, !asServer), ...commands, tail]);
        const events: SessionEvent[] = [];
        for (const chunk of splitAt(stream, cuts)) {
          session.receive(chunk, 0);
          for (const e of session.takeEvents()) {
            events.push(e);
            if (e.type === "authenticate") {
              session.authenticated(reply, 0);
              events.push(...session.takeEvents());
            }
          }
        }
        session.tick(1_000_000);
        events.push(...session.takeEvents());
        checkEvents(events);
        session.takeOutput();
      }),
    ) as NamedProperty["property"];

  const key = crypto.getRandomValues(new Uint8Array(32));
  return [
    { name: duelName("PLAIN"), property: duelProperty("PLAIN"), cheap: true },
    { name: randomName("PLAIN"), property: randomProperty("PLAIN"), cheap: true },
    { name: duelName("CURVE"), property: duelProperty("CURVE"), cheap: false },
    { name: randomName("CURVE"), property: randomProperty("CURVE"), cheap: false },
    {
      name: codecName,
      cheap: true,
      property: fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              valid: fc.constant(true),
              flags: fc.constantFrom(0, 1, 4),
              body: fc.uint8Array({ maxLength: 40 }),
              mutations: fc.array(mutationArb, { maxLength: 2 }),
              replay: fc.boolean(),
            }),
            fc.record({
              valid: fc.constant(false),
              flags: fc.constant(0),
              body: fc.uint8Array({ maxLength: 80 }),
              mutations: fc.constant([]),
              replay: fc.constant(false),
            }),
          ),
          { maxLength: 6 },
        ),
        counted(codecName, (items) => {
          const sender = new CurveCodec(key, false, 3, new PeerNonce());
          const receiver = new CurveCodec(key, true, 2, new PeerNonce());
          let alive = true;
          for (const item of items) {
            let wire: Uint8Array;
            if (item.valid) {
              wire = sender.wrap(item.flags, item.body);
            } else {
              wire = concat([encoder.encode("\x07MESSAGE"), item.body]);
            }
            const hostile = mutate(wire, item.mutations);
            const untouched = item.valid && item.mutations.length === 0;
            for (let copy = 0; copy < (item.replay ? 2 : 1) && alive; copy++) {
              try {
                const plain = receiver.unwrap(0, hostile);
                if (plain.length < 1 || (plain[0] & ~0x05) !== 0) fail("bad flags out of unwrap");
                if (untouched && plain.length !== item.body.length + 1) {
                  fail("a valid frame changed length");
                }
                if (copy === 1) fail("a replayed frame was accepted");
              } catch (error) {
                if (!(error instanceof ProtocolViolation)) throw error;
                // The session drops the connection here; an untouched first copy must pass.
                if (untouched && copy === 0) fail("a valid frame was refused");
                alive = false;
              }
            }
          }
        }),
      ) as NamedProperty["property"],
    },
  ];
}
