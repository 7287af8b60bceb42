"""bench/ingest.py's own arithmetic: the CPU time of a server's whole process tree (from /proc),
and the search over offered rates."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from bench.ingest import next_offered
from bench.ingest_targets import tree_usage

CHILD = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass\ntime.sleep(30)"
PARENT = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {CHILD!r}])\ntime.sleep(30)"


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def test_a_server_counts_the_cpu_time_of_its_children():
    parent = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        deadline = time.monotonic() + 30
        while (usage := tree_usage([parent.pid]))["cpu_s"] < 0.2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert usage["processes"] == 2
        alone = tree_usage([parent.pid, 999_999_999])  # a pid that is gone counts nothing
        assert alone["cpu_s"] >= 0.2 and alone["peak_rss_mb"] > 1
    finally:
        for pid in children(parent.pid):
            os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait()


def test_the_search_doubles_halves_then_bisects():
    assert next_offered(6000, True, 6000, None) == 12000
    assert next_offered(6000, False, None, 6000) == 3000
    assert next_offered(12000, False, 6000, 12000) == (6000 * 12000) ** 0.5
