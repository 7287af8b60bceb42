"""An edge node in a subprocess (`posecast edge`) against a live server, and what it stored."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import ROOT
from tests.helpers.wait import wait_until  # noqa: F401 (the edge tests import it from here)


class EdgeNode:
    started: list["EdgeNode"] = []  # tests/edge/conftest.py kills what a failed test left running

    def __init__(self, server, source: Path, state_dir: Path, *args: str, name: str = "edge-test",
                 token: str | None = None, backbone: str | None = "movenet-lightning"):
        """backbone None: the node chooses (the active model's)."""
        self.cmd = [sys.executable, "-m", "server", "edge", "--source", str(source), "--server", server.url,
                    "--name", name, "--state-dir", str(state_dir), *(["--backbone", backbone] if backbone else []),
                    *args]
        self.env = {**os.environ, **({"POSECAST_DEVICE_TOKEN": token} if token else {})}
        self.env.pop("POSECAST_DEVICE_TOKEN", None) if token is None else None
        self.state_dir = state_dir
        self.log_path = state_dir.parent / f"{state_dir.name}.log"
        self.proc = None

    def start(self) -> "EdgeNode":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        EdgeNode.started.append(self)
        return self

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()  # never leave a node retrying after the test
            raise AssertionError(f"the edge node did not exit within {timeout} s:\n{self.log()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # kill -9: no drain, no commit at exit
        self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def outbox(self) -> tuple[str, int, int]:
        """(client_id, next_seq, events still waiting) from the node's SQLite file; ("", 0, 0) while
        a starting node has not made its tables yet (the file exists before they do)."""
        db = sqlite3.connect(self.state_dir / "outbox.sqlite")
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            waiting = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        except sqlite3.OperationalError:  # no such table, yet
            return "", 0, 0
        finally:
            db.close()
        return meta.get("client_id", ""), int(meta.get("next_seq", 0)), waiting


def stored(server, client_id: str) -> list[dict]:
    events, after = [], 0
    while True:
        page = server.api("GET", f"/api/labels?client_id={client_id}&limit=5000&after_id={after}").json()
        events += page["events"]
        if page["next_after_id"] is None:
            return events
        after = page["next_after_id"]


