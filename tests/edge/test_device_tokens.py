"""Device tokens: `posecast devices add` shows one once and keeps its hash; an edge node with it
is listed on dashboards as an edge client with its fps; a revoked or unknown token is refused
with a clear message and a non-zero exit, and nothing it classified is stored."""
import hashlib
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.edge.node import EdgeNode, stored, wait_until
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


def test_a_token_revoked_while_the_node_runs_stops_it_within_two_heartbeats(tmp_path, edge_ready, video):
    """The node plays its video in a loop (it would never stop by itself); revoking its token makes
    the server tell it at the next heartbeat (1 s here): it exits 3 saying why; what it labelled
    after that was refused, not stored, and stays in its outbox."""
    server = LiveServer(tmp_path, env={"POSECAST_HEARTBEAT_S": "1"}).start()
    try:
        token = devices(server, "add", "cam-2").stdout.strip()
        node = EdgeNode(server, video, tmp_path / "state", "--loop", token=token).start()
        wait_until(lambda: (tmp_path / "state" / "outbox.sqlite").exists() and node.outbox()[0]
                   and stored(server, node.outbox()[0]), timeout=120,
                   what=f"events stored from the running node:\n{node.log()}")
        assert devices(server, "revoke", "cam-2").returncode == 0
        assert node.wait(timeout=30) == 3, node.log()
        assert "revoked" in node.log() and "posecast devices add cam-2" in node.log()
        client_id, next_seq, waiting = node.outbox()
        assert len(stored(server, client_id)) + waiting == next_seq  # nothing lost: stored or waiting
    finally:
        server.stop()


def test_a_client_that_ignores_refused_gets_its_batches_refused_then_is_cut_off(tmp_path):
    """Not every client is our edge node: after `refused` its batches are refused (retry: true, so
    it loses nothing) and at the next heartbeat its connection is closed."""
    import socketio

    server = LiveServer(tmp_path, env={"POSECAST_HEARTBEAT_S": "1"}).start()
    sio = socketio.Client(reconnection=False)
    try:
        token = devices(server, "add", "cam-3").stdout.strip()
        told, gone = [], []
        sio.on("refused", lambda payload: told.append(payload), namespace="/pose")
        sio.on("disconnect", lambda *_: gone.append(1), namespace="/pose")
        sio.connect(server.url, namespaces=["/pose"], transports=["websocket"],
                    auth={"client_id": "edge-ignores", "token": token})
        event = {"seq": 0, "ts": int(time.time() * 1000), "label": "tree", "confidence": 0.9}
        first = sio.call("labels", {"events": [event]}, namespace="/pose")
        assert first["ok"] is True, first
        assert devices(server, "revoke", "cam-3").returncode == 0
        wait_until(lambda: told, timeout=10, what="refused")
        assert "cam-3" in told[0]["message"] and "revoked" in told[0]["message"]
        ack = sio.call("labels", {"events": [{**event, "seq": 1}]}, namespace="/pose") if not gone else None
        assert ack is None or (ack["ok"] is False and ack["retry"] is True and "revoked" in ack["error"])
        wait_until(lambda: gone, timeout=10, what="the connection closed by the server")
        assert [e["seq"] for e in stored(server, "edge-ignores")] == [0]
    finally:
        sio.disconnect()
        server.stop()


def test_connect_auth_checks_the_token_field():
    from core.checks import Invalid
    from server.stream.pose_checks import validate_client

    assert validate_client({"client_id": "edge-0001", "token": "pcd_" + "a" * 43})["token"].startswith("pcd_")
    assert validate_client({"client_id": "edge-0001"})["token"] is None
    for bad in (12345, "short", "x" * 129, "has space in it!!", ["pcd_" + "a" * 43]):
        with pytest.raises(Invalid, match="token"):
            validate_client({"client_id": "edge-0001", "token": bad})
