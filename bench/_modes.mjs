/**
 * The benchmark modes shared by the zeromq.js harness (bench/node/zmq_bench.mjs,
 * run under Node) and the Monocoque harness (bench/monocoque_bench.ts, run
 * under Deno). Both libraries follow the zeromq.js v6 socket API (async
 * `bind`, `connect`, `send`, `receive` → frames), so one piece of mode logic
 * drives both and the two sides cannot drift apart; each harness supplies a
 * small adapter (socket factory, stdin, /proc, exit). The modes, arguments
 * and JSON-lines output match bench/c/zmq_bench.c; see that file's header for
 * the protocol with the runner.
 *
 * Plain JavaScript so that Node 20 runs it without a build step.
 *
 * @module
 */

/** Per-peer high-water mark used by every implementation, libzmq's default. */
const HWM = 1000;
/** A receiver that saw no message for this long reports what arrived. */
const IDLE_TIMEOUT_MS = 3000;

/**
 * @typedef {"push" | "pull" | "req" | "rep" | "dealer" | "router" | "xpub" | "sub"} Kind
 *
 * @typedef {object} SocketLike
 * @property {(ep: string) => Promise<void>} bind
 * @property {(ep: string) => unknown} connect
 * @property {(msg: unknown) => Promise<void>} send
 * @property {() => Promise<Uint8Array[]>} receive
 * @property {() => unknown} close
 * @property {(topic: string) => unknown} [subscribe]
 *
 * @typedef {object} Adapter
 * @property {string} impl name printed in the results
 * @property {(kind: Kind, options: {hwm: number, linger: number}) => SocketLike} socket
 * @property {(size: number) => Uint8Array} payload
 * @property {Promise<void>} stdinClosed resolves when stdin reaches end of file
 * @property {() => string} procStatus contents of /proc/self/status
 * @property {(line: string) => void} print writes one stdout line
 * @property {() => Promise<void>} yieldToIo lets pending I/O run (a macrotask turn)
 * @property {(() => void) | undefined} [gcMark] a full collection marking the start and the end
 *   of the measured window in a `--trace-gc` log (Monocoque run with --expose-gc; bench/_runner/gc_trace.ts)
 * @property {(code: number) => never} exit
 */

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Epoch microseconds with sub-millisecond resolution. */
const epochUs = () => (performance.timeOrigin + performance.now()) * 1000;

/**
 * @param {Adapter} a
 * @param {string} field e.g. "VmHWM:"
 */
function statusKb(a, field) {
  const line = a.procStatus().split("\n").find((l) => l.startsWith(field));
  return line ? parseInt(line.slice(field.length), 10) : -1;
}

/**
 * @param {SocketLike} sock
 * @param {string} ep endpoint; "@" prefix binds, ">" connects
 * @param {boolean} bindByDefault
 */
async function attach(sock, ep, bindByDefault) {
  let bind = bindByDefault;
  if (ep.startsWith("@")) [bind, ep] = [true, ep.slice(1)];
  else if (ep.startsWith(">")) [bind, ep] = [false, ep.slice(1)];
  if (bind) await sock.bind(ep);
  else await sock.connect(ep);
}

/**
 * Closes sockets, but never lets a slow or broken close keep the process alive.
 * @param {SocketLike[]} socks
 */
async function closeAll(socks) {
  await Promise.race([
    Promise.allSettled(socks.map(async (s) => await s.close())),
    sleep(2000),
  ]);
}

/**
 * @param {Adapter} a
 * @param {Record<string, unknown>} fields
 */
function result(a, fields) {
  a.print(JSON.stringify({
    event: "result",
    impl: a.impl,
    ...fields,
    rss_peak_kb: statusKb(a, "VmHWM:"),
  }));
}

/** @param {Adapter} a */
function ready(a) {
  a.print(JSON.stringify({ event: "ready" }));
}

/**
 * push_send / pub_send: send COUNT messages of SIZE bytes, then hold the
 * socket open until stdin closes (the receiver is done).
 * @param {Adapter} a
 */
