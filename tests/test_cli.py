import json
import subprocess
import sys
import urllib.request

from tests.helpers.paths import ROOT
from tests.helpers.server import LiveServer


def test_serve_runs_eventlet_by_default(tmp_path):
    server = LiveServer(tmp_path).start()
    try:
        with urllib.request.urlopen(f"{server.url}/api/health") as r:
            assert json.load(r)["async_mode"] == "eventlet"
        with urllib.request.urlopen(f"{server.url}/") as r:
            assert r.headers["Content-Type"].startswith("text/html")
    finally:
        server.stop()
    assert "Traceback" not in server.log()


def test_serve_threading_mode(tmp_path):
    server = LiveServer(tmp_path, env={"POSECAST_ASYNC_MODE": "threading"}).start()
    try:
        with urllib.request.urlopen(f"{server.url}/api/health") as r:
            assert json.load(r)["async_mode"] == "threading"
    finally:
        server.stop()


def test_bad_configuration_exits_with_a_message(tmp_path):
    result = subprocess.run([sys.executable, "-m", "server", "serve"], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "POSECAST_PORT": "99999",
                                 "POSECAST_INSTANCE_PATH": str(tmp_path)}, timeout=60)
    assert result.returncode == 2
    assert "POSECAST_PORT" in result.stderr
