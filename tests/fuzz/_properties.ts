/**
 * fast-check properties over the sans-IO ZMTP {@linkcode Session} and its
 * frame decoder, shared by the bounded suite in `session_fuzz_test.ts`
 * (`deno task test`) and the long run in `tools/fuzz.ts` (`deno task fuzz`).
 *
 * Inputs: random bytes (bare, or after a valid greeting, or after a valid
 * greeting and READY), and valid streams (greeting, READY, messages, PINGs,
 * PONGs, SUBSCRIBE/CANCEL, unknown commands) mutated by bit flips, byte sets,
 * insertions, deletions and truncations; each fed in an arbitrary split with
 * timer ticks between chunks.
 *
 * The subscription-table property (churn against a naive model, topics up to
 * 1 MiB) is in `_subscription_model.ts`.
 *
 * Invariants: `receive()`/`tick()`/`takeEvents()`/`takeOutput()`/`nextTimeout()`
 * never throw; every event is well-formed (a single `ready` first, messages
 * and subscriptions only after it, no frame over `maxMessageSize`, at most
 * one `error` and nothing after it, with a kind, a code and a reason); the
 * session is closed after an error and stays silent whatever comes next; and
 * the events do not depend on how the bytes are split.
 *
 * @module
 */

import fc from "fast-check";
import { BROKEN, FRAME, FrameDecoder } from "../../src/protocol/_frame_decoder.ts";
import { Session } from "../../src/protocol/session.ts";
import type { SessionEvent } from "../../src/protocol/session.ts";
import { isCompatible, isSocketType } from "../../src/protocol/socket_type.ts";
import type { SocketType } from "../../src/protocol/socket_type.ts";
import { checkSubscriptionCase, subscriptionCaseArb } from "./_subscription_model.ts";

const encoder = new TextEncoder();

/** Every socket type. */
export const SOCKET_TYPES: readonly SocketType[] = [
  "PAIR",
  "PUB",
  "SUB",
  "REQ",
  "REP",
  "DEALER",
  "ROUTER",
  "PULL",
  "PUSH",
  "XPUB",
  "XSUB",
];

/** Compatible (ours, theirs) pairs. */
const PAIRS: [SocketType, SocketType][] = SOCKET_TYPES.flatMap((a) =>
  SOCKET_TYPES.filter((b) => isCompatible(a, b)).map((b) => [a, b] as [SocketType, SocketType])
);

// ---- byte builders -------------------------------------------------------------

function cat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function greeting(minor = 1): Uint8Array {
  const g = new Uint8Array(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = minor;
  g.set(encoder.encode("NULL"), 12);
  return g;
}

function frame(flags: number, body: Uint8Array): Uint8Array {
  if (body.length <= 255) return cat([Uint8Array.of(flags, body.length), body]);
  const head = new Uint8Array(9);
  head[0] = flags | 0x02;
  new DataView(head.buffer).setBigUint64(1, BigInt(body.length));
  return cat([head, body]);
}

function command(name: string, data: Uint8Array): Uint8Array {
  return frame(0x04, cat([Uint8Array.of(name.length), encoder.encode(name), data]));
}

function readyCommand(socketType: string, identity: Uint8Array | undefined): Uint8Array {
  const props: [string, Uint8Array][] = [["Socket-Type", encoder.encode(socketType)]];
  if (identity !== undefined) props.push(["Identity", identity]);
  const parts: Uint8Array[] = [];
  for (const [name, value] of props) {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, value.length);
    parts.push(Uint8Array.of(name.length), encoder.encode(name), len, value);
  }
  return command("READY", cat(parts));
}

// ---- arbitraries -----------------------------------------------------------------

/** Session options: a socket type and limits that matter to the decoder and timers. */
export interface Config {
  ours: SocketType;
  theirs: SocketType;
  maxMessageSize: number | undefined;
  heartbeatInterval: number;
  handshakeInterval: number;
}

const configArb: fc.Arbitrary<Config> = fc.record({
  pair: fc.constantFrom(...PAIRS),
  maxMessageSize: fc.constantFrom(undefined, -1, 0, 1, 16, 255, 256, 1024),
  heartbeatInterval: fc.constantFrom(0, 0, 10, 100),
  handshakeInterval: fc.constantFrom(0, 50, 30000),
}).map(({ pair, ...rest }) => ({ ours: pair[0], theirs: pair[1], ...rest }));

