"""Ingestion benchmark: the ceiling of each server, the highest labels/s stored with the
dashboard's p99 <= 250 ms, at 200 and at 1,000 connections, found by a short search over offered
rates; and what it costs: server CPU microseconds per stored label, and the cores used by the
server and by the load generator.

Simulated live pages (python-socketio over websocket) run in several processes, each an asyncio
loop with its share of the connections (bench/ingest_load.py); every page sends a label batch every
250 ms and waits for its acknowledgement; one operator dashboard, in a process of its own, notes
when it sees each batch's last label. Servers (bench/ingest_targets.py): the bare Flask-SocketIO echo
server (bench/echo_server.py), one `posecast serve` process (SQLite; `--postgres` adds PostgreSQL)
and `posecast cluster --workers N` when this checkout has it (`--cluster N`, repeatable).

    .venv/bin/python -m bench.ingest            # the full run (~12 min); writes bench/results/ingest.json
    .venv/bin/python -m bench.ingest --quick    # smoke: 200 connections, one step each (< 1 min)
    .venv/bin/python -m bench.ingest --connections 1000 --servers posecast --steps 1 --start-rate 30

A step passes when every batch was acknowledged, the labels stored per second reach 95 % of those
offered and the dashboard's p99 is at most 250 ms. The search doubles the offered rate after a
pass and halves it after a failure until it has both, then bisects (geometrically) between them.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time

from bench import ingest_targets
from bench.ingest_load import BATCH_EVERY_S, dashboard_process, label_batch, pages_process  # noqa: F401 (bench.soak)
from tests.helpers.paths import ROOT

P99_LIMIT_MS = 250.0
STORED_SHARE = 0.95


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, MB (bench.soak)."""
    usage = ingest_targets.tree_usage([pid])
    return usage["rss_mb"], usage["peak_rss_mb"]


class Load:
    """The load processes and the dashboard process for one server and connection count."""

    def __init__(self, url: str, cookie: str | None, connections: int, procs: int, run: str):
        ctx = mp.get_context("spawn")
        self.connections = connections
        self.pipes, self.workers = [], []
        for p in range(min(procs, connections)):
            mine, theirs = ctx.Pipe()
            share = list(range(p, connections, procs))
            self.workers.append(ctx.Process(target=pages_process, args=(theirs, url, run, share, connections),
                                            daemon=True))
            self.pipes.append(mine)
        self.dash, theirs = ctx.Pipe()
        self.workers.append(ctx.Process(target=dashboard_process, args=(theirs, url, cookie), daemon=True))
        for w in self.workers:
            w.start()
        for pipe in [*self.pipes, self.dash]:
            if not pipe.poll(300):
                raise RuntimeError("a load process did not get its connections within 300 s")
            answer = pipe.recv()
            if answer[0] != "ready":
                raise RuntimeError(f"a load process failed: {answer[1]}")

    def step(self, target, offered: float, warmup: float, seconds: float) -> dict:
        """Offer `offered` labels/s over every connection; measure for `seconds` after `warmup`."""
        rate = offered / self.connections
        self.dash.send(("reset",))
        dash_cpu0, dash_t0 = self.dash.recv(), time.monotonic()
        start = time.monotonic() + 0.3
        window = (start + warmup, start + warmup + seconds)
        for pipe in self.pipes:
            pipe.send(("step", rate, start, window))
        time.sleep(max(0.0, window[0] - time.monotonic()))
        cpu0, t0 = ingest_targets.tree_usage(target.pids())["cpu_s"], time.monotonic()
        mark = target.count.mark() if target.count else None
        time.sleep(max(0.0, window[1] - time.monotonic()))
        stored = target.count.since(mark) if target.count else None
        usage, t1 = ingest_targets.tree_usage(target.pids()), time.monotonic()
        pages = [pipe.recv() for pipe in self.pipes]  # after every call of the step is answered
        time.sleep(0.3)  # the last updates reach the dashboard
        self.dash.send(("collect",))
        seen, dash_cpu1 = self.dash.recv()
        load_s = time.monotonic() - dash_t0
        return summarise(offered, rate, pages, seen, stored, usage, usage["cpu_s"] - cpu0, t1 - t0,
                         load_cpu_s=sum(p["cpu_s"] for p in pages) + dash_cpu1 - dash_cpu0, load_s=load_s)

    def close(self) -> None:
        for pipe in [*self.pipes, self.dash]:
            try:
                pipe.send(("stop",))
                pipe.poll(30) and pipe.recv()
            except (OSError, EOFError):
                pass
        for w in self.workers:
            w.join(10)
            if w.is_alive():
                w.kill()


