"""Ingestion benchmark: N simulated live pages (python-socketio over websocket, one asyncio
loop) send label batches every 250 ms at a set rate; one operator dashboard listens. Reported
for posecast (`posecast serve`, eventlet; SQLite, then a throwaway PostgreSQL server) and, in the same run, for a bare Flask-SocketIO
echo server (bench/echo_server.py) under the same load: labels/s acknowledged (persisted, for
posecast), p50/p99 latency from a batch's emit to the dashboard seeing its last label, the
acknowledgement latency, and the server's memory.

    make bench        # or: .venv/bin/python -m bench.ingest --clients 200 --rate 30 --seconds 20

Target on this 2-core machine: 200 clients x 30 labels/s (6,000 labels/s), p99 <= 250 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import socketio

from tests.helpers.paths import ROOT
from tests.helpers.server import LiveServer, free_port

BATCH_EVERY_S = 0.25


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def label_batch(seq: int, n: int) -> list[dict]:
    """`n` label events from `seq` on, as a live page sends them."""
    now_ms = int(time.time() * 1000)
    return [{"seq": seq + k, "ts": now_ms, "label": ("chair", "tree", "cobra")[(seq + k) // 90 % 3],
             "confidence": 0.9, "model": "yoga5", "model_version": 1, "backbone": "posenet",
             "person": 0, "fps": 30.0} for k in range(n)]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def run_load(url: str, cookie: str | None, clients: int, rate: float, seconds: float, warmup: float,
                   written=None) -> dict:
    """`written()`, when given, reads the server's count of stored labels at the window's ends."""
    emitted: dict[tuple[str, int], float] = {}  # (client, last seq of a batch) -> emit time
    lat_dash: list[float] = []
    lat_ack: list[float] = []
    acked = {"n": 0, "errors": 0}
    measuring = {"on": False}

    dash = socketio.AsyncClient()

    @dash.on("update", namespace="/dashboard")
    async def on_update(payload):
        now = time.monotonic()
        if measuring["on"]:
            for c in payload["clients"]:
                t = emitted.pop((c["client_id"], c["seq"]), None)
                if t is not None:
                    lat_dash.append(now - t)
        return True

    await dash.connect(url, namespaces=["/dashboard"], transports=["websocket"],
                       headers={"Cookie": cookie} if cookie else {}, wait_timeout=20)

    pages = []
    for i in range(clients):
        sio = socketio.AsyncClient()
        await sio.connect(url, namespaces=["/pose"], transports=["websocket"],
                          auth={"client_id": f"bench-{i:05d}", "name": f"bench {i}"}, wait_timeout=20)
        pages.append(sio)

    stop = asyncio.Event()

    async def page_loop(i: int, sio):
        cid, seq, owed = f"bench-{i:05d}", 0, 0.0
        await asyncio.sleep(BATCH_EVERY_S * i / clients)  # spread the pages over the interval
        next_at = time.monotonic()
        while not stop.is_set():
            owed += rate * BATCH_EVERY_S
            n, owed = int(owed), owed - int(owed)
            if n:
                batch = label_batch(seq, n)
                seq += n
                t0 = time.monotonic()
                if measuring["on"]:
                    emitted[(cid, batch[-1]["seq"])] = t0
                try:
                    ack = await sio.call("labels", {"events": batch}, namespace="/pose", timeout=10)
                    if measuring["on"]:
                        lat_ack.append(time.monotonic() - t0)
                        if ack.get("ok"):
                            acked["n"] += n
                        else:
                            acked["errors"] += 1
                except Exception:
                    acked["errors"] += 1
            next_at += BATCH_EVERY_S
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    tasks = [asyncio.create_task(page_loop(i, s)) for i, s in enumerate(pages)]
    await asyncio.sleep(warmup)
    stored0 = await asyncio.to_thread(written) if written else 0
    measuring["on"] = True
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    measuring["on"] = False
    elapsed = time.monotonic() - t0
    stored = (await asyncio.to_thread(written) - stored0) if written else None
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for s in pages:
        await s.disconnect()
    await dash.disconnect()
    return {"acked_per_s": acked["n"] / elapsed, "persisted_per_s": stored / elapsed if written else None,
            "errors": acked["errors"], "dash_samples": len(lat_dash),
            "dash_p50_ms": 1000 * percentile(lat_dash, 0.5), "dash_p99_ms": 1000 * percentile(lat_dash, 0.99),
            "ack_p50_ms": 1000 * percentile(lat_ack, 0.5), "ack_p99_ms": 1000 * percentile(lat_ack, 0.99)}


def measure_posecast(args, database_url: str | None = None) -> dict:
    work = Path(tempfile.mkdtemp(prefix="posecast-bench-"))
    env = {"POSECAST_RATE_EVENTS_PER_S": "1000", **({"DATABASE_URL": database_url} if database_url else {})}
    server = LiveServer(work, env=env).start()
    try:
        cookie = server.cookie()
        written = lambda: server.api("GET", "/api/stats").json()["written"]  # noqa: E731
        result = asyncio.run(run_load(server.url, cookie, args.clients, args.rate, args.seconds, args.warmup, written))
        result["persisted_total"] = written()
        result["rss_mb"], result["peak_rss_mb"] = rss_mb(server.proc.pid)
    finally:
        server.stop()
    return result


def measure_echo(args) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.echo_server", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/api/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        result = asyncio.run(run_load(url, None, args.clients, args.rate, args.seconds, args.warmup))
        result["rss_mb"], result["peak_rss_mb"] = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=30, help="labels per second per client")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--postgres", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure posecast on a throwaway PostgreSQL server (default: when installed)")
    args = parser.parse_args()
    offered = args.clients * args.rate
    print(f"{args.clients} clients x {args.rate:g} labels/s = {offered:,.0f} labels/s offered, "
          f"batches every {BATCH_EVERY_S * 1000:.0f} ms, {args.seconds:g} s measured", flush=True)
    echo = measure_echo(args)
    ours = measure_posecast(args)
    rows = [("echo", echo), ("posecast", ours)]
    pg_result = None
    from tests.helpers.postgres import Postgres, binaries

    if args.postgres and binaries():
        pg = Postgres().start()
        try:
            pg_result = measure_posecast(args, pg.fresh_database("bench"))
        finally:
            pg.stop()
        rows.append(("posecast+pg", pg_result))
    print(f"{'server':<12}{'acked/s':>10}{'stored/s':>10}{'errors':>8}{'dash p50':>10}{'dash p99':>10}{'ack p50':>9}{'ack p99':>9}{'RSS MB':>8}")
    for name, r in rows:
        stored = "-" if r.get("persisted_per_s") is None else f"{r['persisted_per_s']:,.0f}"
        print(f"{name:<12}{r['acked_per_s']:>10,.0f}{stored:>10}{r['errors']:>8}{r['dash_p50_ms']:>10.0f}{r['dash_p99_ms']:>10.0f}"
              f"{r['ack_p50_ms']:>9.0f}{r['ack_p99_ms']:>9.0f}{r['peak_rss_mb']:>8.0f}")
    ratio = ours["acked_per_s"] / echo["acked_per_s"]
    print(f"posecast persisted {ours['persisted_total']:,} labels; acked/s vs echo {ratio:.2f}; "
          f"p99 to dashboard {ours['dash_p99_ms']:.0f} ms vs echo {echo['dash_p99_ms']:.0f} ms "
          f"(target: {offered:,.0f}/s sustained, p99 <= 250 ms: "
          f"{'met' if ours['persisted_per_s'] >= 0.98 * offered and ours['dash_p99_ms'] <= 250 else 'NOT met'})")
    out = ROOT / "bench" / "results" / "ingest.json"
    out.write_text(json.dumps({"args": vars(args), "offered_per_s": offered, "echo": echo, "posecast": ours,
                               "posecast_postgresql": pg_result,
                               "ratio_acked": ratio, "cpu_count": os.cpu_count()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
