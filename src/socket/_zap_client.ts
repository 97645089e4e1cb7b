/**
 * The client side of ZAP (rfc.zeromq.org spec 27) as libzmq 4.3.4 does it
 * (zap_client.cpp, session_base.cpp `zap_connect`): a server socket asks
 * whatever the application bound at `inproc://zeromq.zap.01` — a REP or
 * ROUTER socket, or an `Authenticator` — whether a client may connect. The
 * request is `["", "1.0", id, domain, address, identity, mechanism,
 * ...credentials]`; the reply `["", "1.0", id, status, text, user id,
 * metadata]`, exactly seven frames.
 *
 * libzmq gives each connection its own pipe to the handler and always uses
 * request id "1". Here one DEALER of this library, shared by every socket of
 * the process, carries all requests; ids are unique so replies find their
 * request. It is made on demand and closed once no request is in flight, so
 * an idle process holds nothing open.
 *
 * @module
 */

import type { ZapReply, ZapRequest } from "../protocol/mechanism.ts";
import { isInprocBound } from "../transport/inproc.ts";
import { SocketCore } from "./_core.ts";
import type { Message } from "./_message.ts";
import { BasePattern } from "./_pattern.ts";
import { resolveOptions } from "./options.ts";

/** Where ZAP handlers bind (libzmq's fixed name). */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
const ZAP_NAME = "zeromq.zap.01";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const VERSION = encoder.encode("1.0");

/** The connection-specific frames of a ZAP request. */
export interface ZapContext {
  /** ZMQ_ZAP_DOMAIN of the server socket. */
  domain: string;
  /** The client's IP address (libzmq: no port), or "" where there is none. */
  address: string;
  /** The server socket's own ZMQ_ROUTING_ID, as libzmq sends it. */
  identity: Uint8Array | undefined;
  /** ms to wait for the reply; 0 waits as long as the handshake allows. */
  timeout: number;
}

interface Pending {
  resolve(reply: ZapReply): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Whether an application ZAP handler is bound in this process (libzmq's `zap_connect` check). */
export function zapHandlerBound(): boolean {
  return isInprocBound(ZAP_NAME);
}

let client: ZapClient | undefined;
let nextId = 1;

/**
 * Sends a ZAP request to the bound handler and resolves with its reply, or
 * with a 300 (temporary failure: close without ERROR) when it does not answer
 * within `timeout` or the request is cancelled. Never rejects.
 *
 * @returns The reply and a function that abandons the request.
 */
export function zapRequest(
  request: ZapRequest,
  context: ZapContext,
): { reply: Promise<ZapReply>; cancel: () => void } {
  const c = client ??= new ZapClient();
  return c.request(request, context);
}

class ZapClient {
  #core: SocketCore;
  #pending = new Map<string, Pending>();
  #closed = false;

  constructor() {
    // HWM 0 like libzmq's ZAP pipe (session_base.cpp: hwms {0, 0}); linger 0:
    // a request nobody waits for any more need not leave.
    this.#core = new SocketCore(
      "DEALER",
      resolveOptions({ sendHighWaterMark: 0, receiveHighWaterMark: 0, linger: 0 }),
    );
    this.#core.pattern = new BasePattern(this.#core);
    this.#core.connect(ZAP_ENDPOINT);
    this.#core.background(this.#receiveLoop());
  }

  request(
    request: ZapRequest,
    context: ZapContext,
  ): { reply: Promise<ZapReply>; cancel: () => void } {
    const id = String(nextId++);
    let settle!: (reply: ZapReply) => void;
    const reply = new Promise<ZapReply>((resolve) => (settle = resolve));
    const pending: Pending = {
      resolve: (r) => {
        if (pending.timer !== undefined) clearTimeout(pending.timer);
        if (this.#pending.get(id) !== pending) return;
        this.#pending.delete(id);
        settle(r);
        if (this.#pending.size === 0) this.#close();
      },
      timer: undefined,
    };
    this.#pending.set(id, pending);
    if (context.timeout > 0) {
      pending.timer = setTimeout(
        () => pending.resolve({ statusCode: 300, statusText: "The ZAP handler did not answer" }),
        context.timeout,
      );
    }
    const frames: Message = [
      EMPTY,
      VERSION,
      encoder.encode(id),
      encoder.encode(context.domain),
      encoder.encode(context.address),
      context.identity ?? EMPTY,
      encoder.encode(request.mechanism),
      ...request.credentials,
    ];
    // HWM 0: the send never waits, and it fails only once the client closed.
    this.#core.send(frames, undefined).catch(() =>
      pending.resolve({ statusCode: 300, statusText: "The ZAP request could not be sent" })
    );
    return {
      reply,
      cancel: () => pending.resolve({ statusCode: 300, statusText: "Cancelled" }),
    };
  }

  async #receiveLoop(): Promise<void> {
    while (!this.#closed) {
      let frames: Message;
      try {
        frames = await this.#core.receive(undefined);
      } catch {
        return; // closed
      }
      // A reply that is not seven frames, or whose envelope or version is
      // wrong, is malformed (libzmq: ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY
      // and friends); one whose id we do not know cannot be matched at all.
      if (frames.length < 3) continue;
      const pending = this.#pending.get(decoder.decode(frames[2]));
      if (pending === undefined) continue;
      pending.resolve(parseReply(frames));
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (client === this) client = undefined;
    this.#core.close();
  }
}

/** Reads a reply as libzmq's `receive_and_process_zap_reply` checks it. */
function parseReply(frames: Message): ZapReply {
  if (frames.length !== 7 || frames[0].length !== 0) {
    return { statusCode: 0, statusText: "Malformed ZAP reply" };
  }
  if (decoder.decode(frames[1]) !== "1.0") {
    return { statusCode: 0, statusText: "ZAP reply has a bad version" };
  }
  const status = decoder.decode(frames[3]);
  return {
    statusCode: /^[2-5]00$/.test(status) ? Number(status) : 0,
    statusText: decoder.decode(frames[4]),
    userId: decoder.decode(frames[5]),
    metadata: frames[6],
  };
}