def summarise(offered, rate, pages, seen, stored, usage, server_cpu_s, window_s, load_cpu_s, load_s) -> dict:
    emitted = {k: t for p in pages for k, t in p["emitted"].items()}
    dash = [seen[k] - t for k, t in emitted.items() if k in seen]
    acks = [a for p in pages for a in p["ack_s"]]
    acked = sum(p["acked"] for p in pages)
    errors = sum(p["errors"] for p in pages)
    stored_per_s = (stored if stored is not None else acked) / window_s
    r = {"offered_per_s": offered, "rate_per_connection": rate, "emitted_per_s": sum(p["offered"] for p in pages) / window_s,
         "acked_per_s": acked / window_s, "stored_per_s": stored_per_s, "errors": errors,
         "first_error": next((p["error"] for p in pages if p["error"]), None),
         "batches": len(emitted), "dash_samples": len(dash),
         "dash_p50_ms": 1000 * percentile(dash, 0.5), "dash_p99_ms": 1000 * percentile(dash, 0.99),
         "ack_p50_ms": 1000 * percentile(acks, 0.5), "ack_p99_ms": 1000 * percentile(acks, 0.99),
         "server_cores": server_cpu_s / window_s, "load_cores": load_cpu_s / load_s,
         "cpu_us_per_label": 1e6 * server_cpu_s / max(1.0, stored_per_s * window_s),
         "server_rss_mb": usage["rss_mb"], "server_peak_rss_mb": usage["peak_rss_mb"],
         "server_processes": usage["processes"], "load_avg": os.getloadavg()[0]}
    r["passed"] = (errors == 0 and len(dash) > 0 and r["dash_p99_ms"] <= P99_LIMIT_MS
                   and stored_per_s >= STORED_SHARE * offered)
    return r


def next_offered(offered: float, passed: bool, lo: float | None, hi: float | None) -> float:
    """Double after a pass, halve after a failure; once both are known, bisect between them."""
    if lo is not None and hi is not None:
        return math.sqrt(lo * hi)
    return offered * 2 if passed else offered / 2


def ceiling(target, connections: int, args, run: str) -> dict:
    """Search the offered rate for `target` at `connections`; every step is printed as it ends."""
    load = Load(target.url, target.cookie(), connections, args.procs, run)
    steps, lo, hi, offered = [], None, None, args.start_rate * connections
    try:
        for _ in range(args.steps):
            r = load.step(target, offered, args.warmup, args.seconds)
            steps.append(r)
            print_step(target.name, connections, r)
            lo, hi = (max(lo or 0, offered), hi) if r["passed"] else (lo, min(hi or math.inf, offered))
            if lo is not None and hi is not None and hi / lo < 1 + args.resolution:
                break
            offered = next_offered(offered, r["passed"], lo, hi)
    finally:
        load.close()
    passing = [s for s in steps if s["passed"]]
    best = max(passing, key=lambda s: s["stored_per_s"]) if passing else None
    return {"server": target.name, "connections": connections, "ceiling_per_s": best and best["stored_per_s"],
            "at": best or min(steps, key=lambda s: s["offered_per_s"]), "steps": steps}


def print_step(name: str, connections: int, r: dict) -> None:
    print(f"  {name:<13}{connections:>6} conn  offered {r['offered_per_s']:>8,.0f}/s  stored {r['stored_per_s']:>8,.0f}/s"
          f"  dash p50/p99 {r['dash_p50_ms']:>5.0f}/{r['dash_p99_ms']:>5.0f} ms  ack p99 {r['ack_p99_ms']:>5.0f} ms"
          f"  {r['cpu_us_per_label']:>5.0f} us/label  cores server {r['server_cores']:.2f} load {r['load_cores']:.2f}"
          f"  errors {r['errors']}{' (' + r['first_error'] + ')' if r['first_error'] else ''}"
          f"  load avg {r['load_avg']:.1f}  {'pass' if r['passed'] else 'FAIL'}", flush=True)


