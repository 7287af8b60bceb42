"""What sharing the stream wing's live state through Redis costs, in one run against a real
redis-server, at 1,000 clients x 30 labels/s all stored by one process:

- dashboard hub, per tick (100 ms: 3,000 labels from 1,000 clients, every client changed): the
  in-process hub's observe + collect (the baseline) against the shared hub's observe + collect +
  publish (one pipeline: its changed parts into its hash and on the channel), and what a second
  process spends hearing that message (decode, merge, collect); bytes per message.
- rate limit, per batch: the in-process token bucket against the Redis script, one caller after
  another (a round trip each), and from several threads at once (batches waiting while a call is
  out go together in the next).

    .venv/bin/python -m bench.shared_state [--clients 1000] [--rate 30] [--ticks 40]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time

from tests.helpers.auth import ADMIN_CONFIG
from tests.helpers.redis import Redis

TICK_S = 0.1


def rows_for_tick(tick: int, clients: int, per_client: int) -> list[dict]:
    now = int(time.time() * 1000)
    return [{"client_id": f"bench-{c:05d}", "seq": tick * per_client + i, "ts": now + i, "received_at": now,
             "label": ("tree", "chair", "dog")[(c + i) % 3], "confidence": 0.9, "model": "yoga5", "model_version": 3,
             "backbone": "movenet-thunder", "person": 0, "fps": 30.0}
            for c in range(clients) for i in range(per_client)]


def next_message(listener, kind: str = "message"):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        message = listener.get_message(timeout=1)
        if message and message["type"] == kind:
            return message["data"]
    raise RuntimeError(f"no {kind} on the channel within 5 s")


def cpu_us(fn) -> float:
    t0 = time.thread_time()
    fn()
    return (time.thread_time() - t0) * 1e6


def hub_figures(app, url: str, clients: int, rate: int, ticks: int) -> dict:
    from server.stream.dashboard_hub import Hub
    from server.stream.redis_link import Link
    from server.stream.shared_hub import SharedHub

    per_client = max(1, round(rate * TICK_S))
    base, a, b = Hub(app), SharedHub(app, Link(url, "bench")), SharedHub(app, Link(url, "bench"))
    for hub in (a, b):
        hub.link.listening = True  # this bench drives the ticks itself: no ticker, no listener
    for hub in (base, a, b):
        hub.started = True
        hub.add_dashboard("dashboard")
    for c in range(clients):
        for hub in (base, a):
            hub.connected(f"bench-{c:05d}", f"camera {c}", c)
    listener = a.link.client.pubsub()
    listener.subscribe(a.channel)
    next_message(listener, "subscribe")
    a.publish()  # the full publish at start, heard by b
    b._heard(next_message(listener))

    def collect(hub):
        with hub.lock:
            hub._collect()
            hub.dashboards["dashboard"]["inflight"] = None  # acknowledged at once

    figures = {"base": [], "shared": [], "heard": [], "bytes": []}
    for tick in range(ticks):
        rows = rows_for_tick(tick + 1, clients, per_client)
        groups = [rows[i:i + 200] for i in range(0, len(rows), 200)]  # the writer's group commits
        figures["base"].append(cpu_us(lambda: ([base.observe(g) for g in groups], collect(base))))
        figures["shared"].append(cpu_us(lambda: ([a.observe(g) for g in groups], collect(a), a.publish())))
        message = next_message(listener)
        figures["bytes"].append(len(message))
        figures["heard"].append(cpu_us(lambda: (b._heard(message), collect(b))))
    assert b.clients[f"bench-{clients - 1:05d}"]["events"] == ticks * per_client, "b missed updates"
    listener.close()
    return {k: statistics.median(v) for k, v in figures.items()} | {"labels": clients * per_client}


def limiter_figures(link, calls: int, threads: int) -> dict:
    """(us wall, us CPU of this whole process) per batch, one after another and from threads at once."""
    from server.stream.rate_limit import Limiter, SharedLimiter

    local, shared = Limiter(1e9, 1e9), SharedLimiter(link, 1e9, 1e9)

    class Direct(Limiter):  # the same script, one call per batch from the batch's own green thread
        def take(self, client_id, n):
            return shared.script(keys=[shared.key + client_id], args=[1e9, 1e9, n], client=link.client)[0]

    def run(limiter, n):
        for i in range(n):
            assert limiter.take(f"bench-{i % 1000:05d}", 8) == 0

    out = {}
    direct = Direct(1e9, 1e9)
    for name, limiter, workers in (("local", local, 1), ("direct", direct, 1), ("direct_threads", direct, threads),
                                   ("redis", shared, 1), ("redis_threads", shared, threads)):
        pool = [threading.Thread(target=run, args=(limiter, calls // workers)) for _ in range(workers)]
        t0, c0 = time.perf_counter(), time.process_time()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        done = calls // workers * workers
        out[name] = ((time.perf_counter() - t0) / done * 1e6, (time.process_time() - c0) / done * 1e6)
    return out


def main() -> None:
    import eventlet  # as `posecast serve` runs: threads below are green threads

    eventlet.monkey_patch()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=30, help="labels per second per client")
    parser.add_argument("--ticks", type=int, default=40)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=64, help="batches at once (the server's green threads)")
    args = parser.parse_args()

    from server import create_app
    from server.stream.redis_link import Link

    redis = Redis().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app({"INSTANCE_PATH": tmp, "ASYNC_MODE": "eventlet", "MESSAGE_QUEUE": redis.url,
                              **ADMIN_CONFIG})
            load = os.getloadavg()
            hub = hub_figures(app, redis.url, args.clients, args.rate, args.ticks)
            lim = limiter_figures(Link(redis.url, "bench"), args.calls, args.threads)
            load = max(load[0], os.getloadavg()[0])
    finally:
        redis.stop()
    n = hub["labels"]
    extra = hub["shared"] - hub["base"]
    print(f"load average up to {load:.1f} on {os.cpu_count()} cores; medians of {args.ticks} ticks")
    print(f"hub, one tick of {args.clients} clients x {args.rate} labels/s ({n} labels, every client changed):")
    print(f"  in-process hub          {hub['base'] / 1000:8.2f} ms CPU  ({hub['base'] / n:.2f} us/label)")
    print(f"  shared hub (+ publish)  {hub['shared'] / 1000:8.2f} ms CPU  ({hub['shared'] / n:.2f} us/label, "
          f"{hub['shared'] / hub['base']:.2f}x)")
    print(f"  extra per process       {extra / 1000:8.2f} ms per tick = {extra / TICK_S / 1e4:.1f} % of one core")
    print(f"  another process hearing {hub['heard'] / 1000:8.2f} ms per tick = {hub['heard'] / TICK_S / 1e4:.1f} % of one core"
          f" per publishing process; message {hub['bytes'] / 1024:.0f} KiB")
    print("rate limit, per batch (wall; CPU of this process):")
    print(f"  in-process bucket          {lim['local'][0]:8.1f} us  {lim['local'][1]:6.1f} us CPU")
    for name, label in (("direct", "Redis, a call per batch"), ("redis", "Redis, grouped (posecast)")):
        print(f"  {label:26} {lim[name][0]:8.1f} us  {lim[name][1]:6.1f} us CPU  one batch at a time")
        print(f"  {'':26} {lim[name + '_threads'][0]:8.1f} us  {lim[name + '_threads'][1]:6.1f} us CPU  "
              f"{args.threads} at once ({1e6 / lim[name + '_threads'][0]:.0f} batches/s)")

if __name__ == "__main__":
    main()
