/**
 * Helpers for the reliability tests: a recorder of a socket's monitor events
 * with bounded waits, hand-built ZMTP 3.1 bytes for raw TCP peers, a raw peer
 * over `Deno.connect`, and a guard that catches anything thrown into user code
 * (unhandled rejections and uncaught errors).
 *
 * @module
 */

import type { Socket, SocketEvent, SocketEventType } from "../../mod.ts";
import { TimeoutError, withTimeout } from "../_util/timeout.ts";

const encoder = new TextEncoder();

/** Default bound for one wait, in milliseconds. */
export const WAIT = 5000;

/** Matches one event. */
export type EventMatch = (e: SocketEvent) => boolean;

/** Matches events of one of `types`. */
export function ofType(...types: SocketEventType[]): EventMatch {
  return (e) => types.includes(e.type);
}

/**
 * Records every monitor event of a socket from construction on, and waits for
 * events by position, so a test can ask "the next disconnected after mark m".
 */
export class EventLog {
  readonly events: SocketEvent[] = [];
  #waiters = new Set<() => void>();
  #done: Promise<void>;

  constructor(socket: Socket) {
    const it = socket.events();
    this.#done = (async () => {
      for await (const e of it) {
        this.events.push(e);
        for (const w of [...this.#waiters]) w();
      }
    })();
  }

  /** Position of the next event to be recorded. */
  mark(): number {
    return this.events.length;
  }

  /** Events of `type` from position `from` on. */
  since(from: number, match: EventMatch = () => true): SocketEvent[] {
    return this.events.slice(from).filter(match);
  }

  /**
   * Waits for the first event at or after `from` that matches; returns it with its position.
   * Fails after `ms`.
   */
  async waitFor(
    match: EventMatch,
    from = 0,
    ms = WAIT,
    what = "event",
  ): Promise<{ event: SocketEvent; index: number }> {
    let wake: () => void = () => {};
    const find = () => {
      for (let i = from; i < this.events.length; i++) {
        if (match(this.events[i])) return { event: this.events[i], index: i };
      }
      return undefined;
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await new Promise((resolve, reject) => {
        wake = () => {
          const hit = find();
          if (hit) resolve(hit);
        };
        this.#waiters.add(wake);
        timer = setTimeout(
          () =>
            reject(
              new TimeoutError(
                `${what}: timed out after ${ms} ms; events since ${from}: ${
                  JSON.stringify(this.events.slice(from).map(brief))
                }`,
              ),
            ),
          ms,
        );
        wake();
      });
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(wake);
    }
  }

  /** Resolves when the socket's event stream ended (after close). */
  finished(ms = WAIT): Promise<void> {
    return withTimeout(this.#done, ms, "end of the event stream");
  }
}

/** A short description of an event for failure messages. */
export function brief(e: SocketEvent): string {
  switch (e.type) {
    case "handshakeFailed":
      return `${e.type}(${e.kind}: ${e.reason})`;
    case "disconnected":
      return `${e.type}(${e.reason})`;
    case "handshakeSucceeded":
      return `${e.type}(${e.peer.socketType})`;
    case "connectRetried":
      return `${e.type}(${e.interval})`;
    default:
      return e.type;
  }
}

// ---- hand-built ZMTP 3.1 ---------------------------------------------------

/** Concatenates byte arrays. */
export function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let p = 0;
  for (const a of arrays) {
    out.set(a, p);
    p += a.length;
  }
  return out;
}

/** A 64-octet ZMTP greeting: 0xFF 00*8 0x7F, version, mechanism padded to 20, as-server, filler. */
export function greeting(
  options: { major?: number; minor?: number; mechanism?: string; asServer?: boolean } = {},
): Uint8Array {
  const g = new Uint8Array(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = options.major ?? 3;
  g[11] = options.minor ?? 1;
  const mech = encoder.encode(options.mechanism ?? "NULL");
  g.set(mech.subarray(0, 20), 12);
  g[32] = options.asServer ? 1 : 0;
  return g;
}

/** A frame: short (1-octet size) when it fits, else long (8-octet size). */
export function frame(flags: number, body: Uint8Array): Uint8Array {
  if (body.length <= 255) return cat([flags, body.length], body);
  const head = new Uint8Array(9);
  head[0] = flags | 0x02;
  new DataView(head.buffer).setBigUint64(1, BigInt(body.length));
  return cat(head, body);
}

/** Metadata properties: name-len name value-len(4 octets BE) value. */
export function metadata(props: [string, string | Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, value] of props) {
    const v = typeof value === "string" ? encoder.encode(value) : value;
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, v.length);
    parts.push(cat([name.length], encoder.encode(name), len, v));
  }
  return cat(...parts);
}

