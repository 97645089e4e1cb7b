#!/usr/bin/python3
"""A scriptable libzmq peer (pyzmq) for Monocoque's interop tests.

Run with Debian's interpreter, which is the one that has pyzmq:

    /usr/bin/python3 zmq_peer.py --type REP --bind tcp://127.0.0.1:0

It opens one socket, binds and/or connects it, prints one JSON line
`{"event":"ready","endpoint":...,"endpoints":[...]}` and then serves a
line-based JSON protocol: one command per stdin line, exactly one JSON event
line on stdout per command. Frames travel as lowercase hex strings. See
README.md in this folder for the protocol. It never hangs: every receive and
send has a timeout, and it exits when stdin closes or on {"op":"close"}.
"""

import argparse
import hashlib
import json
import os
import sys
import time

import zmq

TYPES = {
    name: getattr(zmq, name)
    for name in ("PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH", "XPUB", "XSUB")
}

# Default send timeout: a send blocked by HWM or by no peer reports EAGAIN instead of hanging.
DEFAULT_SEND_TIMEOUT_MS = 5000
DEFAULT_RECV_TIMEOUT_MS = 5000

ERRNO_NAMES = {
    getattr(zmq, n): n
    for n in ("EAGAIN", "EFSM", "EHOSTUNREACH", "ETERM", "EADDRINUSE", "EPROTONOSUPPORT", "EINVAL", "EMSGSIZE",
              "ENOTSUP", "ENOTSOCK", "EADDRNOTAVAIL", "ECONNREFUSED", "ENOENT")
    if hasattr(zmq, n)
}


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def hexes(frames):
    return [bytes(f).hex() for f in frames]


def unhex(frames):
    return [bytes.fromhex(f) for f in frames]


def error_event(op, exc):
    code = ERRNO_NAMES.get(getattr(exc, "errno", None), "EBADCMD")
    return {"event": "error", "op": op, "code": code, "message": str(exc)}


class Digest:
    """SHA-256 over a sequence of messages, framed so that boundaries count:
    for each message u32be(frame count), then for each frame u32be(length) + bytes."""

    def __init__(self):
        self.h = hashlib.sha256()

    def add(self, frames):
        self.h.update(len(frames).to_bytes(4, "big"))
        for f in frames:
            f = bytes(f)
            self.h.update(len(f).to_bytes(4, "big"))
            self.h.update(f)

    def hexdigest(self):
        return self.h.hexdigest()


def sequence_message(i, size, prefix):
    """Message i of a send_many run: prefix + u32be(i), zero-padded to size bytes."""
    body = prefix + i.to_bytes(4, "big")
    return body + bytes(max(0, size - len(body)))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--type", required=True, type=str.upper, choices=sorted(TYPES))
    p.add_argument("--bind", action="append", default=[], help="endpoint to bind (repeatable)")
    p.add_argument("--connect", action="append", default=[], help="endpoint to connect (repeatable)")
    p.add_argument("--routing-id", help="ZMQ_ROUTING_ID as UTF-8 text")
    p.add_argument("--routing-id-hex", help="ZMQ_ROUTING_ID as hex")
    p.add_argument("--subscribe", action="append", default=[], help="SUB/XSUB topic as UTF-8 text (repeatable)")
    p.add_argument("--subscribe-hex", action="append", default=[], help="SUB/XSUB topic as hex (repeatable)")
    p.add_argument("--sndhwm", type=int)
    p.add_argument("--rcvhwm", type=int)
    p.add_argument("--linger", type=int, default=0)
    p.add_argument("--sndtimeo", type=int, default=DEFAULT_SEND_TIMEOUT_MS)
    p.add_argument("--xpub-verbose", action="store_true")
    p.add_argument("--xpub-verboser", action="store_true")
    p.add_argument("--xpub-manual", action="store_true")
    p.add_argument("--xpub-welcome-msg", help="XPUB welcome message as UTF-8 text")
    p.add_argument("--router-mandatory", action="store_true")
    p.add_argument("--router-handover", action="store_true")
    p.add_argument("--probe-router", action="store_true")
    p.add_argument("--req-relaxed", action="store_true")
    p.add_argument("--req-correlate", action="store_true")
    p.add_argument("--immediate", action="store_true")
    p.add_argument("--conflate", action="store_true")
    p.add_argument("--heartbeat-ivl", type=int)
    p.add_argument("--heartbeat-timeout", type=int)
    p.add_argument("--heartbeat-ttl", type=int)
    p.add_argument("--handshake-ivl", type=int)
    p.add_argument("--reconnect-ivl", type=int)
    p.add_argument("--reconnect-ivl-max", type=int)
    p.add_argument("--maxmsgsize", type=int)
    p.add_argument("--plain-server", action="store_true")
    p.add_argument("--plain-username")
    p.add_argument("--plain-password")
    p.add_argument("--plain-users", help="user:pass,user:pass - run a ZAP handler that accepts only these")
    p.add_argument("--curve-server", action="store_true")
    p.add_argument("--curve-publickey", help="Z85")
    p.add_argument("--curve-secretkey", help="Z85")
    p.add_argument("--curve-serverkey", help="Z85")
    p.add_argument("--curve-allow", action="append", default=[],
                   help="Z85 client public key to accept with a ZAP handler (repeatable); 'any' accepts all")
    p.add_argument("--zap-domain")
    p.add_argument("--zap-allow", action="append", default=[],
                   help="with a ZAP handler: accept only clients from this IP address (repeatable)")
    p.add_argument("--zap-deny", action="append", default=[],
                   help="with a ZAP handler: refuse clients from this IP address (repeatable)")
    p.add_argument("--monitor", action="store_true", help="record socket events for the events/wait_event ops")
    p.add_argument("--sockopt", action="append", default=[],
                   help="NAME=INT for any other integer option, e.g. RCVBUF=65536 (repeatable)")
    return p.parse_args(argv)


