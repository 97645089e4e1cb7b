/**
 * The attacker's side of bench/attacks.ts: hand-built ZMTP 3.1 bytes (NULL
 * mechanism) and raw TCP peers on 127.0.0.1 that speak them. Every byte is
 * valid ZMTP; only the amount and the timing are hostile. Every wait is
 * bounded, and a write the victim never accepts is abandoned, not awaited.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Concatenates byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A 64-octet ZMTP 3.1 greeting, NULL mechanism, as client. */
export function greeting(): Uint8Array {
  const g = new Uint8Array(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 1;
  g.set(encoder.encode("NULL"), 12);
  return g;
}

/** One frame: short size when it fits in an octet, long (8 octets) otherwise. */
export function frame(flags: number, body: Uint8Array): Uint8Array {
  if (body.length <= 255) {
    const out = new Uint8Array(2 + body.length);
    out[0] = flags;
    out[1] = body.length;
    out.set(body, 2);
    return out;
  }
  const out = new Uint8Array(9 + body.length);
  out[0] = flags | 0x02;
  new DataView(out.buffer).setBigUint64(1, BigInt(body.length));
  out.set(body, 9);
  return out;
}

/** Greeting plus a READY command announcing `socketType`: everything a client sends first. */
export function handshake(socketType: string): Uint8Array {
  const name = encoder.encode("Socket-Type");
  const value = encoder.encode(socketType);
  const body = new Uint8Array(1 + 5 + 1 + name.length + 4 + value.length);
  let at = 0;
  body[at++] = 5;
  body.set(encoder.encode("READY"), at);
  at += 5;
  body[at++] = name.length;
  body.set(name, at);
  at += name.length;
  new DataView(body.buffer).setUint32(at, value.length);
  body.set(value, at + 4);
  return cat(greeting(), frame(0x04, body));
}

/** A single-frame message. */
export function message(body: Uint8Array): Uint8Array {
  return frame(0x00, body);
}

/** A SUBSCRIBE in the message form every libzmq version accepts: 0x01 then the topic. */
export function subscribe(topic: Uint8Array): Uint8Array {
  const body = new Uint8Array(1 + topic.length);
  body[0] = 1;
  body.set(topic, 1);
  return message(body);
}

/** Resolves with `p`'s value, or with `undefined` after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((
    resolve,
  ) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A raw TCP connection to the victim. */
export class RawPeer {
  readonly #conn: Deno.TcpConn;
  #closed = false;
  /** Set once a write was not accepted in time: nothing more is written. */
  stalled = false;
  /** Bytes the kernel accepted from us. */
  written = 0;
  /** Bytes read by {@linkcode RawPeer.drain}. */
  read = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port` within `ms`. */
  static async connect(port: number, ms = 5000): Promise<RawPeer> {
    const pending = Deno.connect({ hostname: "127.0.0.1", port });
    const conn = await within(pending, ms);
    if (conn === undefined) {
      pending.then((c) => c.close(), () => {});
      throw new Error(`connect to 127.0.0.1:${port} timed out after ${ms} ms`);
    }
    return new RawPeer(conn);
  }

  /**
   * Writes `bytes`; false if the victim did not accept them within `stallMs`
   * (it stopped reading) or the connection broke. The pending write is
   * abandoned and rejects harmlessly when the peer is closed.
   */
  async write(bytes: Uint8Array, stallMs = 5000): Promise<boolean> {
    if (this.stalled || this.#closed) return false;
    let at = 0;
    while (at < bytes.length) {
      const pending = this.#conn.write(bytes.subarray(at));
      pending.catch(() => {});
      let n: number | undefined;
      try {
        n = await within(pending, stallMs);
      } catch {
        this.stalled = true;
        return false;
      }
      if (n === undefined) {
        this.stalled = true;
        return false;
      }
      at += n;
      this.written += n;
    }
    return true;
  }

  /**
   * Reads the victim's greeting and READY command (within `ms`), so that what
   * we send next arrives after the handshake. Seen with libzmq 4.3.4 (XPUB):
   * when greeting, READY and a first message reach it in one segment, no
   * message of that connection ever reaches the application, later ones
   * included.
   */
  async readHandshake(ms = 5000): Promise<void> {
    const end = performance.now() + ms;
    const buf = new Uint8Array(1024);
    let have = 0;
    // Greeting (64 octets), then one command frame: flags, size (1 or 8 octets), body.
    const need = () => {
      if (have < 66) return 66;
      const long = (buf[64] & 0x02) !== 0;
      if (!long) return 66 + buf[65];
      if (have < 73) return 73;
      return 73 + Number(new DataView(buf.buffer).getBigUint64(65));
    };
    while (have < need()) {
      if (need() > buf.length) throw new Error("victim READY larger than 1 KiB");
      const pending = this.#conn.read(buf.subarray(have));
      pending.catch(() => {});
      const n = await within(pending, Math.max(1, end - performance.now()));
      if (n === undefined) throw new Error(`no handshake from the victim within ${ms} ms`);
      if (n === null) throw new Error("victim closed during the handshake");
      have += n;
    }
  }

  /**
   * Reads and discards until the victim closes, {@linkcode RawPeer.close} is
   * called, or `maxMs` pass; counts the bytes in {@linkcode RawPeer.read}.
   */
  async drain(maxMs: number): Promise<void> {
    const buf = new Uint8Array(256 * 1024);
    const end = performance.now() + maxMs;
    try {
      while (!this.#closed && performance.now() < end) {
        const n = await this.#conn.read(buf);
        if (n === null) return;
        this.read += n;
      }
    } catch {
      // closed under us: done
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/**
 * Connects to 127.0.0.1:`port`, sends greeting and READY as `socketType`,
 * and waits for the victim's side of the handshake.
 */
export async function handshaken(port: number, socketType: string): Promise<RawPeer> {
  const peer = await RawPeer.connect(port);
  try {
    await peer.write(handshake(socketType));
    await peer.readHandshake();
  } catch (err) {
    peer.close();
    throw err;
  }
  return peer;
}

/**
 * Connects `n` peers as `socketType`, `batch` at a time (so no listen
 * backlog overflows); each sends `first` once its handshake is done.
 */
export async function connectMany(
  port: number,
  n: number,
  socketType: string,
  first: Uint8Array,
  batch = 50,
): Promise<RawPeer[]> {
  const peers: RawPeer[] = [];
  try {
    for (let i = 0; i < n; i += batch) {
      const group = await Promise.allSettled(
        Array.from({ length: Math.min(batch, n - i) }, () => handshaken(port, socketType)),
      );
      for (const g of group) if (g.status === "fulfilled") peers.push(g.value);
      const failed = group.find((g) => g.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      await Promise.all(peers.slice(i).map((p) => p.write(first)));
    }
  } catch (err) {
    for (const p of peers) p.close();
    throw err;
  }
  return peers;
}
