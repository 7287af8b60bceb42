"""Dashboard fan-out: coalesced updates, at most one in flight per dashboard, counts kept."""
import time

import pytest

from core.checks import Invalid
from server.stream import pose_checks, services
from server.sockets import socketio


def updates(sock):
    return [m["args"][0] for m in sock.get_received("/dashboard") if m["name"] == "update"]


def test_a_dashboard_that_does_not_acknowledge_gets_one_update_and_then_waits(app, client):
    app.config["DASHBOARD_TICK_MS"] = 20
    dash = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    (snapshot,) = [m["args"][0] for m in dash.get_received("/dashboard") if m["name"] == "snapshot"]
    assert snapshot["clients"] == []
    page = socketio.test_client(app, namespace="/pose", auth={"client_id": "client-f001", "name": "front"})
    now = int(time.time() * 1000)
    for i in range(5):
        batch = [{"seq": i * 10 + j, "ts": now + i * 10 + j, "label": "tree" if j % 2 else "chair",
                  "confidence": 0.8} for j in range(10)]
        assert page.emit("labels", {"events": batch}, namespace="/pose", callback=True)["ok"]
        time.sleep(0.06)
    time.sleep(0.2)
    got = updates(dash)
    # The test client never acknowledges, so the first update is the only one sent.
    assert len(got) == 1
    hub = services.of(app).hub
    (state,) = [d for d in hub.dashboards.values()]
    assert state["inflight"] is not None
    # Everything since then waits, coalesced: one dirty client and the counts of 40+ events.
    assert state["dirty"] == {"client-f001"} and sum(state["counts"].values()) + sum(got[0]["counts"].values()) == 50
    first = got[0]["clients"][0]
    assert (first["client_id"], first["name"], first["connected"]) == ("client-f001", "front", True)


def test_latest_label_wins_by_page_time(app):
    hub = services.of(app).hub
    rows = [{"client_id": "client-g001", "seq": s, "ts": ts, "received_at": 1, "label": label, "confidence": 0.5,
             "model": None, "model_version": None, "backbone": None, "person": 0, "fps": None}
            for s, ts, label in [(2, 2000, "late"), (1, 1000, "early")]]
    hub.observe(rows)  # a resend of an older event arrives after a newer one
    assert hub.clients["client-g001"]["label"] == "late" and hub.clients["client-g001"]["events"] == 2


def test_skeleton_validation():
    good = {"person": 1, "width": 640, "height": 480, "keypoints": [[1, 2, 0.5]] * 33}
    assert len(pose_checks.validate_skeleton(good)["keypoints"]) == 33
    for bad in [None, {**good, "extra": 1}, {**good, "keypoints": []}, {**good, "keypoints": [[1, 2]]},
                {**good, "keypoints": [[1, 2, float("nan")]]}, {**good, "width": 0}, {**good, "person": -1}]:
        with pytest.raises(Invalid):
            pose_checks.validate_skeleton(bad)


def test_a_client_seen_by_two_processes_is_merged_for_dashboards():
    from server.stream.dashboard_hub import new_state
    from server.stream.shared_hub import merge

    old = {**new_state("client-m001"), "name": "old name", "label": "tree", "ts": 2000, "seq": 5, "events": 4,
           "last_seen": 10, "connections": 0}  # the process it left
    now = {**new_state("client-m001"), "name": "new name", "kind": "edge", "label": "chair", "ts": 1500, "seq": 9,
           "events": 3, "last_seen": 20, "connections": 1, "connected": True}  # where it is connected now
    view = merge([old, now])
    # The newest label by page time wins, whichever process stored it; the rest follows the live connection.
    assert (view["label"], view["ts"], view["seq"]) == ("tree", 2000, 5)
    assert (view["name"], view["kind"], view["connected"], view["connections"]) == ("new name", "edge", True, 1)
    assert (view["events"], view["last_seen"]) == (7, 20)
    assert set(view) == set(new_state("x"))  # exactly the contract's fields
    assert merge([{**now, "connections": 0}, old])["connected"] is False
