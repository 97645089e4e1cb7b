// A scriptable zeromq.js (v6, bundled libzmq 4.3.5) peer for Monocoque's interop tests, run
// under Node as a separate process: `node zmq_peer.mjs --type PUSH --connect tcp://...`.
// It speaks the same line-based JSON protocol as zmq_peer.py (see README.md in this folder):
// one command per stdin line, exactly one JSON event line on stdout per command, frames as
// hex. Every receive and send has a timeout; it exits when stdin closes or on {"op":"close"}.
// zeromq is loaded from ./node_modules (installed by tools/setup.sh).

import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import process from "node:process";
import { Buffer } from "node:buffer";

const require = createRequire(import.meta.url);
const zmq = require("zeromq");
// The draft types load on demand: importing zeromq/draft prints an "experimental" warning.
const draft = (name) => () => require("zeromq/draft")[name];

const TYPES = {
  PAIR: zmq.Pair,
  PUB: zmq.Publisher,
  SUB: zmq.Subscriber,
  REQ: zmq.Request,
  REP: zmq.Reply,
  DEALER: zmq.Dealer,
  ROUTER: zmq.Router,
  PULL: zmq.Pull,
  PUSH: zmq.Push,
  XPUB: zmq.XPublisher,
  XSUB: zmq.XSubscriber,
  CLIENT: draft("Client"),
  SERVER: draft("Server"),
  SCATTER: draft("Scatter"),
  GATHER: draft("Gather"),
  RADIO: draft("Radio"),
  DISH: draft("Dish"),
};
const DRAFT_TYPES = new Set(["CLIENT", "SERVER", "SCATTER", "GATHER", "RADIO", "DISH"]);
const DEFAULT_SEND_TIMEOUT_MS = 5000;
const DEFAULT_RECV_TIMEOUT_MS = 5000;

// Command-line flag -> [zeromq.js option, kind]. Kinds: int, flag (boolean), text, hex.
const FLAGS = {
  "routing-id": ["routingId", "text"],
  "routing-id-hex": ["routingId", "hex"],
  "sndhwm": ["sendHighWaterMark", "int"],
  "rcvhwm": ["receiveHighWaterMark", "int"],
  "linger": ["linger", "int"],
  "sndtimeo": ["sendTimeout", "int"],
  "router-mandatory": ["mandatory", "flag"],
  "router-handover": ["handover", "flag"],
  "probe-router": ["probeRouter", "flag"],
  "req-relaxed": ["relaxed", "flag"],
  "req-correlate": ["correlate", "flag"],
  "immediate": ["immediate", "flag"],
  "conflate": ["conflate", "flag"],
  "xpub-manual": ["manual", "flag"],
  "xpub-welcome-msg": ["welcomeMessage", "text"],
  "heartbeat-ivl": ["heartbeatInterval", "int"],
  "heartbeat-timeout": ["heartbeatTimeout", "int"],
  "heartbeat-ttl": ["heartbeatTimeToLive", "int"],
  "handshake-ivl": ["handshakeInterval", "int"],
  "reconnect-ivl": ["reconnectInterval", "int"],
  "reconnect-ivl-max": ["reconnectMaxInterval", "int"],
  "maxmsgsize": ["maxMessageSize", "int"],
  "plain-server": ["plainServer", "flag"],
  "plain-username": ["plainUsername", "text"],
  "plain-password": ["plainPassword", "text"],
  "curve-server": ["curveServer", "flag"],
  "curve-publickey": ["curvePublicKey", "text"],
  "curve-secretkey": ["curveSecretKey", "text"],
  "curve-serverkey": ["curveServerKey", "text"],
  "zap-domain": ["zapDomain", "text"],
};

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const hexes = (frames) => frames.map((f) => Buffer.from(f).toString("hex"));
const unhex = (frames) => frames.map((f) => Buffer.from(f, "hex"));

const unsupported = (message) => Object.assign(new Error(message), { code: "ENOTSUP" });

function errorEvent(op, err) {
  return { event: "error", op, code: err?.code ?? "EBADCMD", message: String(err?.message ?? err) };
}

/** SHA-256 over messages: per message u32be(frame count), per frame u32be(length) + bytes. */
class Digest {
  #h = createHash("sha256");
  add(frames) {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(frames.length);
    this.#h.update(n);
    for (const f of frames) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(f.length);
      this.#h.update(len);
      this.#h.update(f);
    }
  }
  hex() {
    return this.#h.copy().digest("hex");
  }
}

