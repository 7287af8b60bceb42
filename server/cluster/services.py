"""The servers cluster mode runs beside the workers, for a trial or a test: redis-server,
PostgreSQL and nginx, each a child process with its files in its own folder (no system service,
nothing system-wide). Debian's packages provide the binaries (tools/system-deps.sh)."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


class ServiceError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _binary(name: str, *fallbacks: str) -> str | None:
    return shutil.which(name) or next((p for p in fallbacks if os.access(p, os.X_OK)), None)


def _stop(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tail(path: Path, size: int = 2000) -> str:
    """The end of a log file ('' when there is none)."""
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


def redis_binary() -> str | None:
    return _binary("redis-server", "/usr/bin/redis-server")


class Redis:
    """redis-server on a loopback port, no persistence (it carries only the message queue and
    live state, which the workers rebuild). `kill()` + `start()` is a restart on the same port."""

    def __init__(self, folder: Path, port: int | None = None):
        self.bin = redis_binary()
        self.folder = Path(folder)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> "Redis":
        if not self.bin:
            raise ServiceError("redis-server is not installed (tools/system-deps.sh installs it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.bin, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder), "--save", "",
             "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning",
             "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise ServiceError(f"redis-server did not start on port {self.port}: {self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return tail(self.folder / "redis.log")

    def alive(self) -> bool:
        return bool(self.proc and self.proc.poll() is None)

    def kill(self) -> None:
        """Stop at once (SIGKILL), keeping the port for a restart."""
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        _stop(self.proc)


def postgres_binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


class Postgres:
    """A PostgreSQL server in `folder` (initdb on first start), on a loopback port, trust auth for
    the user `posecast`. As root it runs as the `postgres` user (initdb refuses root).
    `fsync=False` is for tests only. `stop()` + `start()` keeps the data (a pause)."""

    def __init__(self, folder: Path, port: int | None = None, fsync: bool = True):
        self.bindir = postgres_binaries()
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.port = port or free_port()
        self.fsync = fsync
        self.url = f"postgresql+psycopg://posecast@127.0.0.1:{self.port}/postgres"
        self._as: list[str] = []

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise ServiceError(f"{os.path.basename(args[0])} failed: {result.stdout}{result.stderr}")

    def start(self) -> "Postgres":
        if not self.bindir:
            raise ServiceError("PostgreSQL is not installed (tools/system-deps.sh installs it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        if not (self.data / "PG_VERSION").exists():
            self._run(f"{self.bindir}/initdb", "-D", str(self.data), "-U", "posecast", "--auth=trust", "-E", "UTF8",
                      "--no-instructions", *([] if self.fsync else ["--no-sync"]))
        opts = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
                + ("" if self.fsync else " -c fsync=off"))
        self._run(f"{self.bindir}/pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.folder / "postgres.log"),
                  "-w", "-t", "60", "start")
        return self

    def fresh_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={self.port} user=posecast dbname=postgres",
                                     autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return f"postgresql+psycopg://posecast@127.0.0.1:{self.port}/{name}"

    def log(self) -> str:
        return tail(self.folder / "postgres.log")

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends the sessions and shuts down cleanly; `immediate` is a crash (recovered at start)."""
        if (self.data / "postmaster.pid").exists():
            self._run(f"{self.bindir}/pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def nginx_config(listen: str, workers: list[str], state: Path, user: str | None = None) -> str:
    """The shipped template (nginx.conf.template) filled in: nginx on `listen` in front of the
    workers (host:port), its pid, logs and temporary files under `state`."""
    text = NGINX_TEMPLATE.read_text()
    values = {"listen": listen, "state": str(state), "user": f"user {user};" if user else "",
              "servers": "\n        ".join(f"server {w} max_fails=1 fail_timeout=5s;" for w in workers)}
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def nginx_binary() -> str | None:
    return _binary("nginx", "/usr/sbin/nginx")


class Nginx:
    """nginx in the foreground with its configuration, logs and temporary files in `folder`."""

    def __init__(self, folder: Path, listen: str, workers: list[str]):
        self.bin = nginx_binary()
        self.folder = Path(folder)
        self.listen = listen
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> "Nginx":
        if not self.bin:
            raise ServiceError("nginx is not installed (tools/system-deps.sh installs it)")
        user = None
        for sub in ("", "temp"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # nginx's workers drop root: they must be able to write their temp files
            user = "nobody nogroup"
            pw = pwd.getpwnam("nobody")
            os.chown(self.folder / "temp", pw.pw_uid, pw.pw_gid)
        conf = self.folder / "nginx.conf"
        conf.write_text(nginx_config(self.listen, self.workers, self.folder, user))
        self.proc = subprocess.Popen([self.bin, "-p", str(self.folder), "-c", str(conf), "-e", str(self.folder / "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=open(self.folder / "error.log", "ab"))
        host, _, port = self.listen.rpartition(":")
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection((host or "127.0.0.1", int(port)), timeout=1).close()
                return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise ServiceError(f"nginx did not start on {self.listen}: {self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return tail(self.folder / "error.log")

    def alive(self) -> bool:
        return bool(self.proc and self.proc.poll() is None)

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGQUIT)  # graceful: open connections finish
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                _stop(self.proc)
