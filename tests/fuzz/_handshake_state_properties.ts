/**
 * fast-check properties that fuzz each PLAIN and CURVE handshake state on
 * its own, built so that most cases cost no X25519 operation (a full CURVE
 * handshake costs ~11 of them, ~5-18 ms): key pairs, a recorded valid
 * handshake and mechanisms already in the state under test are made once and
 * pooled; a case sends one hostile command (or a few frames) to a pooled
 * mechanism, which is replaced only when a case moved it on.
 *
 * Hostile inputs: the valid command of that state with bit flips, byte sets,
 * insertions, deletions and truncations; wrong lengths; other command names;
 * wrong versions; random bodies; hostile metadata inside valid boxes (a peer
 * that knows the keys); random ZAP replies. PLAIN's commands get
 * length-prefixed random fields in every state.
 *
 * Invariants: a mechanism returns a known step (`continue`, `authenticate`,
 * `ready`, or an `error` of kind protocol/authentication with a reason) or
 * throws a ProtocolViolation (malformed metadata), never anything else; the
 * session level (CURVE server awaiting HELLO) yields at most one error event,
 * last, with a known kind and code; a valid, untouched command is accepted.
 *
 * Shared by `handshake_state_fuzz_test.ts` (`deno task test`, few cases) and
 * `tools/fuzz.ts` (`deno task fuzz`).
 *
 * @module
 */

import fc from "fast-check";

const encoder = new TextEncoder();
import { boxKeyPair } from "../../src/protocol/_curve_crypto.ts";
import { decodeMetadata, encodeMetadata } from "../../src/protocol/_metadata.ts";
import { ProtocolViolation } from "../../src/protocol/_wire.ts";
import { CurveClientMechanism, CurveServerMechanism } from "../../src/protocol/curve_mechanism.ts";
import type {
  Mechanism,
  MechanismHost,
  MechanismStep,
  ZapReply,
} from "../../src/protocol/mechanism.ts";
import { PlainClientMechanism, PlainServerMechanism } from "../../src/protocol/plain_mechanism.ts";
import { Session, type SessionEvent } from "../../src/protocol/session.ts";
import { mutate, type NamedProperty, splitAt } from "./_properties.ts";

/** RFC 23 metadata of string properties. */
const meta = (props: [string, string][]) =>
  encodeMetadata(props.map(([k, v]) => [k, encoder.encode(v)]));

function fail(message: string): never {
  throw new Error(message);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** A command frame on the wire: flags, size (short or long), name, data. */
function commandFrame(name: string, data: Uint8Array, flags = 0x04): Uint8Array {
  const body = concat([Uint8Array.of(name.length), encoder.encode(name), data]);
  const head = body.length < 256 ? Uint8Array.of(flags & ~0x02, body.length) : Uint8Array.of(
    flags | 0x02,
    0,
    0,
    0,
    0,
    ...[24, 16, 8, 0].map((s) => body.length >>> s & 255),
  );
  return concat([head, body]);
}

function greeting(mechanism: string, asServer: boolean): Uint8Array {
  const g = new Uint8Array(64);
  g.set([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1]);
  g.set(encoder.encode(mechanism), 12);
  g[32] = asServer ? 1 : 0;
  return g;
}

/** A host for a mechanism driven without a session; records what it sends. */
class Host implements MechanismHost {
  readonly socketType = "DEALER" as const;
  readonly peerAsServer: boolean;
  readonly peerMinorVersion = 1;
  readonly metadata: Uint8Array;
  now = 0;
  sent: [string, Uint8Array][] = [];
  constructor(asServer: boolean, metadata: Uint8Array = meta([["Socket-Type", "DEALER"]])) {
    this.peerAsServer = !asServer;
    this.metadata = metadata;
  }
  sendCommand(name: string, data: Uint8Array): void {
    this.sent.push([name, data]);
  }
  /** The data of the last command sent with this name. */
  last(name: string): Uint8Array {
    return this.sent.findLast(([n]) => n === name)?.[1] ?? fail(`no ${name} was sent`);
  }
}

const STEP_TYPES = new Set(["continue", "authenticate", "ready", "error"]);

/**
 * Runs one mechanism call: a known step, or a ProtocolViolation, and nothing
 * else. Returns the step (undefined when it threw), having checked it.
 */
function step(call: () => MechanismStep): MechanismStep | undefined {
  let s: MechanismStep;
  try {
    s = call();
  } catch (error) {
    if (error instanceof ProtocolViolation) return undefined;
    throw error;
  }
  if (!STEP_TYPES.has(s.type)) fail(`unknown step ${s.type}`);
  if (s.type === "error") {
    if (s.kind !== "protocol" && s.kind !== "authentication") fail(`bad error kind ${s.kind}`);
    if (typeof s.reason !== "string" || s.reason.length === 0) fail("error without a reason");
  }
  if (s.type === "ready") {
    // The session decodes the peer's metadata next: malformed must be a ProtocolViolation.
    try {
      decodeMetadata(s.metadata);
    } catch (error) {
      if (!(error instanceof ProtocolViolation)) throw error;
    }
  }
  return s;
}

// ---------------------------------------------------------------- arbitraries

type Mutation = Parameters<typeof mutate>[1][number];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ m: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    m: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff),
  }),
  fc.record({
    m: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    m: fc.constant("delete" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ m: fc.constant("truncate" as const), at: fc.nat() }),
);