def configure(sock, a):
    s = sock.setsockopt
    if a.routing_id is not None:
        s(zmq.ROUTING_ID, a.routing_id.encode())
    if a.routing_id_hex is not None:
        s(zmq.ROUTING_ID, bytes.fromhex(a.routing_id_hex))
    for name, value in (("SNDHWM", a.sndhwm), ("RCVHWM", a.rcvhwm), ("HEARTBEAT_IVL", a.heartbeat_ivl),
                        ("HEARTBEAT_TIMEOUT", a.heartbeat_timeout), ("HEARTBEAT_TTL", a.heartbeat_ttl),
                        ("HANDSHAKE_IVL", a.handshake_ivl), ("RECONNECT_IVL", a.reconnect_ivl),
                        ("RECONNECT_IVL_MAX", a.reconnect_ivl_max), ("MAXMSGSIZE", a.maxmsgsize)):
        if value is not None:
            s(getattr(zmq, name), value)
    s(zmq.LINGER, a.linger)
    s(zmq.SNDTIMEO, a.sndtimeo)
    for flag, name in ((a.xpub_verbose, "XPUB_VERBOSE"), (a.xpub_verboser, "XPUB_VERBOSER"),
                       (a.xpub_manual, "XPUB_MANUAL"), (a.router_mandatory, "ROUTER_MANDATORY"),
                       (a.router_handover, "ROUTER_HANDOVER"), (a.probe_router, "PROBE_ROUTER"),
                       (a.req_relaxed, "REQ_RELAXED"), (a.req_correlate, "REQ_CORRELATE"),
                       (a.immediate, "IMMEDIATE"), (a.conflate, "CONFLATE")):
        if flag:
            s(getattr(zmq, name), 1)
    if a.xpub_welcome_msg is not None:
        s(zmq.XPUB_WELCOME_MSG, a.xpub_welcome_msg.encode())
    if a.zap_domain is not None:
        s(zmq.ZAP_DOMAIN, a.zap_domain.encode())
    if a.plain_server or a.plain_users:
        s(zmq.PLAIN_SERVER, 1)
    if a.plain_username is not None:
        s(zmq.PLAIN_USERNAME, a.plain_username.encode())
    if a.plain_password is not None:
        s(zmq.PLAIN_PASSWORD, a.plain_password.encode())
    if a.curve_server:
        s(zmq.CURVE_SERVER, 1)
    for value, name in ((a.curve_publickey, "CURVE_PUBLICKEY"), (a.curve_secretkey, "CURVE_SECRETKEY"),
                        (a.curve_serverkey, "CURVE_SERVERKEY")):
        if value is not None:
            s(getattr(zmq, name), value.encode())
    for item in a.sockopt:
        name, _, value = item.partition("=")
        s(getattr(zmq, name.upper()), int(value))
    for topic in [t.encode() for t in a.subscribe] + [bytes.fromhex(t) for t in a.subscribe_hex]:
        subscribe(sock, a.type, topic, True)


def subscribe(sock, type_name, topic, on):
    if type_name == "SUB":
        sock.setsockopt(zmq.SUBSCRIBE if on else zmq.UNSUBSCRIBE, topic)
    elif type_name == "XSUB":
        sock.send((b"\x01" if on else b"\x00") + topic)
    else:
        raise ValueError(f"subscribe needs a SUB or XSUB socket, not {type_name}")