/** Message i of a send_many run: prefix + u32be(i), zero-padded to size bytes. */
function sequenceMessage(i, size, prefix) {
  const msg = Buffer.alloc(Math.max(size, prefix.length + 4));
  prefix.copy(msg, 0);
  msg.writeUInt32BE(i, prefix.length);
  return msg;
}

function parseArgs(argv) {
  const a = {
    bind: [],
    connect: [],
    subscribe: [],
    join: [],
    options: {},
    monitor: false,
    xpubVerbose: false,
    plainUsers: undefined,
    curveAllow: [],
  };
  for (let i = 0; i < argv.length; i++) {
    // `--flag=value` as well as `--flag value` (Z85 keys may begin with "-", as zmq_peer.py takes them).
    const [name, inline] = argv[i].replace(/^--/, "").split(/=(.*)/s, 2);
    const next = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new Error(`--${name} needs a value`);
      return argv[++i];
    };
    if (name === "type") a.type = next().toUpperCase();
    else if (name === "bind") a.bind.push(next());
    else if (name === "connect") a.connect.push(next());
    else if (name === "subscribe") a.subscribe.push(Buffer.from(next(), "utf8"));
    else if (name === "subscribe-hex") a.subscribe.push(Buffer.from(next(), "hex"));
    else if (name === "join") a.join.push(Buffer.from(next(), "utf8"));
    else if (name === "monitor") a.monitor = true;
    else if (name === "xpub-verbose") a.xpubVerbose = "allSubs";
    else if (name === "xpub-verboser") a.xpubVerbose = "allSubsUnsubs";
    else if (name === "plain-users") {
      a.plainUsers = next();
      a.options.plainServer = true;
    } else if (name === "curve-allow") a.curveAllow.push(next());
    else if (FLAGS[name]) {
      const [opt, kind] = FLAGS[name];
      a.options[opt] = kind === "flag"
        ? true
        : kind === "int"
        ? Number.parseInt(next(), 10)
        : kind === "hex"
        ? Buffer.from(next(), "hex")
        : next();
    } else throw new Error(`unknown argument --${name}`);
  }
  if (!TYPES[a.type]) throw new Error(`--type must be one of ${Object.keys(TYPES).join(", ")}`);
  return a;
}

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** Z85 (rfc.zeromq.org spec 32) of bytes whose length is a multiple of 4. */
function z85(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let v = bytes.readUInt32BE(i);
    const chunk = [];
    for (let k = 0; k < 5; k++, v = Math.floor(v / 85)) chunk.unshift(Z85[v % 85]);
    out += chunk.join("");
  }
  return out;
}

/**
 * A ZAP handler (rfc.zeromq.org spec 27) on inproc://zeromq.zap.01 of zeromq.js's global
 * context, like zmq_peer.py's zmq.auth: PLAIN users "user:pass,..." and CURVE public keys
 * (Z85, or "any") are accepted with 200, everything else refused with 400.
 */