/** How a case changes a state's valid command. */
type Hostile =
  | { kind: "valid" }
  | { kind: "mutate"; mutations: Mutation[] }
  | { kind: "resize"; length: number }
  | { kind: "rename"; name: string }
  | { kind: "random"; bytes: Uint8Array };

const NAMES = ["HELLO", "WELCOME", "INITIATE", "READY", "ERROR", "MESSAGE", "PING", "hello", "X"];

/** Weights: structural changes (no crypto reached) are most cases. */
function hostileArb(validWeight: number): fc.Arbitrary<Hostile> {
  return fc.oneof(
    { weight: validWeight, arbitrary: fc.constant({ kind: "valid" as const }) },
    {
      weight: 30,
      arbitrary: fc.record({
        kind: fc.constant("mutate" as const),
        mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
      }),
    },
    {
      weight: 25,
      arbitrary: fc.record({
        kind: fc.constant("resize" as const),
        length: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 70000 })),
      }),
    },
    {
      weight: 20,
      arbitrary: fc.record({
        kind: fc.constant("rename" as const),
        name: fc.constantFrom(...NAMES),
      }),
    },
    {
      weight: 20,
      arbitrary: fc.record({
        kind: fc.constant("random" as const),
        bytes: fc.uint8Array({ maxLength: 300 }),
      }),
    },
  );
}

/** The command name and data a case sends instead of `[name, data]`. */
function apply(h: Hostile, name: string, data: Uint8Array): [string, Uint8Array] {
  switch (h.kind) {
    case "valid":
      return [name, data];
    case "mutate":
      return [name, mutate(data, h.mutations)];
    case "resize": {
      const out = new Uint8Array(h.length);
      out.set(data.subarray(0, h.length));
      return [name, out];
    }
    case "rename":
      return [h.name, data];
    case "random":
      return [name, h.bytes];
  }
}

/** RFC 23 metadata, well-formed or not: a peer that knows the keys sends it boxed. */
const metadataArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constant(meta([["Socket-Type", "ROUTER"]])),
  fc.constant(meta([["Socket-Type", "DEALER"], ["Identity", ""]])),
  fc.uint8Array({ maxLength: 40 }),
  fc.array(
    fc.tuple(fc.uint8Array({ maxLength: 12 }), fc.integer({ min: -2, max: 300 })),
    { maxLength: 3 },
  ).map((props) =>
    concat(props.flatMap(([name, size]) => [
      Uint8Array.of(name.length),
      name,
      Uint8Array.of(size >>> 24 & 255, size >>> 16 & 255, size >>> 8 & 255, size & 255),
      new Uint8Array(Math.max(0, Math.min(size, 40))),
    ]))
  ),
);

