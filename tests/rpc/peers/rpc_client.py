"""A pyzmq client of the Monocoque RPC envelope (rpc/SPEC.md), written from
the spec alone: plain multipart frames, no MessagePack library (the few
MessagePack payloads it needs are spelled out as bytes). It calls the test
service of tests/rpc/_service.ts at the endpoint given and prints one JSON
object with every reply, for tests/rpc/interop_test.ts to check.

Usage: /usr/bin/python3 rpc_client.py ENDPOINT
"""

import json
import sys

import zmq


def text(frames):
    return [f.decode("latin-1") for f in frames]


def main():
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.RCVTIMEO, 10000)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(sys.argv[1])
    out = {}

    # Unary, raw-bytes codec: call, id, method, timeout, credit, payload.
    sock.send_multipart([b"call", b"py-1", b"test/upper", b"", b"", b"hello from pyzmq"])
    out["upper"] = text(sock.recv_multipart())

    # Unknown method: UNIMPLEMENTED (12).
    sock.send_multipart([b"call", b"py-2", b"test/nope", b"", b"", b""])
    out["unknown"] = text(sock.recv_multipart())

    # Three calls in flight on one connection, answered by id.
    for i in range(3):
        sock.send_multipart([b"call", b"m%d" % i, b"test/upper", b"", b"", b"call %d" % i])
    out["multiplexed"] = sorted(text(sock.recv_multipart()) for _ in range(3))

    # A deadline of 50 ms on sleep(60000): msgpack uint16 0xcd ea60.
    sock.send_multipart([b"call", b"py-3", b"test/sleep", b"50", b"", b"\xcd\xea\x60"])
    out["deadline"] = text(sock.recv_multipart())

    # Cancel a sleep(60000), then prove the connection still serves.
    sock.send_multipart([b"call", b"py-4", b"test/sleep", b"", b"", b"\xcd\xea\x60"])
    sock.send_multipart([b"cancel", b"py-4"])
    sock.send_multipart([b"call", b"py-5", b"test/upper", b"", b"", b"after cancel"])
    out["after_cancel"] = text(sock.recv_multipart())

    # Server stream count({to: 3}) with a credit of 2: two items, then a grant, then the rest.
    sock.send_multipart([b"call", b"s", b"test/count", b"", b"2", b"\x81\xa2to\x03"])
    stream = [sock.recv_multipart(), sock.recv_multipart()]
    sock.send_multipart([b"credit", b"s", b"5"])
    stream += [sock.recv_multipart(), sock.recv_multipart()]
    out["stream"] = [[f.hex() for f in frames] for frames in stream]

    print(json.dumps(out))
    sock.close()
    ctx.term()


main()
