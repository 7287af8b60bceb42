"""The /pose namespace with the Flask-SocketIO test client: batches stored once, acknowledged
after the commit, bad input refused with an error acknowledgement and nothing stored."""
import math
import time

import pytest
from sqlalchemy import func, select

from server import create_app, db
from server.stream import label_log as labels
from server.sockets import socketio
from tests.helpers.auth import ADMIN_CONFIG

CLIENT = "client-0001"


def event(seq, **over):
    return {"seq": seq, "ts": int(time.time() * 1000), "label": "tree", "confidence": 0.9, "model": "yoga5",
            "model_version": 1, "backbone": "posenet", "person": 0, "fps": 29.5, **over}


def stored(app, client_id=None):
    with db.engine_of(app).connect() as conn:
        q = select(labels.events.c.client_id, labels.events.c.seq).order_by(labels.events.c.client_id, labels.events.c.seq)
        if client_id:
            q = q.where(labels.events.c.client_id == client_id)
        return [tuple(r) for r in conn.execute(q)]


@pytest.fixture
def page(app):
    sock = socketio.test_client(app, namespace="/pose", auth={"client_id": CLIENT, "name": "studio cam"})
    assert sock.is_connected("/pose")
    return sock


def send(sock, payload):
    return sock.emit("labels", payload, namespace="/pose", callback=True)


def test_a_batch_is_stored_and_acknowledged(app, page):
    ack = send(page, {"events": [event(i) for i in range(20)]})
    assert ack == {"ok": True, "stored": 20, "duplicates": 0}
    assert stored(app) == [(CLIENT, i) for i in range(20)]


def test_a_resent_batch_is_stored_once(app, page):
    send(page, {"events": [event(i) for i in range(10)]})
    ack = send(page, {"events": [event(i) for i in range(5, 15)]})
    assert ack == {"ok": True, "stored": 5, "duplicates": 5}
    assert stored(app) == [(CLIENT, i) for i in range(15)]


def test_clients_are_kept_apart(app, page):
    other = socketio.test_client(app, namespace="/pose", auth={"client_id": "client-0002"})
    send(page, {"events": [event(0), event(1)]})
    assert send(other, {"events": [event(0)]})["stored"] == 1
    assert stored(app) == [(CLIENT, 0), (CLIENT, 1), ("client-0002", 0)]


def test_sessions_open_and_close_with_the_connection(app, page):
    page.disconnect(namespace="/pose")
    with db.engine_of(app).connect() as conn:
        session = conn.execute(select(labels.sessions)).one()
        client = conn.execute(select(labels.clients)).one()
    assert session.client_id == CLIENT and session.name == "studio cam" and session.ended_at >= session.started_at
    assert client.name == "studio cam"


def test_set_name_renames_the_client(app, page):
    assert page.emit("set_name", {"name": "front desk"}, namespace="/pose", callback=True) == {"ok": True}
    with db.engine_of(app).connect() as conn:
        assert conn.execute(select(labels.clients.c.name)).scalar() == "front desk"
    assert page.emit("set_name", {"name": "\x00bad"}, namespace="/pose", callback=True)["ok"] is False
    assert page.emit("set_name", "front", namespace="/pose", callback=True)["ok"] is False