const zapReplyArb: fc.Arbitrary<ZapReply> = fc.record({
  statusCode: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(200, 300, 400, 500) },
    { weight: 1, arbitrary: fc.integer({ min: -1, max: 999 }) },
  ),
  userId: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
  metadata: fc.option(
    fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      fc.dictionary(fc.constantFrom("Role", "X", "bad name", ""), fc.string({ maxLength: 6 }), {
        maxKeys: 2,
      }),
    ),
    { nil: undefined },
  ),
}, { requiredKeys: ["statusCode"] }) as fc.Arbitrary<ZapReply>;

// ---------------------------------------------------------------- CURVE fixtures

interface Keys {
  server: { publicKey: Uint8Array; secretKey: Uint8Array };
  client: { publicKey: Uint8Array; secretKey: Uint8Array };
  /** A valid HELLO to the server key (any server with it accepts it). */
  hello: Uint8Array;
}

let keys: Keys | undefined;
function fixture(): Keys {
  if (keys) return keys;
  const server = boxKeyPair();
  const client = boxKeyPair();
  const host = new Host(false);
  new CurveClientMechanism({ serverKey: server.publicKey, ...client }).start(host);
  keys = { server, client, hello: host.last("HELLO") };
  return keys;
}

const newServer = (authenticate = false) =>
  new CurveServerMechanism({ secretKey: fixture().server.secretKey, authenticate });
const newClient = (metadata?: Uint8Array) => {
  const { server, client } = fixture();
  const host = new Host(false, metadata);
  const mechanism = new CurveClientMechanism({ serverKey: server.publicKey, ...client });
  mechanism.start(host);
  return { mechanism, host };
};

/** A client that sent HELLO, and the valid WELCOME a server answered. */
interface AwaitingWelcome {
  client: CurveClientMechanism;
  host: Host;
  welcome: Uint8Array;
  serverHost: Host;
  server: CurveServerMechanism;
}

function awaitingWelcome(clientMetadata?: Uint8Array, authenticate = false): AwaitingWelcome {
  const { mechanism: client, host } = newClient(clientMetadata);
  const server = newServer(authenticate);
  const serverHost = new Host(true);
  const s = server.receiveCommand(serverHost, "HELLO", host.last("HELLO"));
  if (s.type !== "continue") fail(`the fixture's HELLO was refused: ${JSON.stringify(s)}`);
  return { client, host, welcome: serverHost.last("WELCOME"), serverHost, server };
}

/** A client that sent INITIATE, and the valid READY (with `metadata`) the server answered. */
function awaitingReady(metadata: Uint8Array): { client: CurveClientMechanism; ready: Uint8Array } {
  const w = awaitingWelcome();
  if (w.client.receiveCommand(w.host, "WELCOME", w.welcome).type !== "continue") {
    fail("the fixture's WELCOME was refused");
  }
  const serverHost = new Host(true, metadata);
  serverHost.now = 0;
  const s = w.server.receiveCommand(serverHost, "INITIATE", w.host.last("INITIATE"));
  if (s.type !== "ready") fail(`the fixture's INITIATE was refused: ${JSON.stringify(s)}`);
  return { client: w.client, ready: serverHost.last("READY") };
}

// ---------------------------------------------------------------- PLAIN bodies

const fieldArb = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.constant(encoder.encode("user")),
  fc.constant(encoder.encode("pass")),
);
/** PLAIN-shaped bodies: length-prefixed fields with honest or lying lengths, metadata, junk. */
const plainBodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.array(fc.tuple(fieldArb, fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined })), {
    maxLength: 3,
  }).map((fields) => concat(fields.flatMap(([f, lie]) => [Uint8Array.of(lie ?? f.length), f]))),
  metadataArb,
  fc.uint8Array({ maxLength: 300 }),
  // ERROR: a reason of 0-255 octets, its length true or not.
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 20 })).map(([n, b]) =>
    concat([Uint8Array.of(n), b])
  ),
);

// ---------------------------------------------------------------- properties

/** Cases run so far, per property. */
export const stateCounts: Record<string, number> = {};

