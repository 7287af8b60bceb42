"""Inference API benchmark: images/s and p50/p99 latency of POST /api/v1/infer at 1, 4 and 16
concurrent clients against a live server (its worker pool), and the same images through the pose
runtime called directly in this process (decode, estimate, classify: what one worker does), in
the same run; the ratio is the service's throughput over the direct one.

    .venv/bin/python -m bench.api [--backbone posenet] [--seconds 15] [--clients 1 4 16] [--workers N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.helpers.paths import ROOT, shared
from tests.helpers.server import LiveServer

IMAGES = ["images/tennis.jpg", "images/skiing.jpg", "images/frisbee.jpg", "images/pose.jpg"]


def direct(backbone: str, images: list[bytes], seconds: float) -> tuple[float, list[float]]:
    """(images/s, latencies in ms) of the runtime in this process, one image after another."""
    import runtime
    from poseio.classifier import Classifier
    from poseio.images import decode
    from poseio.infer import run

    est = runtime.load(backbone, executor="openvino")
    folder = ROOT / "tfjs_models" / "yoga5" / "2"
    import json

    meta = json.loads((folder / "posecast.json").read_text())
    clf = Classifier({"name": "yoga5", "version": 2, "dir": str(folder), "features": meta["features"],
                      "labels": meta["labels"], "threshold": (meta.get("rejection") or {}).get("threshold")})
    for data in images:  # warm-up
        run(est, decode(data, 40_000_000), 1, 0.0, clf)
    latencies, t0, i = [], time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        t = time.perf_counter()
        run(est, decode(images[i % len(images)], 40_000_000), 1, 0.0, clf)
        latencies.append((time.perf_counter() - t) * 1000)
        i += 1
    return len(latencies) / (time.perf_counter() - t0), latencies


def service(url: str, token: str, backbone: str, images: list[bytes], clients: int, seconds: float):
    """(images/s, latencies of the answered requests in ms, 503s) with `clients` clients in a loop."""
    latencies, refused, lock = [], [0], threading.Lock()
    stop = time.perf_counter() + seconds

    def client(k: int):
        s = requests.Session()
        s.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"})
        i = k
        while time.perf_counter() < stop:
            t = time.perf_counter()
            r = s.post(f"{url}/api/v1/infer", params={"backbone": backbone}, data=images[i % len(images)], timeout=300)
            with lock:
                if r.status_code == 200:
                    latencies.append((time.perf_counter() - t) * 1000)
                elif r.status_code == 503:
                    refused[0] += 1
                else:
                    raise SystemExit(f"unexpected {r.status_code}: {r.text}")
            if r.status_code == 503:
                time.sleep(float(r.headers.get("Retry-After", "1")))
            i += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - t0), latencies, refused[0]


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values[0] if values else float("nan"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="posenet")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 4, 16])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--queue", type=int, default=32)
    args = parser.parse_args(argv)
    images = [shared(n).read_bytes() for n in IMAGES]
    rate, lat = direct(args.backbone, images, args.seconds)
    print(f"{os.cpu_count()} CPUs, backbone {args.backbone} (OpenVINO f32) + yoga5 classifier, {len(images)} photos, "
          f"{args.seconds:g} s per row, {args.workers} worker(s), queue {args.queue}")
    print(f"{'':<22}{'images/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'503s':>6}{'ratio':>8}")
    print(f"{'direct (1 process)':<22}{rate:>10.1f}{pct(lat, 50):>9.0f}{pct(lat, 99):>9.0f}{'':>6}{1:>7.2f}x")
    env = {"POSECAST_INFER_WORKERS": str(args.workers), "POSECAST_INFER_QUEUE": str(args.queue),
           "POSECAST_API_RATE_PER_S": "100000", "POSECAST_API_RATE_BURST": "100000"}
    with tempfile.TemporaryDirectory() as work:
        server = LiveServer(Path(work), env=env).start(timeout=120)
        try:
            made = subprocess.run([sys.executable, "-m", "server", "tokens", "create", "bench"], cwd=ROOT,
                                  env=server.env, capture_output=True, text=True, check=True)
            token = made.stdout.strip()
            service(server.url, token, args.backbone, images, args.workers, 3)  # warm every worker
            for clients in args.clients:
                srate, slat, refused = service(server.url, token, args.backbone, images, clients, args.seconds)
                print(f"{f'API, {clients} client(s)':<22}{srate:>10.1f}{pct(slat, 50):>9.0f}{pct(slat, 99):>9.0f}"
                      f"{refused:>6}{srate / rate:>7.2f}x")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