async function send(a, ep, count, size, pub, nsubs) {
  const sock = a.socket(pub ? "xpub" : "push", { hwm: HWM, linger: 2000 });
  await attach(sock, ep, pub);
  ready(a);
  if (pub) {
    // Lossless: send nothing until every subscriber's subscription is in.
    for (let got = 0; got < nsubs;) {
      const [frame] = await sock.receive();
      if (frame.length >= 1 && frame[0] === 1) got++;
    }
  }
  const buf = a.payload(size);
  const t0 = performance.now();
  if (pub) {
    // zeromq.js reports XPUB_NODROP's full pipe as EAGAIN even for a blocking
    // send (libzmq's XPUB always polls writable): yield to I/O and retry.
    for (let i = 0; i < count; i++) {
      for (;;) {
        try {
          await sock.send(buf);
          break;
        } catch (err) {
          if (/** @type {{code?: string}} */ (err)?.code !== "EAGAIN") throw err;
          await a.yieldToIo();
        }
      }
    }
  } else {
    for (let i = 0; i < count; i++) await sock.send(buf);
  }
  const t1 = performance.now();
  await a.stdinClosed;
  result(a, { mode: pub ? "pub_send" : "push_send", count, send_secs: (t1 - t0) / 1000 });
  await closeAll([sock]);
}

/**
 * pull_recv / sub_recv: receive COUNT messages on each of NSOCKETS sockets,
 * timed from the first to the last message.
 * @param {Adapter} a
 */
async function receive(a, ep, count, nsockets, sub) {
  /** @type {SocketLike[]} */
  const socks = [];
  for (let i = 0; i < nsockets; i++) {
    const s = a.socket(sub ? "sub" : "pull", { hwm: HWM, linger: 0 });
    if (sub) s.subscribe?.("");
    await attach(s, ep, !sub);
    socks.push(s);
  }
  ready(a);
  const total = count * nsockets;
  let got = 0, bytes = 0, t0 = 0, t1 = 0, e0 = 0, e1 = 0, closing = false;
  /** @type {() => void} */
  let finish = () => {};
  const finished = new Promise((resolve) => finish = () => resolve(undefined));
  const loop = async (/** @type {SocketLike} */ s) => {
    try {
      while (got < total) {
        const msg = await s.receive();
        if (got === 0) [t0, e0] = [performance.now(), epochUs()];
        for (const f of msg) bytes += f.length;
        if (++got === total) {
          [t1, e1] = [performance.now(), epochUs()];
          finish();
        }
      }
    } catch (err) {
      if (!closing) console.error(`${a.impl}: receive failed:`, err);
      finish();
    }
  };
  socks.forEach(loop);
  // Stall watchdog: after IDLE_TIMEOUT_MS without progress, report what arrived
  // (the time of the last progress is known to one tick, fine for a failed run).
  let lastGot = 0, lastChange = performance.now(), lastChangeEpoch = epochUs();
  const timer = setInterval(() => {
    if (got !== lastGot) {
      [lastGot, lastChange, lastChangeEpoch] = [got, performance.now(), epochUs()];
    } else if (got > 0 && performance.now() - lastChange > IDLE_TIMEOUT_MS) {
      [t1, e1] = [lastChange, lastChangeEpoch];
      finish();
    }
  }, 100);
  await finished;
  clearInterval(timer);
  const secs = (t1 - t0) / 1000;
  result(a, {
    mode: sub ? "sub_recv" : "pull_recv",
    count: got,
    expected: total,
    sockets: nsockets,
    bytes,
    secs,
    t_first_us: Math.round(e0),
    t_last_us: Math.round(e1),
    msgs_per_s: got > 1 && secs > 0 ? (got - 1) / secs : 0,
    mb_per_s: got > 1 && secs > 0 ? bytes / secs / 1e6 : 0,
  });
  closing = true;
  await closeAll(socks);
}

/**
 * rep_echo / router_echo: echo every message (all frames) until stdin closes.
 * @param {Adapter} a
 */
async function echo(a, ep, router) {
  const sock = a.socket(router ? "router" : "rep", { hwm: HWM, linger: 0 });
  await attach(sock, ep, true);
  ready(a);
  a.gcMark?.();
  let served = 0, stopped = false;
  a.stdinClosed.then(async () => {
    stopped = true;
    a.gcMark?.();
    result(a, { mode: router ? "router_echo" : "rep_echo", count: served, send_secs: 0 });
    await closeAll([sock]);
    a.exit(0);
  });
  try {
    for (;;) {
      const msg = await sock.receive();
      await sock.send(msg);
      served++;
    }
  } catch (err) {
    if (!stopped) {
      console.error(`${a.impl}: echo failed:`, err);
      a.exit(1);
    }
  }
}