async function startZap(a) {
  if (a.plainUsers === undefined && a.curveAllow.length === 0) return undefined;
  const users = new Map(
    (a.plainUsers ?? "").split(",").filter(Boolean).map((pair) => {
      const at = pair.indexOf(":");
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const handler = new zmq.Reply({ linger: 0 });
  await handler.bind("inproc://zeromq.zap.01");
  (async () => {
    for await (const [version, id, _domain, _address, _identity, mechanism, ...creds] of handler) {
      let ok = false, user = "";
      if (mechanism.toString() === "PLAIN") {
        user = creds[0].toString();
        ok = users.has(user) && users.get(user) === creds[1].toString();
      } else if (mechanism.toString() === "CURVE") {
        user = z85(creds[0]);
        ok = a.curveAllow.includes("any") || a.curveAllow.includes(user);
      }
      await handler.send([
        version,
        id,
        ok ? "200" : "400",
        ok ? "OK" : "Denied",
        ok ? user : "",
        Buffer.alloc(0),
      ]);
    }
  })().catch(() => {/* closed */});
  return handler;
}

class Peer {
  constructor(a) {
    this.a = a;
    this.type = a.type;
    this.sendTimeout = a.options.sendTimeout ?? DEFAULT_SEND_TIMEOUT_MS;
    const Type = DRAFT_TYPES.has(a.type) ? TYPES[a.type]() : TYPES[a.type];
    this.sock = new Type({ linger: 0, ...a.options });
    // Receive-only sockets (SUB, PULL) have no sendTimeout, send-only ones no receiveTimeout.
    this.canSend = "sendTimeout" in this.sock;
    this.canReceive = "receiveTimeout" in this.sock;
    if (this.canSend) this.sock.sendTimeout = this.sendTimeout;
    if (a.xpubVerbose) this.sock.verbosity = a.xpubVerbose;
    this.endpoints = [];
    this.events = [];
    this.eventWaiters = [];
    if (a.monitor) this.#watch();
  }

  async #watch() {
    try {
      for await (const ev of this.sock.events) {
        const name = {
          accept: "ACCEPTED",
          connect: "CONNECTED",
          "connect:delay": "CONNECT_DELAYED",
          "connect:retry": "CONNECT_RETRIED",
          bind: "LISTENING",
          close: "CLOSED",
          disconnect: "DISCONNECTED",
          "handshake": "HANDSHAKE_SUCCEEDED",
          "handshake:error:protocol": "HANDSHAKE_FAILED_PROTOCOL",
          "handshake:error:auth": "HANDSHAKE_FAILED_AUTH",
          "handshake:error:other": "HANDSHAKE_FAILED_NO_DETAIL",
        }[ev.type] ?? ev.type;
        this.events.push({ event: name, endpoint: ev.address ?? "" });
        for (const w of this.eventWaiters.splice(0)) w();
      }
    } catch { /* socket closed */ }
  }

  async start() {
    this.zap = await startZap(this.a);
    for (const ep of this.a.bind) {
      await this.sock.bind(ep);
      this.endpoints.push(this.sock.lastEndpoint);
    }
    for (const ep of this.a.connect) {
      this.sock.connect(ep);
      this.endpoints.push(ep);
    }
    for (const topic of this.a.subscribe) await this.subscribe(topic, true);
    if (this.a.join.length > 0) this.sock.join(...this.a.join);
  }

  async recv(timeoutMs) {
    if (!this.canReceive) throw unsupported(`${this.type} cannot receive`);
    this.sock.receiveTimeout = Math.max(0, Math.trunc(timeoutMs));
    try {
      const got = await this.sock.receive();
      // A SERVER resolves [message, { routingId }]: kept as the frames' routingId.
      if (this.type === "SERVER") return Object.assign([got[0]], { routingId: got[1].routingId });
      // A DISH resolves [message, { group }]: kept as the frames' group.
      if (this.type === "DISH") return Object.assign([got[0]], { group: got[1].group });
      return got;
    } catch (err) {
      if (err?.code === "EAGAIN") return undefined;
      throw err;
    }
  }

  async send(frames, timeoutMs, routingId, group) {
    if (!this.canSend) throw unsupported(`${this.type} cannot send`);
    this.sock.sendTimeout = timeoutMs ?? this.sendTimeout;
    // Draft types take one frame (an array is a multipart message, refused by libzmq).
    if (this.type === "RADIO") {
      await this.sock.send(frames.length === 1 ? frames[0] : frames, { group });
    } else if (this.type === "SERVER") {
      await this.sock.send(frames.length === 1 ? frames[0] : frames, { routingId });
    } else if (DRAFT_TYPES.has(this.type) && frames.length === 1) await this.sock.send(frames[0]);
    else await this.sock.send(frames);
  }

  async subscribe(topic, on) {
    if (this.type === "SUB") {
      if (on) this.sock.subscribe(topic);
      else this.sock.unsubscribe(topic);
    } else if (this.type === "XSUB") {
      await this.send([Buffer.concat([Buffer.from([on ? 1 : 0]), topic])]);
    } else {throw Object.assign(
        new Error(`subscribe needs a SUB or XSUB socket, not ${this.type}`),
        { code: "EINVAL" },
      );}
  }

  async handle(cmd) {
    const op = cmd.op;
    const timeout = cmd.timeout ?? DEFAULT_RECV_TIMEOUT_MS;
    switch (op) {
      case "send":
        await this.send(
          unhex(cmd.frames),
          cmd.timeout,
          cmd.routing_id,
          cmd.group === undefined ? undefined : Buffer.from(cmd.group, "hex"),
        );
        return { event: "sent" };
      case "recv": {
        const frames = await this.recv(timeout);
        return frames === undefined ? { event: "timeout" } : frames.group !== undefined
          ? {
            event: "msg",
            frames: hexes(frames),
            group: Buffer.from(frames.group).toString("hex"),
          }
          : frames.routingId === undefined
          ? { event: "msg", frames: hexes(frames) }
          : { event: "msg", frames: hexes(frames), routing_id: frames.routingId };
      }
      case "subscribe":
      case "unsubscribe":
        await this.subscribe(Buffer.from(cmd.topic ?? "", "hex"), op === "subscribe");
        return { event: "ok" };
      case "echo": {
        let n = 0;
        for (let i = 0; i < (cmd.count ?? 1); i++) {
          const frames = await this.recv(timeout);
          if (frames === undefined) return { event: "echoed", count: n, timed_out: true };
          await this.send(frames, undefined, frames.routingId);
          n++;
        }
        return { event: "echoed", count: n };
      }
      case "recv_count": {
        const want = cmd.count ?? 1, skip = cmd.skip ?? 0;
        const digest = new Digest(), t0 = performance.now();
        let n = 0, timedOut = false;
        while (n < want) {
          const frames = await this.recv(timeout);
          if (frames === undefined) {
            timedOut = true;
            break;
          }
          digest.add(frames.slice(skip));
          n++;
        }
        const ev = {
          event: "counted",
          count: n,
          digest: digest.hex(),
          elapsed_ms: performance.now() - t0,
        };
        if (timedOut) ev.timed_out = true;
        return ev;
      }
      case "send_many": {
        const count = cmd.count ?? 1, size = cmd.size ?? 0;
        const prefix = Buffer.from(cmd.prefix ?? "", "hex");
        const envelope = unhex(cmd.envelope ?? []);
        const digest = new Digest(), t0 = performance.now();
        for (let i = 0; i < count; i++) {
          const msg = sequenceMessage(i, size, prefix);
          try {
            await this.send([...envelope, msg], cmd.timeout);
          } catch (err) {
            return { ...errorEvent(op, err), count: i, digest: digest.hex() };
          }
          digest.add([msg]);
        }
        return {
          event: "sent_many",
          count,
          digest: digest.hex(),
          elapsed_ms: performance.now() - t0,
        };
      }
      case "bind":
        await this.sock.bind(cmd.endpoint);
        return { event: "bound", endpoint: this.sock.lastEndpoint };
      case "connect":
        this.sock.connect(cmd.endpoint);
        return { event: "ok" };
      case "disconnect":
        this.sock.disconnect(cmd.endpoint);
        return { event: "ok" };
      case "unbind":
        await this.sock.unbind(cmd.endpoint);
        return { event: "ok" };
      case "events": {
        if (!this.a.monitor) throw new Error("start the peer with --monitor to record events");
        return { event: "events", events: this.events.splice(0) };
      }
      case "wait_event": {
        if (!this.a.monitor) throw new Error("start the peer with --monitor to record events");
        const deadline = performance.now() + timeout;
        for (;;) {
          const i = this.events.findIndex((e) => e.event === cmd.name);
          if (i >= 0) return { event: "observed", observed: this.events.splice(0, i + 1)[i] };
          const left = deadline - performance.now();
          if (left <= 0) return { event: "timeout" };
          await new Promise((resolve) => {
            const t = setTimeout(resolve, left);
            this.eventWaiters.push(() => (clearTimeout(t), resolve()));
          });
        }
      }
      case "sleep":
        await new Promise((resolve) => setTimeout(resolve, cmd.ms ?? 0));
        return { event: "ok" };
      case "ping":
        return { event: "pong" };
      default:
        throw Object.assign(new Error(`unknown op ${JSON.stringify(op)}`), { code: "EBADCMD" });
    }
  }

  close() {
    this.sock.close();
    this.zap?.close();
  }
}

async function main() {
  let peer;
  try {
    peer = new Peer(parseArgs(process.argv.slice(2)));
    await peer.start();
  } catch (err) {
    emit(errorEvent("start", err));
    peer?.close();
    return 2;
  }
  emit({
    event: "ready",
    endpoint: peer.endpoints[0] ?? null,
    endpoints: peer.endpoints,
    type: peer.type,
    impl: "zeromq.js",
    libzmq: zmq.version,
  });
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (err) {
      emit({ event: "error", op: null, code: "EBADCMD", message: String(err.message) });
      continue;
    }
    if (cmd.op === "close") break;
    try {
      emit(await peer.handle(cmd));
    } catch (err) {
      emit(errorEvent(cmd.op, err));
    }
  }
  lines.close();
  peer.close();
  emit({ event: "closed" });
  return 0;
}

process.exitCode = await main();
// zeromq.js keeps the event loop alive until its context terminates; leave promptly.
setTimeout(() => process.exit(process.exitCode), 50).unref();
