"""Soak test: N simulated live pages (bench/ingest.py's clients) stream labels to a live posecast
server for T minutes; every interval it prints the server's RSS and the labels acknowledged per
second. After the warm-up, RSS may not grow by more than --max-growth (10 %): otherwise it says
so loudly and exits 1 (a leak). Not part of `make test`.

    .venv/bin/python -m bench.soak                          # 20 clients x 10 labels/s, 2 minutes
    .venv/bin/python -m bench.soak --clients 200 --rate 30 --minutes 5
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import socketio

from bench.ingest import BATCH_EVERY_S, label_batch, rss_mb
from tests.helpers.server import LiveServer


async def soak(url: str, args, pid: int) -> list[dict]:
    pages = []
    for i in range(args.clients):
        sio = socketio.AsyncClient()
        await sio.connect(url, namespaces=["/pose"], transports=["websocket"],
                          auth={"client_id": f"soak-{i:05d}", "name": f"soak {i}"}, wait_timeout=20)
        pages.append(sio)
    counts = {"acked": 0, "errors": 0}
    stop = asyncio.Event()

    async def page_loop(i: int, sio):
        seq, owed = 0, 0.0
        await asyncio.sleep(BATCH_EVERY_S * i / args.clients)
        next_at = time.monotonic()
        while not stop.is_set():
            owed += args.rate * BATCH_EVERY_S
            n, owed = int(owed), owed - int(owed)
            if n:
                try:
                    ack = await sio.call("labels", {"events": label_batch(seq, n)}, namespace="/pose", timeout=10)
                    if ack.get("ok"):
                        counts["acked"] += n
                        seq += n
                    else:
                        counts["errors"] += 1
                except Exception:
                    counts["errors"] += 1
            next_at += BATCH_EVERY_S
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    tasks = [asyncio.create_task(page_loop(i, s)) for i, s in enumerate(pages)]
    samples, start, last_acked, last_t = [], time.monotonic(), 0, time.monotonic()
    print(f"{'minute':>7}{'RSS MB':>9}{'acked/s':>10}{'errors':>8}", flush=True)
    while time.monotonic() - start < args.minutes * 60:
        await asyncio.sleep(args.interval)
        now = time.monotonic()
        sample = {"minute": (now - start) / 60, "rss_mb": rss_mb(pid)[0],
                  "acked_per_s": (counts["acked"] - last_acked) / (now - last_t), "errors": counts["errors"]}
        last_acked, last_t = counts["acked"], now
        samples.append(sample)
        print(f"{sample['minute']:>7.1f}{sample['rss_mb']:>9.1f}{sample['acked_per_s']:>10,.0f}{sample['errors']:>8}",
              flush=True)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for s in pages:
        await s.disconnect()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10, help="labels per second per client")
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--warmup", type=float, default=0.5, help="minutes before RSS is taken as the baseline")
    parser.add_argument("--interval", type=float, default=10, help="seconds between reports")
    parser.add_argument("--max-growth", type=float, default=0.10, help="allowed RSS growth after the warm-up")
    args = parser.parse_args()
    print(f"soak: {args.clients} clients x {args.rate:g} labels/s for {args.minutes:g} min "
          f"(warm-up {args.warmup:g} min, RSS growth allowed {args.max_growth:.0%})", flush=True)
    server = LiveServer(Path(tempfile.mkdtemp(prefix="posecast-soak-")),
                        env={"POSECAST_RATE_EVENTS_PER_S": "1000"}).start()
    try:
        samples = asyncio.run(soak(server.url, args, server.proc.pid))
        written = server.api("GET", "/api/stats").json()["written"]
    finally:
        server.stop()
    after = [s for s in samples if s["minute"] >= args.warmup]
    if len(after) < 2:
        print("soak: too short to judge growth after the warm-up (raise --minutes)", file=sys.stderr)
        return 2
    base, final = after[0]["rss_mb"], after[-1]["rss_mb"]
    growth = (final - base) / base
    rate = sum(s["acked_per_s"] for s in after) / len(after)
    print(f"soak: {written:,} labels stored; {rate:,.0f} acked/s after the warm-up; "
          f"RSS {base:.1f} -> {final:.1f} MB ({growth:+.1%}); errors {samples[-1]['errors']}")
    if growth > args.max_growth:
        print(f"\n!!! SOAK FAILED: server RSS grew {growth:.1%} after the warm-up "
              f"(allowed {args.max_growth:.0%}): a leak? !!!\n", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