const bodyArb = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 250, maxLength: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 70_000 }).map((n) => new Uint8Array(n)) },
);

type Item =
  | { t: "message"; frames: Uint8Array[] }
  | { t: "ping"; ttl: number; context: Uint8Array }
  | { t: "pong"; context: Uint8Array }
  | { t: "subscribe" | "cancel"; topic: Uint8Array }
  | { t: "unknown"; name: string; data: Uint8Array }
  | { t: "error"; reason: string };

const itemArb: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(bodyArb, { minLength: 1, maxLength: 4 }).map((frames) => ({
      t: "message" as const,
      frames,
    })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("ping" as const),
      ttl: fc.integer({ min: 0, max: 0xffff }),
      context: fc.uint8Array({ maxLength: 20 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("pong" as const),
      context: fc.uint8Array({ maxLength: 16 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constantFrom("subscribe" as const, "cancel" as const),
      topic: fc.uint8Array({ maxLength: 12 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("unknown" as const),
      name: fc.stringMatching(/^[A-Z]{1,12}$/),
      data: fc.uint8Array({ maxLength: 12 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant("error" as const),
      reason: fc.string({ maxLength: 20 }),
    }),
  },
);

function encodeItem(item: Item): Uint8Array {
  switch (item.t) {
    case "message":
      return cat(item.frames.map((f, i) => frame(i < item.frames.length - 1 ? 0x01 : 0, f)));
    case "ping":
      return command("PING", cat([Uint8Array.of(item.ttl >> 8, item.ttl & 0xff), item.context]));
    case "pong":
      return command("PONG", item.context);
    case "subscribe":
      return command("SUBSCRIBE", item.topic);
    case "cancel":
      return command("CANCEL", item.topic);
    case "unknown":
      return command(item.name, item.data);
    case "error": {
      const r = encoder.encode(item.reason).subarray(0, 255);
      return command("ERROR", cat([Uint8Array.of(r.length), r]));
    }
  }
}

/** A valid peer stream for a config: greeting, READY, then items. */
const streamArb = (config: Config) =>
  fc.record({
    minor: fc.constantFrom(0, 1, 1, 1),
    identity: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: undefined }),
    items: fc.array(itemArb, { maxLength: 10 }),
  }).map(({ minor, identity, items }) =>
    cat([greeting(minor), readyCommand(config.theirs, identity), ...items.map(encodeItem)])
  );

type Mutation =
  | { m: "flip"; at: number; bit: number }
  | { m: "set"; at: number; value: number }
  | { m: "insert"; at: number; bytes: Uint8Array }
  | { m: "delete"; at: number; length: number }
  | { m: "truncate"; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ m: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    m: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0x80, 0xfe, 0xff),
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

/** Applies mutations to a copy of `stream`. */
export function mutate(stream: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let s: Uint8Array = stream.slice();
  for (const mu of mutations) {
    const at = s.length === 0 ? 0 : mu.at % (s.length + (mu.m === "insert" ? 1 : 0));
    switch (mu.m) {
      case "flip":
        if (s.length > 0) s[at] ^= 1 << mu.bit;
        break;
      case "set":
        if (s.length > 0) s[at] = mu.value;
        break;
      case "insert":
        s = cat([s.subarray(0, at), mu.bytes, s.subarray(at)]);
        break;
      case "delete":
        s = cat([s.subarray(0, at), s.subarray(at + mu.length)]);
        break;
      case "truncate":
        s = s.slice(0, at);
        break;
    }
  }
  return s;
}

/** Splits `bytes` at the given cut points (taken modulo its length). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

/** Arbitrary cut points: none, a few, or many. */
const cutsArb = fc.oneof(
  fc.array(fc.nat(), { maxLength: 4 }),
  fc.array(fc.nat(), { maxLength: 64 }),
);

/** Time steps between chunks (ms); ticks fire the session's timers. */
const stepsArb = fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 64 });

// ---- the driver and its checks -------------------------------------------------------

const KINDS = new Set(["protocol", "authentication", "timeout", "remote"]);
const CODES = new Set(["EPROTO", "EMSGSIZE", "ETIMEDOUT", "EACCES"]);

function fail(message: string): never {
  throw new Error(message);
}

/** Checks that a whole event sequence is well-formed for `config`. */
export function checkEvents(config: Config, events: readonly SessionEvent[]): void {
  let ready = false;
  let errored = false;
  const max = config.maxMessageSize === undefined || config.maxMessageSize < 0
    ? Infinity
    : config.maxMessageSize;
  for (const [i, e] of events.entries()) {
    if (errored) fail(`event ${i} (${e.type}) after an error`);
    switch (e.type) {
      case "ready": {
        if (ready) fail("a second ready event");
        if (i !== 0) fail(`ready is event ${i}, not the first`);
        ready = true;
        const p = e.peer;
        if (!isSocketType(p.socketType) || !isCompatible(config.ours, p.socketType)) {
          fail(`ready with an incompatible peer type ${p.socketType} for ${config.ours}`);
        }
        if (
          p.routingId !== undefined &&
          (!(p.routingId instanceof Uint8Array) || p.routingId.length === 0)
        ) {
          fail("ready with an empty or non-bytes routing id");
        }
        if (p.minorVersion !== 0 && p.minorVersion !== 1) fail(`minor version ${p.minorVersion}`);
        if (p.mechanism !== "NULL") fail(`mechanism ${p.mechanism}`);
        if (!(p.properties instanceof Map)) fail("properties is not a Map");
        break;
      }
      case "message":
        if (!ready) fail("message before ready");
        if (!Array.isArray(e.frames) || e.frames.length === 0) fail("message without frames");
        for (const f of e.frames) {
          if (!(f instanceof Uint8Array)) fail("frame is not a Uint8Array");
          if (f.length > max) fail(`frame of ${f.length} octets over maxMessageSize ${max}`);
        }
        break;
      case "subscribe":
      case "cancel":
        if (!ready) fail(`${e.type} before ready`);
        if (!(e.topic instanceof Uint8Array)) fail(`${e.type} topic is not a Uint8Array`);
        break;
      case "command":
        if (!ready) fail("command before ready");
        if (typeof e.name !== "string" || e.name.length === 0 || e.name.length > 255) {
          fail(`command name ${JSON.stringify(e.name)}`);
        }
        if (!(e.data instanceof Uint8Array)) fail("command data is not a Uint8Array");
        break;
      case "error":
        errored = true;
        if (!KINDS.has(e.kind)) fail(`error kind ${e.kind}`);
        if (!CODES.has(e.code)) fail(`error code ${e.code}`);
        if (typeof e.reason !== "string") fail("error reason is not a string");
        // An empty reason is checked by its own deterministic test (session_fuzz_test.ts,
        // "an ERROR command with an empty reason"), so the properties go on finding other bugs.
        if (e.reason.length === 0 && e.kind !== "remote") fail("error without a reason");
        break;
      default:
        fail(`unknown event ${JSON.stringify(e)}`);
    }
  }
}

/** What a run produced. */
export interface Outcome {
  events: SessionEvent[];
  output: number;
  phase: string;
}

/**
 * Feeds chunks to a fresh session, ticking the clock by `steps` between chunks, and checks
 * the invariants along the way. Throws (failing the property) on any violation.
 */
export function drive(
  config: Config,
  chunks: readonly Uint8Array[],
  steps: readonly number[] = [],
): Outcome {
  const s = new Session({
    socketType: config.ours,
    now: 0,
    maxMessageSize: config.maxMessageSize,
    heartbeatInterval: config.heartbeatInterval,
    handshakeInterval: config.handshakeInterval,
  });
  const events: SessionEvent[] = [];
  let output = 0;
  let now = 0;
  const take = () => {
    const got = s.takeEvents();
    const errorBefore = events.some((e) => e.type === "error");
    if (errorBefore && got.length > 0) fail(`events after an error: ${got.map((e) => e.type)}`);
    events.push(...got);
    for (const b of s.takeOutput()) {
      if (!(b instanceof Uint8Array)) fail("output is not a Uint8Array");
      output += b.length;
    }
    const next = s.nextTimeout();
    if (typeof next !== "number" || Number.isNaN(next)) fail(`nextTimeout is ${next}`);
    if (events.some((e) => e.type === "error") && s.phase !== "closed") {
      fail(`phase ${s.phase} after an error`);
    }
  };
  take();
  for (const [i, chunk] of chunks.entries()) {
    // Copy: message frames may be views of the chunk, and the stream is reused across runs.
    s.receive(chunk.slice(), now);
    take();
    const step = steps[i] ?? 0;
    if (step > 0) {
      now += step;
      s.tick(now);
      take();
    }
  }
  checkEvents(config, events);
  // After an error, nothing more ever comes out.
  if (events.some((e) => e.type === "error")) {
    s.receive(greeting(), now + 1);
    s.tick(now + 1_000_000);
    if (s.takeEvents().length > 0) fail("events after an error (late input)");
  }
  return { events, output, phase: s.phase };
}

/** Comparable form of events (frames as number arrays). */
function normalize(events: readonly SessionEvent[]): unknown[] {
  return events.map((e) => {
    switch (e.type) {
      case "message":
        return { type: e.type, frames: e.frames.map((f) => Array.from(f)) };
      case "subscribe":
      case "cancel":
        return { type: e.type, topic: Array.from(e.topic) };
      case "ready":
        return {
          type: e.type,
          socketType: e.peer.socketType,
          routingId: e.peer.routingId && Array.from(e.peer.routingId),
          minor: e.peer.minorVersion,
        };
      case "error":
        return { type: e.type, kind: e.kind, code: e.code, reason: e.reason };
      case "authenticate":
        return { type: e.type, mechanism: e.request.mechanism };
      case "command":
        return { type: e.type, name: e.name, data: Array.from(e.data) };
    }
  });
}

function sameEvents(a: readonly SessionEvent[], b: readonly SessionEvent[]): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

// ---- the properties ---------------------------------------------------------------

/** Cases run so far, per property (a run counts every execution, shrinking included). */
export const counts: Record<string, number> = {};

function counted<T extends unknown[]>(name: string, check: (...args: T) => void) {
  counts[name] = 0;
  return (...args: T) => {
    counts[name]++;
    check(...args);
  };
}

/** One named property. */
export interface NamedProperty {
  name: string;
  property: fc.IPropertyWithHooks<unknown[]> | fc.IProperty<unknown[]>;
}

const prefixArb = (config: Config) =>
  fc.constantFrom<Uint8Array>(
    new Uint8Array(0),
    greeting(),
    cat([greeting(), readyCommand(config.theirs, undefined)]),
  );

/** The properties, by name. */
export function properties(): NamedProperty[] {
  const random = "random bytes (bare, after a greeting, after greeting+READY), any split, ticks";
  const mutated =
    "mutated valid streams (flips, sets, insertions, deletions, truncations), any split, ticks";
  const splits = "events do not depend on the split, for valid and mutated streams";
  const valid = "a valid stream in any split yields ready first, then every message, and no error";
  const decoder = "the frame decoder yields the same frames or error for any split";
  const subscriptions =
    "the subscription table agrees with a naive prefix list under churn, topics up to 1 MiB";
  return [
    {
      name: random,
      property: fc.property(
        configArb.chain((c) =>
          fc.tuple(fc.constant(c), prefixArb(c), fc.uint8Array({ maxLength: 400 }))
        ),
        cutsArb,
        stepsArb,
        counted(
          random,
          (
            [config, prefix, bytes]: [Config, Uint8Array, Uint8Array],
            cuts: number[],
            steps: number[],
          ) => {
            drive(config, splitAt(cat([prefix, bytes]), cuts), steps);
          },
        ),
      ) as NamedProperty["property"],
    },
    {
      name: mutated,
      property: fc.property(
        configArb.chain((c) => fc.tuple(fc.constant(c), streamArb(c))),
        fc.array(mutationArb, { minLength: 1, maxLength: 6 }),
        cutsArb,
        stepsArb,
        counted(
          mutated,
          (
            [config, stream]: [Config, Uint8Array],
            mutations: Mutation[],
            cuts: number[],
            steps: number[],
          ) => {
            drive(config, splitAt(mutate(stream, mutations), cuts), steps);
          },
        ),
      ) as NamedProperty["property"],
    },
    {
      name: splits,
      property: fc.property(
        configArb.chain((c) => fc.tuple(fc.constant(c), streamArb(c))),
        fc.array(mutationArb, { maxLength: 4 }),
        cutsArb,
        counted(
          splits,
          ([config, stream]: [Config, Uint8Array], mutations: Mutation[], cuts: number[]) => {
            const bytes = mutate(stream, mutations);
            const whole = drive(config, [bytes]);
            const split = drive(config, splitAt(bytes, cuts));
            if (!sameEvents(whole.events, split.events)) {
              fail(
                `split changed the events:\n${
                  JSON.stringify(normalize(whole.events)).slice(0, 500)
                }\n${JSON.stringify(normalize(split.events)).slice(0, 500)}`,
              );
            }
            if (whole.output !== split.output) {
              fail(
                `split changed the output size: ${whole.output} vs ${split.output}`,
              );
            }
          },
        ),
      ) as NamedProperty["property"],
    },
    {
      name: valid,
      property: fc.property(
        configArb.map((c) => ({
          ...c,
          maxMessageSize: undefined,
          handshakeInterval: 0,
          heartbeatInterval: 0,
        }))
          .chain((c) =>
            fc.tuple(
              fc.constant(c),
              fc.array(fc.array(bodyArb, { minLength: 1, maxLength: 3 }), { maxLength: 8 }),
            )
          ),
        cutsArb,
        counted(valid, ([config, messages]: [Config, Uint8Array[][]], cuts: number[]) => {
          const stream = cat([
            greeting(),
            readyCommand(config.theirs, undefined),
            ...messages.map((frames) => encodeItem({ t: "message", frames })),
          ]);
          const { events } = drive(config, splitAt(stream, cuts));
          if (events[0]?.type !== "ready") fail("no ready first");
          const got = events.slice(1);
          if (got.length !== messages.length || got.some((e) => e.type !== "message")) {
            fail(`expected ${messages.length} messages, got ${got.map((e) => e.type)}`);
          }
          if (!sameEvents(got, messages.map((frames) => ({ type: "message", frames })))) {
            fail("messages differ");
          }
        }),
      ) as NamedProperty["property"],
    },
    {
      name: decoder,
      property: fc.property(
        fc.constantFrom(Infinity, 0, 16, 300),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), bodyArb), { maxLength: 5 }).map((fs) =>
            cat(fs.map(([flags, body]) => frame(flags & 0x05, body)))
          ),
        ),
        fc.array(mutationArb, { maxLength: 3 }),
        cutsArb,
        counted(decoder, (max: number, raw: Uint8Array, mutations: Mutation[], cuts: number[]) => {
          const bytes = mutate(raw, mutations);
          const decode = (chunks: Uint8Array[]) => {
            const d = new FrameDecoder(max);
            const frames: [number, number[]][] = [];
            for (const chunk of chunks) {
              d.feed(chunk.slice(), 0);
              for (;;) {
                const r = d.next();
                if (r === FRAME) {
                  if (d.body.length > max) fail(`decoder frame of ${d.body.length} over ${max}`);
                  frames.push([d.flags, Array.from(d.body)]);
                } else if (r === BROKEN) {
                  if (d.error.length === 0) fail("broken without an error");
                  return { frames, error: d.error };
                } else break;
              }
            }
            return { frames, error: "" };
          };
          const whole = decode([bytes]);
          const split = decode(splitAt(bytes, cuts));
          if (JSON.stringify(whole) !== JSON.stringify(split)) fail("decoder depends on the split");
        }),
      ) as NamedProperty["property"],
    },
    {
      name: subscriptions,
      property: fc.property(
        subscriptionCaseArb,
        counted(subscriptions, checkSubscriptionCase),
      ) as NamedProperty["property"],
    },
  ];
}

/** Runs every property with `numRuns` cases each; returns cases run per property. */
export function runAll(numRuns: number, seed?: number): Record<string, number> {
  for (const { property } of properties()) {
    fc.assert(property, { numRuns, ...(seed === undefined ? {} : { seed }) });
  }
  return { ...counts };
}
