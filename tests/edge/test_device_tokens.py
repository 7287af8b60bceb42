"""Device tokens: `posecast devices add` shows one once and keeps its hash; an edge node with it
is listed on dashboards as an edge client with its fps; a revoked or unknown token is refused
with a clear message and a non-zero exit, and nothing it classified is stored."""
import hashlib
import sqlite3
import subprocess
import sys

import pytest

from tests.edge.node import EdgeNode, stored
from tests.helpers.paths import ROOT
from tests.helpers.server import LiveServer
from tests.helpers.stream import DashboardClient


def devices(server, *args):
    r = subprocess.run([sys.executable, "-m", "server", "devices", *args], cwd=ROOT, env=server.env,
                       capture_output=True, text=True, timeout=120)
    return r


@pytest.fixture
def server(tmp_path, edge_ready):
    server = LiveServer(tmp_path).start()
    yield server
    server.stop()


def test_token_lets_an_edge_node_in_and_revoking_it_shuts_it_out(server, video, tmp_path):
    r = devices(server, "add", "cam-1")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("pcd_") and "shown once" in r.stderr
    db = sqlite3.connect(f"{server.env['POSECAST_INSTANCE_PATH']}/posecast.db")
    assert db.execute("SELECT token_sha256 FROM devices").fetchall() == [(hashlib.sha256(token.encode()).hexdigest(),)]
    assert devices(server, "add", "cam-1").returncode == 2  # one valid token per device

    dashboard = DashboardClient(server.url, server.cookie())
    node = EdgeNode(server, video, tmp_path / "state", "--max-frames", "20", token=token).start()
    assert node.wait() == 0, node.log()
    client_id = node.outbox()[0]
    state = dashboard.latest(client_id)
    assert state and state["kind"] == "edge" and state["name"] == "edge-test" and state["fps"] is not None
    dashboard.close()
    count = len(stored(server, client_id))
    assert count > 0

    assert devices(server, "revoke", "cam-1").returncode == 0
    assert "revoked" in devices(server, "list").stdout
    refused = EdgeNode(server, video, tmp_path / "state", "--max-frames", "20", token=token).start()
    assert refused.wait() == 3, refused.log()
    assert "revoked" in refused.log() and "posecast devices add cam-1" in refused.log()
    assert len(stored(server, client_id)) == count

    unknown = EdgeNode(server, video, tmp_path / "other", "--max-frames", "5", token="pcd_" + "x" * 43).start()
    assert unknown.wait() == 3 and "unknown device token" in unknown.log()


def test_connect_auth_checks_the_token_field():
    from core.checks import Invalid
    from server.stream.pose_checks import validate_client

    assert validate_client({"client_id": "edge-0001", "token": "pcd_" + "a" * 43})["token"].startswith("pcd_")
    assert validate_client({"client_id": "edge-0001"})["token"] is None
    for bad in (12345, "short", "x" * 129, "has space in it!!", ["pcd_" + "a" * 43]):
        with pytest.raises(Invalid, match="token"):
            validate_client({"client_id": "edge-0001", "token": bad})
