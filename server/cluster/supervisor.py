"""`posecast cluster`: a whole cluster on one machine, for a trial or a test.

It starts redis-server (unless POSECAST_MESSAGE_QUEUE names one), PostgreSQL (unless DATABASE_URL
names a database), N `posecast serve` workers on ports of their own joined by the message queue,
and nginx in front on POSECAST_HOST:POSECAST_PORT; everything it writes goes under
<instance>/cluster/. A worker that dies is started again; Ctrl-C or SIGTERM stops them all.
The first worker starts alone: it makes the tables, the first admin and the model registry, so the
others never race to create them.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .services import Nginx, Postgres, Redis, ServiceError, tail

log = logging.getLogger("posecast.cluster")

RESTART_BACKOFF_S = (0.5, 30.0)  # a worker that keeps dying waits longer each time, up to the cap
STEADY_S = 30.0  # a worker that ran this long starts over from the shortest wait


@dataclass
class Worker:
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    wait: float = RESTART_BACKOFF_S[0]
    due: float = field(default=0.0)  # when a dead worker is started again

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def _die_with_parent() -> None:
    """Children get SIGTERM when the supervisor dies, even by kill -9 (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Cluster:
    def __init__(self, workers: int, host: str, port: int, worker_port: int, instance: Path,
                 environ: dict[str, str] | None = None):
        if workers < 1:
            raise ValueError("--workers must be 1 or more")
        self.environ = dict(os.environ if environ is None else environ)
        self.host, self.port = host, port
        self.instance = Path(instance).resolve()
        self.state = self.instance / "cluster"
        self.workers = [Worker(worker_port + i, self.state / f"worker-{worker_port + i}.log") for i in range(workers)]
        self.redis: Redis | None = None
        self.postgres: Postgres | None = None
        self.nginx: Nginx | None = None
        self.stopping = threading.Event()

    # -- start ---------------------------------------------------------------------------------
    def start(self) -> None:
        for host, port in [(self.host, self.port), *(("127.0.0.1", w.port) for w in self.workers)]:
            _check_free(host, port)  # before starting anything
        self.state.mkdir(parents=True, exist_ok=True)
        queue = self.environ.get("POSECAST_MESSAGE_QUEUE")
        if not queue:
            self.redis = Redis(self.state / "redis").start()
            queue = self.redis.url
        database = self.environ.get("DATABASE_URL")
        if not database:
            self.postgres = Postgres(self.state / "postgres").start()
            database = self.postgres.url
        cores = os.cpu_count() or 1
        self.worker_env = {
            **self.environ,
            "POSECAST_MESSAGE_QUEUE": queue,
            "DATABASE_URL": database,
            "POSECAST_INSTANCE_PATH": str(self.instance),  # one secret key and job folder for all
            "POSECAST_HOST": "127.0.0.1",
            "POSECAST_TRUSTED_PROXIES": self.environ.get("POSECAST_TRUSTED_PROXIES", "1"),  # nginx
            # Inference processes: the cores shared among the workers, not one per core each.
            "POSECAST_INFER_WORKERS": self.environ.get("POSECAST_INFER_WORKERS", str(max(1, cores // len(self.workers)))),
        }
        first, *rest = self.workers
        self._spawn(first)
        self._wait_ready([first])
        for worker in rest:
            self._spawn(worker)
        self._wait_ready(rest)
        self.nginx = Nginx(self.state / "nginx", f"{self.host}:{self.port}", [w.address for w in self.workers]).start()

    def _spawn(self, worker: Worker) -> None:
        env = {**self.worker_env, "POSECAST_PORT": str(worker.port)}
        with open(worker.log_path, "ab") as out:
            worker.proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env, stdout=out,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True, preexec_fn=_die_with_parent)
        worker.started = time.monotonic()

    def _wait_ready(self, workers: list[Worker], timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        for worker in workers:
            while not healthy(f"http://{worker.address}"):
                if worker.proc.poll() is not None:
                    raise ServiceError(f"worker on port {worker.port} exited with {worker.proc.returncode}: "
                                       f"see {worker.log_path}\n{tail(worker.log_path, 3000)}")
                if time.monotonic() > deadline or self.stopping.is_set():
                    raise ServiceError(f"worker on port {worker.port} did not answer in {timeout:.0f} s "
                                       f"(see {worker.log_path})")
                time.sleep(0.2)

    # -- supervise -----------------------------------------------------------------------------
    def supervise(self, poll_s: float = 0.5) -> None:
        """Until stop(): restart workers that die (and our own redis-server); nginx dying ends it."""
        while not self.stopping.wait(poll_s):
            now = time.monotonic()
            for worker in self.workers:
                if worker.proc.poll() is None:
                    if now - worker.started > STEADY_S:
                        worker.wait = RESTART_BACKOFF_S[0]
                    continue
                if not worker.due:
                    worker.due = now + worker.wait
                    log.warning("worker on port %d exited with %s; starting it again in %.1f s",
                                worker.port, worker.proc.returncode, worker.wait)
                    worker.wait = min(worker.wait * 2, RESTART_BACKOFF_S[1])
                elif now >= worker.due:
                    worker.due = 0.0
                    worker.restarts += 1
                    self._spawn(worker)
            if self.redis and not self.redis.alive():
                log.warning("redis-server exited; starting it again on port %d", self.redis.port)
                try:
                    self.redis.start()
                except ServiceError as exc:
                    log.error("%s", exc)
            if self.nginx and not self.nginx.alive():
                raise ServiceError(f"nginx exited: {self.nginx.log()}")

    def stop(self) -> None:
        """nginx first (no new requests), then the workers, then Redis and PostgreSQL."""
        self.stopping.set()
        if self.nginx:
            self.nginx.stop()
        for worker in self.workers:
            if worker.proc and worker.proc.poll() is None:
                worker.proc.terminate()
        for worker in self.workers:
            if worker.proc:
                try:
                    worker.proc.wait(10)
                except subprocess.TimeoutExpired:
                    worker.proc.kill()
                    worker.proc.wait()
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()


def _check_free(host: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no obstacle
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ServiceError(f"cannot listen on {host}:{port} ({exc.strerror}): choose other ports "
                               "(--port, --worker-port)") from None


def run(workers: int, host: str, port: int, worker_port: int, instance: Path) -> int:
    """The command: start, print where things are, supervise until Ctrl-C or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cluster = Cluster(workers, host, port, worker_port, instance)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: cluster.stopping.set())
    try:
        cluster.start()
        log.info("posecast cluster serving http://%s:%d/ : nginx in front of %d worker(s) on ports %s; "
                 "Redis %s; database %s; state and logs in %s", host, port, workers,
                 ", ".join(str(w.port) for w in cluster.workers), cluster.worker_env["POSECAST_MESSAGE_QUEUE"],
                 _without_password(cluster.worker_env["DATABASE_URL"]), cluster.state)
        cluster.supervise()
        return 0
    except ServiceError as exc:
        print(f"posecast cluster: {exc}", file=sys.stderr)
        return 1
    finally:
        cluster.stop()


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(DATABASE_URL)"


def healthy(url: str) -> bool:
    """A posecast server at `url` answers /api/health (the tests' readiness check too)."""
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False
