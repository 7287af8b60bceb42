"""One app per fuzz module (Hypothesis runs many examples per test), its jobs never spawned, and a
log watcher that fails the test on any traceback or error the server logged."""
from __future__ import annotations

import logging
import subprocess

import pytest

from server import create_app, jobs
from tests.helpers.auth import ADMIN, ADMIN_CONFIG, login

DELIBERATE = {"posecast.client"}  # the pages' own error reports, logged at their level on purpose


class Watcher(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record):
        if record.name in DELIBERATE:
            return
        if record.exc_info or record.levelno >= logging.ERROR or "Traceback" in record.getMessage():
            self.bad.append(f"{record.name} {record.levelname}: {record.getMessage()[:300]}")


@pytest.fixture
def log_watch():
    watcher = Watcher()
    root = logging.getLogger()
    root.addHandler(watcher)
    yield watcher
    root.removeHandler(watcher)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    real_spawn = jobs.spawn
    jobs.spawn = lambda *a: subprocess.Popen(["true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = tmp_path_factory.mktemp("fuzz")
    app = create_app({"INSTANCE_PATH": str(base / "instance"), "MODELS_DIR": str(base / "models"),
                      "ASYNC_MODE": "threading", "TESTING": False, **ADMIN_CONFIG})
    yield app
    jobs.spawn = real_spawn


@pytest.fixture(scope="module")
def admin(fuzz_app):
    client = login(fuzz_app.test_client(), *ADMIN)
    assert client.post("/api/datasets", json={"name": "fuzz"}).status_code == 201
    return client
