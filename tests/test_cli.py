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


def posecast_users(tmp_path, *args, password=None):
    return subprocess.run([sys.executable, "-m", "server", "users", *args], cwd=ROOT, capture_output=True, text=True,
                          input=password, env={"PATH": "/usr/bin:/bin", "POSECAST_INSTANCE_PATH": str(tmp_path)},
                          timeout=60)


def test_users_command_adds_lists_changes_and_removes(tmp_path):
    added = posecast_users(tmp_path, "add", "alice", "--role", "operator", "--password-stdin", password="alice-secret\n")
    assert added.returncode == 0, added.stderr
    # The first run made an admin with a random password (no POSECAST_ADMIN_PASSWORD here).
    assert posecast_users(tmp_path, "list").stdout == "admin\tadmin\nalice\toperator\n"
    assert (tmp_path / "initial-admin-password").exists()
    server = LiveServer(tmp_path, env={"POSECAST_INSTANCE_PATH": str(tmp_path)}).start()
    try:
        assert server.session("alice", "alice-secret").get(f"{server.url}/api/labels").status_code == 200
        changed = posecast_users(tmp_path, "passwd", "alice", "--password-stdin", password="another-secret\n")
        assert changed.returncode == 0
        assert server.session("alice", "another-secret").get(f"{server.url}/api/labels").status_code == 200
    finally:
        server.stop()
    assert posecast_users(tmp_path, "remove", "alice").returncode == 0
    assert posecast_users(tmp_path, "list").stdout == "admin\tadmin\n"


def test_users_command_refuses_bad_input(tmp_path):
    for args, password, message in [
        (("add", "bob", "--role", "operator", "--password-stdin"), "short\n", "at least 8"),
        (("add", "b b", "--role", "operator", "--password-stdin"), "long-enough\n", "username"),
        (("passwd", "nobody", "--password-stdin"), "long-enough\n", "no user"),
        (("remove", "nobody"), None, "no user"),
    ]:
        result = posecast_users(tmp_path, *args, password=password)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    assert posecast_users(tmp_path, "add", "bob", "--role", "root").returncode == 2  # argparse choices


def test_a_bad_first_admin_stops_the_server_with_a_message(tmp_path):
    result = subprocess.run([sys.executable, "-m", "server", "serve"], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "POSECAST_ADMIN_PASSWORD": "short",
                                 "POSECAST_INSTANCE_PATH": str(tmp_path)}, timeout=60)
    assert result.returncode == 2 and "POSECAST_ADMIN_PASSWORD" in result.stderr and "Traceback" not in result.stderr
