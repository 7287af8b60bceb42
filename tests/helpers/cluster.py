"""`posecast cluster` in a subprocess for tests: nginx on `url` in front of N workers (each also
reachable at `worker_urls[i]`), joined by the test's Redis, on the test's PostgreSQL database,
so that a test can restart or pause those two. Workers beat every second (dead after 3 s)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from server.cluster.supervisor import healthy  # noqa: F401 (tests import it from here too)

from .paths import ROOT
from .server import LiveServer, free_port


def free_ports(n: int) -> int:
    """The first of n consecutive free loopback ports."""
    for _ in range(50):
        base = free_port()
        try:
            for port in range(base, base + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no {n} consecutive free ports")


class ClusterServer(LiveServer):
    def __init__(self, workdir: Path, redis_url: str, database_url: str, workers: int = 2,
                 env: dict[str, str] | None = None):
        super().__init__(workdir, {"POSECAST_MESSAGE_QUEUE": redis_url, "DATABASE_URL": database_url,
                                   "POSECAST_HEARTBEAT_S": "1", "POSECAST_INFER_WORKERS": "1", **(env or {})})
        self.database_url = database_url
        self.first_worker_port = free_ports(workers)
        self.worker_urls = [f"http://127.0.0.1:{self.first_worker_port + i}" for i in range(workers)]
        self.log_path = workdir / "cluster.log"
        self._engine = None

    def start(self, timeout: float = 180) -> "ClusterServer":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "cluster", "--workers", str(len(self.worker_urls)),
             "--worker-port", str(self.first_worker_port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not all(healthy(u) for u in [self.url, *self.worker_urls]):
            if self.proc.poll() is not None:
                raise RuntimeError(f"posecast cluster exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the cluster did not answer within {timeout}s:\n{self.log()[-4000:]}")
            time.sleep(0.3)
        return self

    def engine(self):
        """SQLAlchemy on the cluster's database, to check what is stored."""
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self.database_url, pool_pre_ping=True)
        return self._engine

    def query(self, sql: str, **params) -> list:
        from sqlalchemy import text

        with self.engine().connect() as conn:
            return conn.execute(text(sql), params).all()

    def worker_pid(self, url: str) -> int:
        """The pid of the `posecast serve` worker for `url` (its POSECAST_PORT, from /proc)."""
        port = url.rsplit(":", 1)[1]
        for proc in Path("/proc").iterdir():
            try:
                if (proc.name.isdigit() and b"server\0serve" in (proc / "cmdline").read_bytes()
                        and f"\0POSECAST_PORT={port}\0".encode() in b"\0" + (proc / "environ").read_bytes()):
                    return int(proc.name)
            except OSError:
                continue
        raise RuntimeError(f"no worker for {url}")

    def kill_worker(self, url: str) -> int:
        pid = self.worker_pid(url)
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_healthy(self, url: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not healthy(url):
            assert time.monotonic() < deadline, f"{url} not healthy after {timeout}s:\n{self.log()[-3000:]}"
            time.sleep(0.2)

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        super().stop()
