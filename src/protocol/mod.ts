/**
 * The sans-IO ZMTP 3.1 protocol core of Monocoque (with ZMTP 3.0 interop):
 * greeting, framing, commands, metadata, security mechanisms and the
 * {@linkcode Session} state machine. It does no IO and keeps no timers: bytes
 * and the current time go in, events and bytes to write come out, so it runs
 * anywhere, including browsers.
 *
 * @example
 * ```ts
 * import { Session } from "@monocoque/zmtp/protocol";
 * import assert from "node:assert/strict";
 *
 * const push = new Session({ socketType: "PUSH", now: 0 });
 * const pull = new Session({ socketType: "PULL", now: 0 });
 * for (const bytes of push.takeOutput()) pull.receive(bytes, 0);
 * for (const bytes of pull.takeOutput()) push.receive(bytes, 0);
 * push.send([new TextEncoder().encode("work")]);
 * for (const bytes of push.takeOutput()) pull.receive(bytes, 0);
 * const events = pull.takeEvents();
 * assert.deepEqual(events.map((e) => e.type), ["ready", "message"]);
 * ```
 *
 * @module
 */

export type {
  FrameCodec,
  Mechanism,
  MechanismHost,
  MechanismStep,
  ZapReply,
  ZapRequest,
} from "./mechanism.ts";
export { NullMechanism } from "./null_mechanism.ts";
export {
  PlainClientMechanism,
  type PlainClientOptions,
  PlainServerMechanism,
  type PlainServerOptions,
} from "./plain_mechanism.ts";
export {
  CurveClientMechanism,
  type CurveClientOptions,
  CurveServerMechanism,
  type CurveServerOptions,
} from "./curve_mechanism.ts";
export { type CurveKeyPair, curveKeyPair, curvePublicKey, toCurveKey } from "./curve_keys.ts";
export { z85Decode, z85Encode } from "./z85.ts";
export {
  type PeerInfo,
  Session,
  type SessionErrorKind,
  type SessionEvent,
  type SessionOptions,
  type SessionPhase,
} from "./session.ts";
export type { EngineContext, EngineFactory, ProtocolEngine } from "./engine.ts";
export { isCompatible, isSocketType, type SocketType } from "./socket_type.ts";
