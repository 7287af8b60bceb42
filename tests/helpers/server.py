"""A real posecast server in a subprocess (`posecast serve`, eventlet by default) on a free port."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .auth import ADMIN, ADMIN_ENV
from .paths import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Browser, edge and cluster tests run pages and nodes on PoseNet and MoveNet, where the default
# yoga5 (world features: BlazePose's 3-D landmarks) rightly labels nothing: servers on the
# project's tfjs_models start on the last keypoints default, which runs on any backbone (a server
# given a models folder of its own keeps the newest yoga5 there). A test of the default itself
# passes env={"POSECAST_DEFAULT_MODEL": "yoga5"} (its newest version).
TEST_DEFAULT_MODEL = "yoga5/7"


class LiveServer:
    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "POSECAST_PORT": str(self.port),
            "POSECAST_HOST": "127.0.0.1",
            "POSECAST_INSTANCE_PATH": str(workdir / f"instance-{self.port}"),
            **({} if "POSECAST_MODELS_DIR" in (env or {}) else {"POSECAST_DEFAULT_MODEL": TEST_DEFAULT_MODEL}),
            **ADMIN_ENV,
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self._admin = None

    def session(self, username: str = ADMIN[0], password: str = ADMIN[1]):
        """A requests.Session logged in as `username`, sending its CSRF token on every request."""
        import requests

        s = requests.Session()
        token = s.get(f"{self.url}/api/me", timeout=10).json()["csrf_token"]
        r = s.post(f"{self.url}/api/login", json={"username": username, "password": password},
                   headers={"X-CSRF-Token": token}, timeout=10)
        r.raise_for_status()
        s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return s

    def api(self, method: str, path: str, **kwargs):
        """A request as the admin (logged in once per server): returns the requests.Response."""
        if self._admin is None:
            self._admin = self.session()
        return self._admin.request(method, f"{self.url}{path}", timeout=60, **kwargs)

    def cookie(self) -> str:
        """The admin session's Cookie header, for Socket.IO clients."""
        self.api("GET", "/api/me")
        return "; ".join(f"{k}={v}" for k, v in self._admin.cookies.items())

    def add_user(self, username: str, role: str, password: str | None = None) -> tuple[str, str]:
        password = password or f"{username}-password"
        r = self.api("POST", "/api/users", json={"username": username, "password": password, "role": role})
        assert r.status_code == 201, r.text
        return username, password

    def start(self, timeout: float = 30) -> "LiveServer":
        log = open(self.log_path, "ab")  # a restarted server appends
        self.proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT,
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
