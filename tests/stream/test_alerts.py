"""Alert rules: a label held long enough raises one alert per hold, per client and person; alerts
reach dashboards live, are stored and acknowledgeable."""
import time

import pytest

from server.sockets import socketio

T = int(time.time() * 1000) - 60_000


def labelled(seq0, pairs, step=200, person=0):
    return {"events": [{"seq": seq0 + i, "ts": T + (seq0 + i) * step, "label": label, "confidence": conf,
                        "person": person} for i, (label, conf) in enumerate(pairs)]}


@pytest.fixture
def dash(app, client):
    sock = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    assert sock.is_connected("/dashboard")
    return sock


def pose_client(app, cid):
    sock = socketio.test_client(app, namespace="/pose", auth={"client_id": cid, "name": f"name of {cid}"})
    assert sock.is_connected("/pose")
    return sock


def received(sock, name):
    return [m["args"][0] for m in sock.get_received("/dashboard") if m["name"] == name]


def test_held_label_raises_one_alert_then_rearms(app, client, dash):
    rule = client.post("/api/alert-rules", json={"labels": ["fall"], "min_confidence": 0.8, "hold_s": 1}).get_json()
    page = pose_client(app, "client-a001")
    send = lambda p: page.emit("labels", p, namespace="/pose", callback=True)  # noqa: E731
    # 0.0-0.8 s held (not yet), a dip in confidence resets, then 1.2 s held: one alert.
    assert send(labelled(0, [("fall", 0.9)] * 5 + [("fall", 0.5)] + [("fall", 0.95)] * 7))["ok"]
    alerts = received(dash, "alert")
    assert len(alerts) == 1
    a = alerts[0]
    assert (a["rule_id"], a["client_id"], a["client_name"], a["label"]) == (rule["id"], "client-a001", "name of client-a001", "fall")
    assert a["raised_ts"] - a["started_ts"] >= 1000 and a["started_ts"] == T + 6 * 200
    assert send(labelled(13, [("fall", 0.9)] * 10))["ok"]  # still the same hold: nothing new
    assert received(dash, "alert") == []
    assert send(labelled(23, [("stand", 0.9)] + [("fall", 0.9)] * 6))["ok"]  # let go, held again
    assert len(received(dash, "alert")) == 1
    stored = client.get("/api/alerts?status=open").get_json()["alerts"]
    assert len(stored) == 2 and stored[0]["id"] > stored[1]["id"]


def test_rules_are_per_client_and_person(app, client, dash):
    client.post("/api/alert-rules", json={"labels": "tree", "min_confidence": 0.5, "hold_s": 0.4, "client_id": "client-b001"})
    other = pose_client(app, "client-b002")
    assert other.emit("labels", labelled(0, [("tree", 0.9)] * 5), namespace="/pose", callback=True)["ok"]
    assert received(dash, "alert") == []
    mine = pose_client(app, "client-b001")
    # Two people interleaved: each holds for 0.4 s on their own.
    events = labelled(0, [("tree", 0.9)] * 3, person=0)["events"] + labelled(100, [("tree", 0.9)] * 3, person=1)["events"]
    assert mine.emit("labels", {"events": events}, namespace="/pose", callback=True)["ok"]
    assert sorted(a["person"] for a in received(dash, "alert")) == [0, 1]


def test_fall_preset_and_acknowledgement(app, client, dash):
    rule = client.post("/api/alert-rules", json={"preset": "fall"}).get_json()
    assert rule["name"] == "Fall detected" and "lying" in rule["labels"] and rule["preset"] == "fall"
    page = pose_client(app, "client-c001")
    page.emit("labels", labelled(0, [("lying", 0.9)] * 8), namespace="/pose", callback=True)
    (alert,) = received(dash, "alert")
    r = client.post(f"/api/alerts/{alert['id']}/ack")
    assert r.status_code == 200 and r.get_json()["acknowledged_by"] == "admin"
    assert received(dash, "alert_acknowledged")[0]["id"] == alert["id"]
    assert client.get("/api/alerts?status=open").get_json()["alerts"] == []
    assert client.post("/api/alerts/999/ack").status_code == 404


def test_disabled_and_deleted_rules_stop_firing(app, client, dash):
    rule = client.post("/api/alert-rules", json={"labels": ["tree"], "min_confidence": 0.5, "hold_s": 0}).get_json()
    assert client.patch(f"/api/alert-rules/{rule['id']}", json={"enabled": False}).get_json()["enabled"] is False
    page = pose_client(app, "client-d001")
    page.emit("labels", labelled(0, [("tree", 0.9)] * 3), namespace="/pose", callback=True)
    assert received(dash, "alert") == []
    client.patch(f"/api/alert-rules/{rule['id']}", json={"enabled": True})
    page.emit("labels", labelled(3, [("tree", 0.9)]), namespace="/pose", callback=True)
    assert len(received(dash, "alert")) == 1
    assert client.delete(f"/api/alert-rules/{rule['id']}").status_code == 204
    assert client.get("/api/alert-rules").get_json()["rules"] == []
    assert client.delete(f"/api/alert-rules/{rule['id']}").status_code == 404


@pytest.mark.parametrize("body,message", [
    ("x", "JSON object"), ({}, "labels"), ({"labels": []}, "labels"), ({"labels": ["a"] * 21}, "labels"),
    ({"labels": ["<b>\x00"]}, "label"), ({"labels": ["a"], "min_confidence": 2}, "min_confidence"),
    ({"labels": ["a"], "min_confidence": float("nan")}, "min_confidence"), ({"labels": ["a"], "hold_s": -1}, "hold_s"),
    ({"labels": ["a"], "client_id": "no spaces"}, "client_id"), ({"labels": ["a"], "enabled": "yes"}, "enabled"),
    ({"preset": "earthquake"}, "preset"), ({"labels": ["a"], "when": "now"}, "unknown field"),
])
def test_bad_rules_are_400(client, body, message):
    r = client.post("/api/alert-rules", json=body)
    assert r.status_code == 400 and message in r.get_json()["error"], r.get_json()


def test_alert_list_filters_are_checked(client):
    assert client.get("/api/alerts?status=maybe").status_code == 400
    assert client.get("/api/alerts?limit=0").status_code == 400