function counted<T extends unknown[]>(name: string, check: (...args: T) => void) {
  stateCounts[name] = 0;
  return (...args: T) => {
    stateCounts[name]++;
    check(...args);
  };
}

const KINDS = new Set(["protocol", "authentication", "timeout", "remote"]);
const CODES = new Set(["EPROTO", "EMSGSIZE", "EACCES", "ETIMEDOUT"]);

function checkSessionEvents(events: readonly SessionEvent[]): void {
  for (const [i, e] of events.entries()) {
    if (e.type !== "error") fail(`unexpected ${e.type} event`);
    if (i !== events.length - 1) fail("an event after the error");
    if (!KINDS.has(e.kind) || !CODES.has(e.code)) fail(`bad error ${e.kind}/${e.code}`);
    if (!e.reason || /undefined|null|is not a function|Cannot read/.test(e.reason)) {
      fail(`an internal error surfaced as a protocol error: ${e.reason}`);
    }
  }
}

/**
 * The properties. `cheap` marks those whose cases mostly reach no X25519
 * operation; the others build a fresh handshake per case (`tools/fuzz.ts` and
 * the test run a tenth as many).
 */
export function handshakeStateProperties(): (NamedProperty & { cheap: boolean })[] {
  const helloName = "CURVE server awaiting HELLO: hostile frames through a session";
  const welcomeName = "CURVE client awaiting WELCOME: hostile WELCOME and other commands";
  const initiateName =
    "CURVE server awaiting INITIATE: hostile INITIATE, boxed hostile metadata, ZAP replies";
  const readyName = "CURVE client awaiting READY: hostile READY, boxed hostile metadata";
  const plainName = "PLAIN client and server in every state: PLAIN-shaped hostile bodies";

  // Pooled mechanisms, replaced when a case moves one on.
  let helloServer: CurveServerMechanism | undefined;
  let welcomeClient: AwaitingWelcome | undefined;
  // A READY that reached a client may have advanced its nonce: such an entry is "dirty".
  const readyPool = new Map<
    number,
    { client: CurveClientMechanism; ready: Uint8Array; dirty: boolean }
  >();
  const READY_METADATA = [
    meta([["Socket-Type", "ROUTER"]]),
    Uint8Array.of(5, 65, 66),
    Uint8Array.of(0),
    new Uint8Array(0),
  ];

  const hello = fc.property(
    hostileArb(3),
    fc.array(fc.tuple(fc.constantFrom(...NAMES), fc.uint8Array({ maxLength: 40 })), {
      maxLength: 2,
    }),
    fc.constantFrom(0x04, 0x04, 0x04, 0x00, 0x05, 0x06),
    fc.array(fc.nat(), { maxLength: 6 }),
    counted(helloName, (hostile, after, flags, cuts) => {
      const mechanism = helloServer ??= newServer();
      const session = new Session({ socketType: "ROUTER", now: 0, mechanism });
      const [name, data] = apply(hostile, "HELLO", fixture().hello);
      const stream = concat([
        greeting("CURVE", false),
        commandFrame(name, data, flags),
        ...after.map(([n, d]) => commandFrame(n, d)),
      ]);
      for (const chunk of splitAt(stream, cuts)) session.receive(chunk, 0);
      session.tick(1_000_000);
      const events = session.takeEvents();
      checkSessionEvents(events);
      const out = concat(session.takeOutput());
      const welcomed = out.length > 64 &&
        new TextDecoder().decode(out.subarray(64)).includes("\x07WELCOME");
      if (hostile.kind === "valid" && flags === 0x04 && !welcomed) {
        fail(`a valid HELLO was not answered: ${JSON.stringify(events)}`);
      }
      if (welcomed) helloServer = undefined;
    }),
  ) as NamedProperty["property"];

  const welcome = fc.property(
    hostileArb(4),
    counted(welcomeName, (hostile) => {
      const w = welcomeClient ??= awaitingWelcome();
      const [name, data] = apply(hostile, "WELCOME", w.welcome);
      const s = step(() => w.client.receiveCommand(w.host, name, data));
      if (hostile.kind === "valid" && s?.type !== "continue") fail("a valid WELCOME was refused");
      if (s?.type !== "error") welcomeClient = undefined;
    }),
  ) as NamedProperty["property"];

  const initiate = fc.property(
    hostileArb(15),
    metadataArb,
    fc.boolean(),
    zapReplyArb,
    fc.constantFrom(0, 1000, 59_999, 60_000, 1e9),
    counted(initiateName, (hostile, metadata, authenticate, reply, now) => {
      const w = awaitingWelcome(metadata, authenticate);
      if (step(() => w.client.receiveCommand(w.host, "WELCOME", w.welcome))?.type !== "continue") {
        fail("the WELCOME was refused");
      }
      const [name, data] = apply(hostile, "INITIATE", w.host.last("INITIATE"));
      w.serverHost.now = now;
      const s = step(() => w.server.receiveCommand(w.serverHost, name, data));
      if (s?.type === "authenticate") step(() => w.server.authenticated(w.serverHost, reply));
      if (hostile.kind === "valid" && now < 60_000) {
        let valid = true;
        try {
          decodeMetadata(metadata);
        } catch {
          valid = false;
        }
        const wanted = authenticate ? "authenticate" : "ready";
        if (valid && s?.type !== wanted) fail(`a valid INITIATE gave ${s?.type}, not ${wanted}`);
      }
    }),
  ) as NamedProperty["property"];

  const ready = fc.property(
    hostileArb(2),
    fc.integer({ min: 0, max: READY_METADATA.length - 1 }),
    counted(readyName, (hostile, which) => {
      let entry = readyPool.get(which);
      if (!entry || (hostile.kind === "valid" && entry.dirty)) {
        readyPool.set(which, entry = { ...awaitingReady(READY_METADATA[which]), dirty: false });
      }
      const [name, data] = apply(hostile, "READY", entry.ready);
      const client = entry.client;
      if (name === "READY") entry.dirty = true;
      const s = step(() => client.receiveCommand(new Host(false), name, data));
      if (hostile.kind === "valid" && s?.type !== "ready") fail("a valid READY was refused");
      if (s?.type !== "error") readyPool.delete(which);
    }),
  ) as NamedProperty["property"];

  const plain = fc.property(
    fc.constantFrom("client", "server"),
    fc.boolean(),
    fc.integer({ min: 0, max: 2 }),
    fc.array(fc.tuple(fc.constantFrom(...NAMES), plainBodyArb), { minLength: 1, maxLength: 3 }),
    zapReplyArb,
    counted(plainName, (role, authenticate, validFirst, commands, reply) => {
      const host = new Host(role === "server");
      const mechanism: Mechanism = role === "client"
        ? new PlainClientMechanism({ username: "user", password: "pass" })
        : new PlainServerMechanism({ authenticate });
      step(() => mechanism.start(host));
      // Reach each state: the first `validFirst` commands of a good handshake, then hostile ones.
      const good: [string, Uint8Array][] = role === "client"
        ? [["WELCOME", new Uint8Array(0)], ["READY", meta([["Socket-Type", "ROUTER"]])]]
        : [
          ["HELLO", concat([Uint8Array.of(4), encoder.encode("user"), Uint8Array.of(4)])],
          ["INITIATE", meta([["Socket-Type", "DEALER"]])],
        ];
      if (role === "server") good[0][1] = concat([good[0][1], encoder.encode("pass")]);
      for (const [name, data] of [...good.slice(0, validFirst), ...commands]) {
        const s = step(() => mechanism.receiveCommand(host, name, data));
        if (s?.type === "authenticate") step(() => mechanism.authenticated!(host, reply));
        if (s === undefined || s.type === "error" || s.type === "ready") break;
      }
    }),
  ) as NamedProperty["property"];

  return [
    { name: helloName, property: hello, cheap: true },
    { name: welcomeName, property: welcome, cheap: true },
    { name: initiateName, property: initiate, cheap: false },
    { name: readyName, property: ready, cheap: true },
    { name: plainName, property: plain, cheap: true },
  ];
}