/** @param {Float64Array} sorted @param {number} q */
function pct(sorted, q) {
  const n = sorted.length;
  return n ? sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] : 0;
}

/**
 * req_rtt / dealer_rtt: COUNT timed round trips (after a warm-up of
 * min(1000, COUNT/10) untimed ones).
 * @param {Adapter} a
 */
async function rtt(a, ep, count, size, dealer) {
  const sock = a.socket(dealer ? "dealer" : "req", { hwm: HWM, linger: 0 });
  await attach(sock, ep, false);
  ready(a);
  const buf = a.payload(size);
  const warmup = Math.min(1000, Math.floor(count / 10));
  const lat = new Float64Array(count);
  let start = performance.now();
  for (let i = -warmup; i < count; i++) {
    if (i === 0) {
      a.gcMark?.();
      start = performance.now();
    }
    const t0 = performance.now();
    await sock.send(buf);
    const reply = await sock.receive();
    const t1 = performance.now();
    if (reply.length !== 1 || reply[0].length !== size) {
      throw new Error(`Reply has ${reply.length} frames of ${reply[0]?.length} bytes`);
    }
    if (i >= 0) lat[i] = (t1 - t0) * 1000;
  }
  const secs = (performance.now() - start) / 1000;
  a.gcMark?.();
  lat.sort();
  const mean = lat.reduce((x, y) => x + y, 0) / (count || 1);
  result(a, {
    mode: dealer ? "dealer_rtt" : "req_rtt",
    count,
    size,
    secs,
    rtt_per_s: secs > 0 ? count / secs : 0,
    mean_us: mean,
    p50_us: pct(lat, 0.5),
    p99_us: pct(lat, 0.99),
    p999_us: pct(lat, 0.999),
    max_us: count ? lat[count - 1] : 0,
  });
  await closeAll([sock]);
}

/**
 * idle_router: bind a ROUTER, wait for N peers' hellos, report the RSS growth
 * per connection.
 * @param {Adapter} a
 */
async function idleRouter(a, ep, n) {
  const sock = a.socket("router", { hwm: HWM, linger: 0 });
  await attach(sock, ep, true);
  await sleep(200);
  const before = statusKb(a, "VmRSS:");
  ready(a);
  for (let got = 0; got < n; got++) await sock.receive();
  await sleep(500);
  const after = statusKb(a, "VmRSS:");
  result(a, {
    mode: "idle_router",
    connections: n,
    rss_before_kb: before,
    rss_after_kb: after,
    bytes_per_conn: Math.round((after - before) * 1024 / n),
  });
  await closeAll([sock]);
}

/**
 * Runs one mode from the command line and exits.
 * @param {Adapter} a
 * @param {string[]} argv MODE ENDPOINT COUNT [SIZE] [NSUBS|NSOCKETS]
 */
export async function main(a, argv) {
  const [mode, ep, countArg, arg4, arg5] = argv;
  if (!mode || !ep || !countArg) {
    console.error(
      "usage: MODE [@|>]ENDPOINT COUNT [SIZE] [NSUBS|NSOCKETS]\n" +
        "modes: push_send pull_recv rep_echo req_rtt router_echo dealer_rtt " +
        "pub_send sub_recv idle_router",
    );
    a.exit(2);
  }
  const count = parseInt(countArg, 10);
  const size = parseInt(arg4 ?? "0", 10);
  try {
    switch (mode) {
      case "push_send":
        await send(a, ep, count, size, false, 0);
        break;
      case "pub_send":
        await send(a, ep, count, size, true, parseInt(arg5 ?? "1", 10));
        break;
      case "pull_recv":
        await receive(a, ep, count, 1, false);
        break;
      case "sub_recv":
        await receive(a, ep, count, parseInt(arg4 ?? "1", 10), true);
        break;
      case "rep_echo":
        await echo(a, ep, false);
        break;
      case "router_echo":
        await echo(a, ep, true);
        break;
      case "req_rtt":
        await rtt(a, ep, count, size, false);
        break;
      case "dealer_rtt":
        await rtt(a, ep, count, size, true);
        break;
      case "idle_router":
        await idleRouter(a, ep, count);
        break;
      default:
        console.error(`unknown mode ${mode}`);
        a.exit(2);
    }
  } catch (err) {
    console.error(`${a.impl} ${mode} failed:`, err);
    a.exit(1);
  }
  a.exit(0);
}
