#!/usr/bin/env python3
"""Web clients for scripts/bench web: N boards on andond's /events and a Prometheus-like scrape every second.

Usage: sse-clients.py PORT CLIENTS SECONDS OUT

Opens CLIENTS event streams at once, then for SECONDS reads every frame and scrapes /metrics once a second. Ten
clients parse every frame and time each `raised` one from the call's raisedAt (andond's clock, the instant the engine
applied the signal) to its arrival; the others read in bulk and count frames, so that Python on the same two cores
measures andond, not itself. Writes to OUT: clients connected, frames, event-to-client p50/p99/max in ms,
scrapes and their p50/max in ms, and streams dropped (a client andond found too far behind).
"""
import asyncio
import json
import sys
import time

port, clients, seconds, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
latencies, scrapes = [], []
state = {"connected": 0, "frames": 0, "dropped": 0}


async def stream(stop, measure):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(b"GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n")[0]:
        return
    state["connected"] += 1
    event = None
    try:
        while not measure and not stop.is_set():
            chunk = await asyncio.wait_for(reader.read(1 << 16), timeout=max(0.1, seconds))
            if not chunk:
                state["dropped"] += 1
                return
            state["frames"] += chunk.count(b"event: call")
        while not stop.is_set():
            line = await asyncio.wait_for(reader.readline(), timeout=max(0.1, seconds))
            if not line:
                state["dropped"] += 1
                return
            if line.startswith(b"event: "):
                event = line[7:].strip()
            elif line.startswith(b"data: ") and event == b"call":
                arrived = time.time() * 1000
                state["frames"] += 1
                data = json.loads(line[6:])
                call = data.get("call")
                if data.get("event") == "raised" and call:
                    latencies.append(arrived - call["raisedAt"])
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def scrape(stop):
    while not stop.is_set():
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        await writer.drain()
        await reader.read()
        writer.close()
        scrapes.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(max(0, 1 - (time.perf_counter() - started)))


async def main():
    stop = asyncio.Event()
    tasks = [asyncio.create_task(stream(stop, i < 10)) for i in range(clients)] + [asyncio.create_task(scrape(stop))]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait(tasks, timeout=5)


def pct(values):
    if not values:
        return "none"
    v = sorted(values)
    return "p50 %.1f p99 %.1f max %.1f" % (v[len(v) // 2], v[min(len(v) - 1, int(len(v) * 0.99))], v[-1])


asyncio.run(main())
with open(out, "w") as f:
    f.write("clients %d frames %d event-to-client %s; scrapes %d (%s ms); dropped %d\n" % (
        state["connected"], state["frames"], pct(latencies), len(scrapes), pct(scrapes), state["dropped"]))
