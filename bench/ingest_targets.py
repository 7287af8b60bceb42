"""The servers bench/ingest.py measures, each behind one small interface: start, url, a login
cookie for the dashboard, how many labels are stored (read from the database itself, so it is
the same count for one process and for a cluster), the processes whose CPU time counts as the
server's, stop.

- echo: bench/echo_server.py, a bare Flask-SocketIO server (acknowledges, forwards, stores nothing)
- posecast: one `posecast serve` process (eventlet) on SQLite, or on a throwaway PostgreSQL
- cluster N: `posecast cluster --workers N` (nginx, N workers, Redis, PostgreSQL)
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.helpers.paths import ROOT
from tests.helpers.server import LiveServer, free_port

# The bench offers far more than a page would: the per-client rate limit must not be what it measures.
UNLIMITED = {"POSECAST_RATE_EVENTS_PER_S": "100000", "POSECAST_RATE_BURST": "100000"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _procs() -> dict[int, tuple[int, float, int, int]]:
    """pid -> (parent pid, CPU seconds, RSS kB, peak RSS kB) of every process now."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            status = (d / "status").read_text()
        except OSError:  # gone meanwhile
            continue
        f = stat[stat.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
        mem = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        kb = lambda key: int(mem[key].split()[0]) if key in mem else 0  # noqa: E731 (kernel threads have none)
        out[int(d.name)] = (int(f[1]), (int(f[11]) + int(f[12])) / CLK_TCK, kb("VmRSS"), kb("VmHWM"))
    return out


def tree_usage(roots: list[int]) -> dict:
    """CPU seconds and memory of `roots` and all their descendants (from /proc, no psutil)."""
    procs = _procs()
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in procs.items():
        children.setdefault(ppid, []).append(pid)
    seen, todo = set(), [r for r in roots if r in procs]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo += children.get(pid, [])
    return {"cpu_s": sum(procs[p][1] for p in seen), "rss_mb": sum(procs[p][2] for p in seen) / 1024,
            "peak_rss_mb": sum(procs[p][3] for p in seen) / 1024, "processes": len(seen)}


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


class LabelCount:
    """Labels stored in a posecast database, counted by id past a mark (cheap on a big table)."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        self.engine = create_engine(url)

    def mark(self) -> int:
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM label_events").scalar()

    def since(self, mark: int) -> int:
        with self.engine.connect() as conn:
            return conn.exec_driver_sql(f"SELECT count(*) FROM label_events WHERE id > {int(mark)}").scalar()

    def close(self) -> None:
        self.engine.dispose()


class Echo:
    name = "echo"
    count = None  # stores nothing: its acknowledged labels stand in for stored ones

    def start(self) -> "Echo":
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.echo_server", str(port)], cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_healthy(self.url, self.proc)
        return self

    def cookie(self) -> str | None:
        return None

    def pids(self) -> list[int]:
        return [self.proc.pid]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Posecast:
    """One `posecast serve` process; `postgres` puts its label log on a throwaway PostgreSQL server."""

    def __init__(self, postgres: bool = False):
        self.postgres = postgres
        self.name = "posecast+pg" if postgres else "posecast"
        self.pg = None

    def database(self, work: Path) -> str:
        if not self.postgres:
            return f"sqlite:///{work / 'labels.db'}"
        from tests.helpers.postgres import Postgres

        self.pg = Postgres().start()
        return self.pg.fresh_database("bench")

    def server(self, work: Path, env: dict) -> LiveServer:
        return LiveServer(work, env=env)

    def start(self) -> "Posecast":
        work = Path(tempfile.mkdtemp(prefix="posecast-bench-"))
        url = self.database(work)
        self.live = self.server(work, {**UNLIMITED, "DATABASE_URL": url}).start()
        self.url = self.live.url
        self.count = LabelCount(url)
        return self

    def cookie(self) -> str:
        return self.live.cookie()

    def pids(self) -> list[int]:
        return [self.live.proc.pid] + ([_postmaster(self.pg)] if self.pg else [])

    def stop(self) -> None:
        self.count.close()
        self.live.stop()
        if self.pg:
            self.pg.stop()


def _postmaster(pg) -> int:
    return int(Path(pg.data, "postmaster.pid").read_text().split()[0])


def cluster_available() -> bool:
    """Whether this checkout has `posecast cluster` and its test helper (the cluster branch adds both)."""
    import importlib.util

    from server.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return "cluster" in sub.choices and importlib.util.find_spec("tests.helpers.cluster") is not None


class Cluster(Posecast):
    """`posecast cluster --workers N` on a throwaway PostgreSQL and Redis of the bench's own."""

    def __init__(self, workers: int):
        super().__init__(postgres=True)
        self.workers = workers
        self.name = f"cluster x{workers}"

    def server(self, work: Path, env: dict) -> LiveServer:
        from tests.helpers.cluster import ClusterServer  # the cluster branch's; with `posecast cluster`
        from tests.helpers.redis import Redis

        self.redis = Redis().start()
        database = env.pop("DATABASE_URL")
        return ClusterServer(work, self.redis.url, database, workers=self.workers, env=env)

    def pids(self) -> list[int]:
        return super().pids() + [self.redis.proc.pid]

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self.redis.stop()