/** A command frame: flags 0x04, size, name-len, name, data. */
export function command(name: string, data: Uint8Array = new Uint8Array()): Uint8Array {
  return frame(0x04, cat([name.length], encoder.encode(name), data));
}

/** A READY command with `Socket-Type` (and an optional `Identity`). */
export function ready(socketType: string, identity?: string): Uint8Array {
  const props: [string, string][] = [["Socket-Type", socketType]];
  if (identity !== undefined) props.push(["Identity", identity]);
  return command("READY", metadata(props));
}

/** A data message: frames with MORE on all but the last. */
export function message(...frames: (string | Uint8Array)[]): Uint8Array {
  return cat(
    ...frames.map((f, i) =>
      frame(i < frames.length - 1 ? 0x01 : 0x00, typeof f === "string" ? encoder.encode(f) : f)
    ),
  );
}

// ---- raw TCP peer ------------------------------------------------------------

/** A raw TCP connection for writing arbitrary bytes at a socket. */
export class RawPeer implements AsyncDisposable {
  readonly conn: Deno.TcpConn;
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Wraps a connection accepted from a raw listener. */
  static adopt(conn: Deno.TcpConn): RawPeer {
    return new RawPeer(conn);
  }

  /** Connects to `tcp://host:port`. */
  static async connect(endpoint: string): Promise<RawPeer> {
    const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(endpoint);
    if (!m) throw new TypeError(`Not a tcp endpoint: ${endpoint}`);
    const conn = await withTimeout(
      Deno.connect({ hostname: m[1], port: Number(m[2]) }),
      WAIT,
      "raw connect",
    );
    return new RawPeer(conn);
  }

  /** Writes all of `bytes`; false if the other side already closed. */
  async write(bytes: Uint8Array): Promise<boolean> {
    try {
      let off = 0;
      while (off < bytes.length) {
        off += await withTimeout(this.conn.write(bytes.subarray(off)), WAIT, "raw write");
      }
      return true;
    } catch (e) {
      if (e instanceof TimeoutError) throw e;
      return false; // reset/broken pipe: the socket dropped us first
    }
  }

  /** Reads exactly `n` bytes (throws on end of stream or timeout). */
  async readExactly(n: number, ms = WAIT): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let have = 0;
    while (have < n) {
      const got = await withTimeout(this.conn.read(out.subarray(have)), ms, "raw read");
      if (got === null) throw new Error(`End of stream after ${have} of ${n} bytes`);
      have += got;
    }
    return out;
  }

  /**
   * Reads and discards until the other side closes; resolves true when it did
   * within `ms`, false otherwise.
   */
  async closedByRemote(ms = WAIT): Promise<boolean> {
    const buf = new Uint8Array(64 * 1024);
    const deadline = performance.now() + ms;
    try {
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) return false;
        const n = await withTimeout(this.conn.read(buf), left, "raw read");
        if (n === null) return true;
      }
    } catch (e) {
      if (e instanceof TimeoutError) {
        // The pending read ends (and rejects) when we close the connection.
        this.close();
        return false;
      }
      return true; // reset by the remote
    }
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

// ---- user-code guard -----------------------------------------------------------

/**
 * Collects unhandled promise rejections and uncaught errors while installed,
 * and stops them from failing the test by themselves, so the test can report them.
 */
export class ThrowGuard implements Disposable {
  readonly caught: unknown[] = [];
  #onRejection = (e: PromiseRejectionEvent) => {
    this.caught.push(e.reason);
    e.preventDefault();
  };
  #onError = (e: ErrorEvent) => {
    this.caught.push(e.error ?? e.message);
    e.preventDefault();
  };

  constructor() {
    globalThis.addEventListener("unhandledrejection", this.#onRejection);
    globalThis.addEventListener("error", this.#onError);
  }

  /** Throws if anything was caught. */
  check(): void {
    if (this.caught.length > 0) {
      throw new Error(
        `Thrown into user code: ${
          this.caught.map((e) => String((e as Error)?.stack ?? e)).join("\n")
        }`,
      );
    }
  }

  [Symbol.dispose](): void {
    globalThis.removeEventListener("unhandledrejection", this.#onRejection);
    globalThis.removeEventListener("error", this.#onError);
  }
}

/** Bytes of a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** A string of bytes. */
export function text(b: Uint8Array | undefined): string | undefined {
  return b === undefined ? undefined : new TextDecoder().decode(b);
}