def table(cells: list[dict]) -> str:
    """The figures as a Markdown table for the README."""
    lines = ["| server | connections | ceiling stored/s | its offered/s | dash p50 / p99 | ack p99 | CPU µs per label "
             "| cores: server / load generator | server peak RSS | load avg |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in cells:
        a = c["at"]
        ceil = f"{c['ceiling_per_s']:,.0f}" if c["ceiling_per_s"] else f"none: {a['offered_per_s']:,.0f} failed"
        lines.append(f"| {c['server']} | {c['connections']:,} | {ceil} | {a['offered_per_s']:,.0f} "
                     f"| {a['dash_p50_ms']:.0f} / {a['dash_p99_ms']:.0f} ms | {a['ack_p99_ms']:.0f} ms "
                     f"| {a['cpu_us_per_label']:.0f} | {a['server_cores']:.2f} / {a['load_cores']:.2f} "
                     f"| {a['server_peak_rss_mb']:.0f} MB | {a['load_avg']:.1f} |")
    return "\n".join(lines)


def ratios(cells: list[dict]) -> list[str]:
    by = {(c["server"], c["connections"]): c["ceiling_per_s"] for c in cells}
    out = []
    for (name, conns), value in by.items():
        base = {"posecast": "echo", "posecast+pg": "echo", "cluster x2": "cluster x1"}.get(name)
        if base and by.get((base, conns)) and value:
            out.append(f"{name} / {base} at {conns:,} connections: {value / by[(base, conns)]:.2f}x")
    return out


def targets(args) -> list:
    chosen = []
    for name in args.servers:
        if name == "echo":
            chosen.append(ingest_targets.Echo())
        elif name == "posecast":
            chosen.append(ingest_targets.Posecast())
    if args.postgres:
        chosen.append(ingest_targets.Posecast(postgres=True))
    clusters = args.cluster if args.cluster is not None else ([1, 2] if not args.quick else [])
    if clusters and not ingest_targets.cluster_available():
        print(f"cluster x{clusters}: skipped, this checkout has no `posecast cluster` yet", flush=True)
        clusters = []
    return chosen + [ingest_targets.Cluster(n) for n in clusters]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 connections, one 4 s step per server")
    parser.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="comma-separated connection counts (default 200,1000)")
    parser.add_argument("--servers", type=lambda s: s.split(","), default=["echo", "posecast"],
                        help="comma-separated: echo, posecast (default both)")
    parser.add_argument("--postgres", action="store_true", help="also one posecast process on PostgreSQL")
    parser.add_argument("--cluster", type=int, action="append", metavar="N",
                        help="also `posecast cluster --workers N` (repeatable; default 1 and 2 when available)")
    parser.add_argument("--start-rate", type=float, default=30, help="first step's labels/s per connection (30)")
    parser.add_argument("--steps", type=int, default=None, help="search steps per server and count (5)")
    parser.add_argument("--resolution", type=float, default=0.15, help="stop once fail/pass is within this")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per step (8)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before each step's window (2)")
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 2, help="load generator processes")
    args = parser.parse_args(argv)
    quick = args.quick
    args.connections = args.connections or ([200] if quick else [200, 1000])
    args.steps = args.steps or (1 if quick else 5)
    args.seconds = args.seconds or (4 if quick else 8)
    args.warmup = args.warmup or (1.5 if quick else 2)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    print(f"ingestion ceilings: {args.connections} connections, batches every {BATCH_EVERY_S * 1000:.0f} ms, "
          f"{args.warmup:g} + {args.seconds:g} s per step, up to {args.steps} steps, {args.procs} load processes, "
          f"{os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}", flush=True)
    cells = []
    for target in targets(args):
        target.start()
        try:
            for connections in args.connections:
                cells.append(ceiling(target, connections, args, run=f"{len(cells)}{int(time.time()) % 100000}"))
        finally:
            target.stop()
    print("\n" + table(cells))
    for line in ratios(cells):
        print(line)
    out = ROOT / "bench" / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "cpu_count": os.cpu_count(), "cells": cells,
                               "ratios": ratios(cells), "table": table(cells)}, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
