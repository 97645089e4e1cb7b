#!/usr/bin/python3
"""libzmq victim for bench/attacks.ts (pyzmq on Debian's libzmq 4.3.4, asyncio).

Same modes and stdin protocol as victim_monocoque.ts (see that file):

    /usr/bin/python3 bench/attacks/victim_pyzmq.py MODE PORT

The application runs on an asyncio loop (zmq.asyncio), like Monocoque's on
Deno's, with the same 1 ms timer probe. libzmq does its network I/O on its own
thread, so the probe measures only the Python loop's own lateness: a figure
for the application, not for libzmq's I/O (which keeps serving peers).
"""

import asyncio
import ctypes
import gc
import json
import sys
import time

import zmq
import zmq.asyncio

MODE, PORT = sys.argv[1], sys.argv[2]
TYPES = {"xpub": zmq.XPUB, "xpub_verbose": zmq.XPUB, "pull": zmq.PULL, "router": zmq.ROUTER}

LIBC = ctypes.CDLL("libc.so.6")
counters = {"subs": 0, "unsubs": 0, "kept": 0, "dropped": 0}
kept = []
worst = 0.0


def out(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


async def probe():
    global worst
    last = time.perf_counter()
    while True:
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        worst = max(worst, (now - last) * 1000 - 1)
        last = now


async def read_subscriptions(sock):
    n = 0
    while True:
        frame = await sock.recv()
        if frame[:1] == b"\x01":
            counters["subs"] += 1
        else:
            counters["unsubs"] += 1
        n += 1
        if n % 256 == 0:
            await asyncio.sleep(0)


async def keep(sock, n, limit):
    for i in range(n):
        msg = await sock.recv_multipart()
        if sum(len(f) for f in msg) <= limit:
            kept.append(msg)
            counters["kept"] += 1
        else:
            counters["dropped"] += 1
        if i % 256 == 255:
            await asyncio.sleep(0)


async def command(sock, line, tasks):
    global worst
    parts = line.split()
    cmd, a = parts[0], parts[1:]
    if cmd == "mem":
        # The analogue of the Deno victim's gc(): live memory, not what the
        # allocator kept after frees (glibc holds freed heap until trimmed).
        gc.collect()
        LIBC.malloc_trim(0)
        out(event="mem", heap=-1, external=-1, rss_kb=rss_kb())
    elif cmd == "count":
        out(event="count", **counters)
    elif cmd == "wait":
        end = time.monotonic() + int(a[2]) / 1000
        while counters.get(a[0], 0) < int(a[1]) and time.monotonic() < end:
            await asyncio.sleep(0.005)
        out(event="count", **counters)
    elif cmd == "keep":
        tasks.append(asyncio.ensure_future(keep(sock, int(a[0]), int(a[1]))))
        out(event="ok")
    elif cmd == "publish":
        msg = b"a" * int(a[1])
        batch = max(1, int(a[2]))
        t0 = time.perf_counter()
        for i in range(int(a[0])):
            await sock.send(msg)
            if i % batch == batch - 1:
                await asyncio.sleep(0)
        out(event="published", secs=time.perf_counter() - t0)
    elif cmd == "loop":
        msg = b"a" * int(a[1])
        t0 = time.perf_counter()
        end = t0 + float(a[0])
        sent = 0
        while True:
            for _ in range(1024):
                await sock.send(msg)
            sent += 1024
            if time.perf_counter() >= end:
                break
        out(event="looped", secs=time.perf_counter() - t0, sent=sent)
    elif cmd == "stall_reset":
        await asyncio.sleep(0)
        worst = 0.0
        out(event="ok")
    elif cmd == "stall":
        # Let a timer held up by a loop that just ended fire and be counted.
        await asyncio.sleep(0.005)
        out(event="stall", worst_ms=worst)
    elif cmd == "exit":
        sock.close(linger=0)
        sys.exit(0)
    else:
        out(event="error", message="unknown command " + cmd)


async def main():
    ctx = zmq.asyncio.Context()
    sock = ctx.socket(TYPES[MODE])
    if MODE == "xpub_verbose":
        sock.setsockopt(zmq.XPUB_VERBOSE, 1)
    sock.bind("tcp://127.0.0.1:" + PORT)
    tasks = [asyncio.ensure_future(probe())]
    if MODE.startswith("xpub"):
        tasks.append(asyncio.ensure_future(read_subscriptions(sock)))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out(event="ready")
    while True:
        line = await reader.readline()
        if not line:
            break
        if line.strip():
            await command(sock, line.decode(), tasks)
    sock.close(linger=0)


asyncio.run(main())