NOW = int(time.time() * 1000)
BAD_BATCHES = [
    ("not an object", "expected {events"),
    ({"events": []}, "non-empty"),
    ({"events": "x"}, "non-empty"),
    ({"events": [event(0)], "extra": 1}, "expected {events"),
    ({"events": [event(0, colour="red")]}, "unknown field"),
    ({"events": [{k: v for k, v in event(0).items() if k != "label"}]}, "missing field"),
    ({"events": [event(-1)]}, "seq"),
    ({"events": [event(1.5)]}, "seq"),
    ({"events": [event(True)]}, "seq"),
    ({"events": [event(2 ** 60)]}, "seq"),
    ({"events": [event(0, ts=123)]}, "ts"),
    ({"events": [event(0, ts=NOW + 10 * 86400_000)]}, "ts"),
    ({"events": [event(0, confidence=math.nan)]}, "confidence"),
    ({"events": [event(0, confidence=math.inf)]}, "confidence"),
    ({"events": [event(0, confidence=1.5)]}, "confidence"),
    ({"events": [event(0, confidence="0.9")]}, "confidence"),
    ({"events": [event(0, label="")]}, "label"),
    ({"events": [event(0, label="x" * 65)]}, "label"),
    ({"events": [event(0, label="tab\there")]}, "label"),
    ({"events": [event(0, label=None)]}, "label"),
    ({"events": [event(0, fps=-1)]}, "fps"),
    ({"events": [event(0, person=-2)]}, "person"),
    ({"events": [event(0, model_version="1")]}, "model_version"),
    ({"events": [event(0), event(0)]}, "repeat a seq"),
    ({"events": [event(0), "x"]}, "events[1]"),
    ({"events": [event(i) for i in range(501)]}, "at most 500"),
]


@pytest.mark.parametrize("payload,message", BAD_BATCHES, ids=[m for _, m in BAD_BATCHES])
def test_bad_batches_get_an_error_ack_and_nothing_is_stored(app, page, payload, message):
    ack = send(page, payload)
    assert ack["ok"] is False and ack["retry"] is False and message in ack["error"], ack
    assert stored(app) == []
    assert send(page, {"events": [event(7)]})["ok"] is True  # the connection and the server carry on


@pytest.mark.parametrize("auth", [None, {}, {"client_id": "short"}, {"client_id": "has space!!"},
                                  {"client_id": "abcdefgh12", "name": 5}, {"client_id": "abcdefgh12", "x": 1}])
def test_bad_connect_payloads_are_refused(app, auth):
    assert not socketio.test_client(app, namespace="/pose", auth=auth).is_connected("/pose")


def test_rate_limit_asks_to_retry_later(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "ASYNC_MODE": "threading", "RATE_EVENTS_PER_S": 10,
                      "RATE_BURST": 20, **ADMIN_CONFIG})
    sock = socketio.test_client(app, namespace="/pose", auth={"client_id": CLIENT})
    assert send(sock, {"events": [event(i) for i in range(20)]})["ok"] is True
    ack = send(sock, {"events": [event(i) for i in range(20, 30)]})
    assert ack["ok"] is False and ack["retry"] is True and 0 < ack["retry_after_ms"] <= 1100
    time.sleep(ack["retry_after_ms"] / 1000)
    assert send(sock, {"events": [event(i) for i in range(20, 30)]})["stored"] == 10
    assert len(stored(app)) == 30


def test_group_commit_stores_batches_from_many_clients(app):
    socks = [socketio.test_client(app, namespace="/pose", auth={"client_id": f"client-{i:04d}"}) for i in range(5)]
    for round_ in range(4):
        for sock in socks:
            assert send(sock, {"events": [event(round_ * 10 + j) for j in range(10)]})["stored"] == 10
    with db.engine_of(app).connect() as conn:
        assert conn.execute(select(func.count()).select_from(labels.events)).scalar() == 200


def test_skeletons_reach_only_dashboards_watching_that_client(app, page, client):
    dash = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    assert dash.emit("watch", {"client_id": CLIENT}, namespace="/dashboard", callback=True) == {"ok": True}
    other = socketio.test_client(app, namespace="/dashboard", flask_test_client=client)
    pose = {"person": 0, "width": 640, "height": 480, "keypoints": [[10.0, 20.0, 0.9]] * 17}
    page.emit("skeleton", pose, namespace="/pose")
    page.emit("skeleton", {**pose, "keypoints": [[1, 2]]}, namespace="/pose")  # malformed: dropped
    got = [m for m in dash.get_received("/dashboard") if m["name"] == "skeleton"]
    assert len(got) == 1 and got[0]["args"][0]["client_id"] == CLIENT and len(got[0]["args"][0]["keypoints"]) == 17
    assert not [m for m in other.get_received("/dashboard") if m["name"] == "skeleton"]
    assert dash.emit("watch", {"client_id": "<script>"}, namespace="/dashboard", callback=True)["ok"] is False


