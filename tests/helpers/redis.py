"""A throwaway redis-server for tests: its own temporary folder, a free loopback port, no
persistence. Debian's redis-server package provides the binary (tools/system-deps.sh installs it).
`restart()` stops it and starts it again on the same port, for the cluster's fault tests."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

from .server import free_port


def binary() -> str | None:
    return shutil.which("redis-server") or (os.path.exists("/usr/bin/redis-server") and "/usr/bin/redis-server") or None


class Redis:
    def __init__(self, port: int | None = None):
        self.bin = binary()
        self.port = port or free_port()
        self.root = tempfile.mkdtemp(prefix="posecast-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> "Redis":
        if not self.bin:
            raise RuntimeError("redis-server is not installed (tools/system-deps.sh installs it)")
        self.proc = subprocess.Popen(
            [self.bin, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.root, "--save", "",
             "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning",
             "--logfile", os.path.join(self.root, "log")],
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
                raise RuntimeError(f"redis-server did not start on port {self.port}: {self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        try:
            with open(os.path.join(self.root, "log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def kill(self) -> None:
        """Stop at once (SIGKILL), keeping the port for a restart."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, down_seconds: float = 0.0) -> "Redis":
        self.kill()
        time.sleep(down_seconds)
        return self.start()

    def stop(self) -> None:
        try:
            self.kill()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