def start_zap(ctx, a):
    """A ZAP handler (pyzmq's ThreadAuthenticator) when the test asks for real authentication."""
    if not a.plain_users and not a.curve_allow:
        return None
    from zmq.auth.thread import ThreadAuthenticator
    auth = ThreadAuthenticator(ctx)
    auth.start()
    if a.zap_allow:
        auth.allow(*a.zap_allow)
    if a.zap_deny:
        auth.deny(*a.zap_deny)
    domain = a.zap_domain or "*"
    if a.plain_users:
        users = dict(pair.split(":", 1) for pair in a.plain_users.split(","))
        auth.configure_plain(domain=domain, passwords=users)
    if a.curve_allow:
        if "any" in a.curve_allow:
            auth.configure_curve(domain=domain, location=zmq.auth.CURVE_ALLOW_ANY)
        else:
            allowed = {k.encode() for k in a.curve_allow}

            class Allowed:
                def callback(self, _domain, z85_key):
                    return z85_key in allowed

            auth.configure_curve_callback(domain=domain, credentials_provider=Allowed())
    return auth


class Peer:
    def __init__(self, ctx, a):
        self.a = a
        self.type = a.type
        self.sock = ctx.socket(TYPES[a.type])
        self.monitor = None
        self.events = []
        if a.monitor:
            self.monitor = self.sock.get_monitor_socket()
        configure(self.sock, a)
        self.endpoints = []
        for ep in a.bind:
            self.sock.bind(ep)
            self.endpoints.append(self.sock.getsockopt_string(zmq.LAST_ENDPOINT))
        for ep in a.connect:
            self.sock.connect(ep)
            self.endpoints.append(ep)

    def recv(self, timeout_ms):
        if self.sock.poll(max(0, int(timeout_ms)), zmq.POLLIN):
            return self.sock.recv_multipart(copy=True)
        return None

    def send(self, frames, timeout_ms=None):
        if timeout_ms is not None:
            self.sock.setsockopt(zmq.SNDTIMEO, int(timeout_ms))
        try:
            self.sock.send_multipart(frames)
        finally:
            if timeout_ms is not None:
                self.sock.setsockopt(zmq.SNDTIMEO, self.a.sndtimeo)

    def drain_monitor(self, wait_ms=0):
        from zmq.utils.monitor import recv_monitor_message
        names = {getattr(zmq, n): n[len("EVENT_"):] for n in dir(zmq) if n.startswith("EVENT_")
                 and n not in ("EVENT_ALL", "EVENT_ALL_V1", "EVENT_ALL_V2")}
        got = []
        while self.monitor.poll(wait_ms if not got else 0, zmq.POLLIN):
            m = recv_monitor_message(self.monitor)
            ep = m.get("endpoint", b"")
            got.append({"event": names.get(m["event"], str(m["event"])), "value": m.get("value"),
                        "endpoint": ep.decode(errors="replace") if isinstance(ep, bytes) else str(ep)})
        self.events.extend(got)
        return got

    def handle(self, cmd):
        op = cmd.get("op")
        timeout = cmd.get("timeout", DEFAULT_RECV_TIMEOUT_MS)
        if op == "send":
            self.send(unhex(cmd["frames"]), cmd.get("timeout"))
            return {"event": "sent"}
        if op == "recv":
            frames = self.recv(timeout)
            return {"event": "timeout"} if frames is None else {"event": "msg", "frames": hexes(frames)}
        if op in ("subscribe", "unsubscribe"):
            subscribe(self.sock, self.type, bytes.fromhex(cmd.get("topic", "")), op == "subscribe")
            return {"event": "ok"}
        if op == "echo":
            # Receive up to count messages, each within timeout ms, and send each straight back.
            # REP/ROUTER/DEALER/PAIR echo exactly what they received (ROUTER's first frame is the
            # routing id, so the reply goes back to the sender).
            n = 0
            for _ in range(int(cmd.get("count", 1))):
                frames = self.recv(timeout)
                if frames is None:
                    return {"event": "echoed", "count": n, "timed_out": True}
                self.send(frames)
                n += 1
            return {"event": "echoed", "count": n}
        if op == "recv_count":
            # Receive up to count messages; timeout is the longest wait for the next one. skip
            # leading frames (e.g. ROUTER's routing id) are left out of the digest.
            want, skip = int(cmd.get("count", 1)), int(cmd.get("skip", 0))
            digest, n, timed_out, t0 = Digest(), 0, False, time.monotonic()
            while n < want:
                frames = self.recv(timeout)
                if frames is None:
                    timed_out = True
                    break
                digest.add(frames[skip:])
                n += 1
            ev = {"event": "counted", "count": n, "digest": digest.hexdigest(),
                  "elapsed_ms": round((time.monotonic() - t0) * 1000, 3)}
            if timed_out:
                ev["timed_out"] = True
            return ev
        if op == "send_many":
            # Message i = prefix + u32be(i) zero-padded to size, as one frame, after the optional
            # envelope frames (hex; e.g. a ROUTER's routing id).
            count, size = int(cmd.get("count", 1)), int(cmd.get("size", 0))
            prefix = bytes.fromhex(cmd.get("prefix", ""))
            envelope = unhex(cmd.get("envelope", []))
            digest, t0 = Digest(), time.monotonic()
            for i in range(count):
                msg = sequence_message(i, size, prefix)
                try:
                    self.send(envelope + [msg], cmd.get("timeout"))
                except zmq.ZMQError as e:
                    ev = error_event(op, e)
                    ev.update(count=i, digest=digest.hexdigest())
                    return ev
                digest.add([msg])
            return {"event": "sent_many", "count": count, "digest": digest.hexdigest(),
                    "elapsed_ms": round((time.monotonic() - t0) * 1000, 3)}
        if op == "bind":
            self.sock.bind(cmd["endpoint"])
            return {"event": "bound", "endpoint": self.sock.getsockopt_string(zmq.LAST_ENDPOINT)}
        if op == "connect":
            self.sock.connect(cmd["endpoint"])
            return {"event": "ok"}
        if op == "disconnect":
            self.sock.disconnect(cmd["endpoint"])
            return {"event": "ok"}
        if op == "unbind":
            self.sock.unbind(cmd["endpoint"])
            return {"event": "ok"}
        if op == "setsockopt":
            value = cmd["value"]
            if isinstance(value, str):
                value = bytes.fromhex(value)
            self.sock.setsockopt(getattr(zmq, cmd["name"].upper()), value)
            return {"event": "ok"}
        if op == "getsockopt":
            value = self.sock.getsockopt(getattr(zmq, cmd["name"].upper()))
            return {"event": "value", "value": value.hex() if isinstance(value, bytes) else value}
        if op == "events":
            if self.monitor is None:
                raise ValueError("start the peer with --monitor to record events")
            self.drain_monitor(0)
            got, self.events = self.events, []
            return {"event": "events", "events": got}
        if op == "wait_event":
            # Wait until the monitor reports the named event (e.g. HANDSHAKE_SUCCEEDED, ACCEPTED,
            # DISCONNECTED), consuming events up to and including it.
            if self.monitor is None:
                raise ValueError("start the peer with --monitor to record events")
            deadline = time.monotonic() + timeout / 1000
            while True:
                for i, e in enumerate(self.events):
                    if e["event"] == cmd["name"]:
                        self.events = self.events[i + 1:]
                        return {"event": "observed", "observed": e}
                left = deadline - time.monotonic()
                if left <= 0:
                    return {"event": "timeout"}
                self.drain_monitor(int(left * 1000) + 1)
        if op == "sleep":
            time.sleep(int(cmd.get("ms", 0)) / 1000)
            return {"event": "ok"}
        if op == "ping":
            return {"event": "pong"}
        raise ValueError(f"unknown op {op!r}")

    def close(self):
        if self.monitor is not None:
            self.sock.disable_monitor()
            self.monitor.close(0)
        self.sock.close()


def main():
    a = parse_args(sys.argv[1:])
    ctx = zmq.Context()
    auth = start_zap(ctx, a)
    try:
        peer = Peer(ctx, a)
    except Exception as e:  # bind/connect/option failures are reported, not thrown at the test
        emit(error_event("start", e))
        # The half-made socket (and a ZAP thread) would make ctx.term() wait; leave at once.
        os._exit(2)
    emit({"event": "ready", "endpoint": peer.endpoints[0] if peer.endpoints else None,
          "endpoints": peer.endpoints, "type": a.type, "impl": "pyzmq", "libzmq": zmq.zmq_version()})
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                cmd = json.loads(line)
            except ValueError as e:
                emit({"event": "error", "op": None, "code": "EBADCMD", "message": str(e)})
                continue
            if cmd.get("op") == "close":
                break
            try:
                emit(peer.handle(cmd))
            except (zmq.ZMQError, ValueError, KeyError, AttributeError, TypeError) as e:
                emit(error_event(cmd.get("op"), e))
    except KeyboardInterrupt:
        pass
    finally:
        peer.close()
        if auth is not None:
            auth.stop()
        ctx.term()
    try:
        emit({"event": "closed"})
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