@pytest.mark.parametrize("text", ["\ud800", "a\nb", "x\x85"], ids=repr)
def test_text_that_no_database_can_store_is_refused_at_every_door(app, page, text):
    ack = send(page, {"events": [event(0, label=text)]})
    assert ack["ok"] is False and ack["retry"] is False and "label" in ack["error"], ack
    ack = send(page, {"events": [event(0, model=text)]})
    assert ack["ok"] is False and ack["retry"] is False and "model" in ack["error"], ack
    assert page.emit("set_name", {"name": text}, namespace="/pose", callback=True)["ok"] is False
    assert not socketio.test_client(app, namespace="/pose", auth={"client_id": "client-0009", "name": text}) \
        .is_connected("/pose")
    assert send(page, {"events": [event(1)]})["ok"] is True


def writer_item(client_id, label, seqs=range(3)):
    """One batch as the writer queues it (the checks bypassed)."""
    now = int(time.time() * 1000)
    rows = [{**event(s, label=label), "client_id": client_id, "received_at": now, "session_id": None} for s in seqs]
    return {"rows": rows, "done": socketio.server.eio.create_event(), "new": None, "error": None}


def test_a_poisoned_batch_fails_alone_in_a_group_commit(app):
    """The writer commits every waiting batch together; when that fails, it commits them one at a
    time, so only the batch that cannot be stored gets the error (it bypasses the checks here)."""
    from server.stream import services

    items = [writer_item("client-good-1", "tree"), writer_item("client-poison", "\ud800"),
             writer_item("client-good-2", "warrior")]
    services.of(app).writer._commit(items)
    assert all(i["done"].is_set() for i in items)
    assert items[0]["error"] is None and items[0]["new"] == 3
    assert items[2]["error"] is None and items[2]["new"] == 3
    assert items[1]["error"] is not None and items[1]["new"] is None
    assert sorted({c for c, _ in stored(app)}) == ["client-good-1", "client-good-2"]


def test_failures_in_a_row_log_one_traceback_then_a_count(app, caplog):
    """A database outage fails every batch: the log gets one traceback when it starts and one line
    when writes work again, not a traceback per batch."""
    from server.stream import services

    writer = services.of(app).writer
    with caplog.at_level("WARNING", logger="posecast.ingest"):
        for i in range(5):
            writer._commit([writer_item(f"client-bad-{i}", "\ud800")])
        good = writer_item("client-good", "tree")
        writer._commit([good])
    assert good["new"] == 3
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "could not store" in tracebacks[0].getMessage()
    again = [r.getMessage() for r in caplog.records if "takes writes again" in r.getMessage()]
    assert len(again) == 1 and "after 5 failed batches" in again[0]


def test_a_resend_meeting_its_original_in_one_group_commit_is_new_once(app):
    """A page that resends before its first ack can have both copies in one group: the first
    counts as stored, the second as duplicates, and observers see each event once."""
    from server.stream import services

    writer = services.of(app).writer
    seen = []
    writer.observers.append(seen.extend)
    try:
        items = [writer_item("client-twice", "tree", range(3)), writer_item("client-twice", "tree", range(1, 5)),
                 writer_item("client-once", "tree")]
        writer._commit(items)
    finally:
        writer.observers.remove(seen.extend)
    assert [i["new"] for i in items] == [3, 2, 3]
    assert sorted((r["client_id"], r["seq"]) for r in seen) == sorted(
        [("client-twice", s) for s in range(5)] + [("client-once", s) for s in range(3)])
