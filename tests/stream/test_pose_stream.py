"""Label streaming against a real server (`posecast serve`, eventlet) over real websockets:
exactly-once storage across restarts and kill -9, dashboards within a second, slow dashboards
bounded, on SQLite and on a real PostgreSQL server."""
import threading
import time

import pytest

from tests.helpers.server import LiveServer
from tests.helpers.stream import DashboardClient, PageClient


def stored_seqs(server, client_id):
    seqs, after = [], 0
    while True:
        page = server.api("GET", f"/api/labels?client_id={client_id}&limit=5000&after_id={after}").json()
        seqs += [e["seq"] for e in page["events"]]
        if page["next_after_id"] is None:
            return seqs
        after = page["next_after_id"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_env(request):
    if request.param == "sqlite":
        return {}
    pg = request.getfixturevalue("postgres")
    return {"DATABASE_URL": pg.fresh_database(f"stream_{int(time.time() * 1000) % 10**9}")}


def test_concurrent_pages_are_stored_exactly_once(tmp_path, db_env):
    server = LiveServer(tmp_path, env=db_env).start()
    try:
        pages = [PageClient(server.url, f"page-{i:04d}", batch_max=50) for i in range(4)]
        for n in range(1500):
            for p in pages:
                p.push("tree" if n % 2 else "chair", person=n % 3, model="yoga5", model_version=1)
        assert all(p.drain() for p in pages)
        for p in pages:
            assert p.acked == set(range(1500))
            assert sorted(stored_seqs(server, p.client_id)) == list(range(1500))
        assert server.api("GET", "/api/health").json()["database"] == ("postgresql" if db_env else "sqlite")
        for p in pages:
            p.close()
    finally:
        server.stop()


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_nothing_acknowledged_is_lost_or_doubled_across_a_restart(tmp_path, how):
    server = LiveServer(tmp_path).start()
    stop = threading.Event()
    pages = [PageClient(server.url, f"steady-{i:04d}") for i in range(3)]

    def produce():  # ~150 events/s per page, like a page classifying at 30 fps with 5 people
        while not stop.is_set():
            for p in pages:
                for _ in range(3):
                    p.push("tree")
            time.sleep(0.02)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        time.sleep(1.5)
        acked_before = {p.client_id: set(p.acked) for p in pages}
        assert all(acked_before.values()), "nothing was acknowledged before the restart"
        server.kill() if how == "kill" else server.stop()
        time.sleep(1.0)  # pages keep classifying into their outboxes while the server is down
        assert all(p.outbox for p in pages)
        server.start()
        time.sleep(1.5)
        stop.set()
        producer.join()
        assert all(p.drain(60) for p in pages), [len(p.outbox) for p in pages]
        for p in pages:
            seqs = stored_seqs(server, p.client_id)
            assert len(seqs) == len(set(seqs)) == p.next_seq, (p.client_id, len(seqs), p.next_seq)
            assert acked_before[p.client_id] <= set(seqs)
            assert p.connects == 2, "the page did not reconnect exactly once"
    finally:
        stop.set()
        for p in pages:
            p.close()
        server.stop()


def test_dashboard_sees_every_label_within_a_second_and_a_slow_one_never_slows_ingestion(tmp_path):
    server = LiveServer(tmp_path).start()
    operator = server.add_user("op", "operator")
    try:
        fast = DashboardClient(server.url, f"session={server.session(*operator).cookies['session']}")
        slow = DashboardClient(server.url, server.cookie(), delay=1.5)
        page = PageClient(server.url, "probe-0001", name="probe")
        lags = []
        for i in range(10):
            label = f"probe-{i}"
            t0 = time.monotonic()
            page.push(label)
            while time.monotonic() - t0 < 2:
                latest = fast.latest("probe-0001")
                if latest and latest["label"] == label:
                    lags.append(time.monotonic() - t0)
                    break
                time.sleep(0.005)
            time.sleep(0.1)
        assert len(lags) == 10 and max(lags) < 1.0, lags
        # Meanwhile the slow dashboard held at most one update at a time: ~1 per 1.5 s.
        window = slow.updates[-1][0] - slow.updates[0][0] if len(slow.updates) > 1 else 0
        assert len(slow.updates) <= 2 + window / 1.5
        assert max(page.ack_seconds) < 1.0  # the slow dashboard holds each update 1.5 s
        assert fast.latest("probe-0001")["name"] == "probe"
        for c in (fast, slow, page):
            c.close()
    finally:
        server.stop()


def test_anonymous_dashboards_and_trainers_are_refused_over_websocket(tmp_path):
    import socketio

    server = LiveServer(tmp_path).start()
    try:
        for namespace in ("/dashboard", "/trainer"):
            sio = socketio.Client()
            with pytest.raises(socketio.exceptions.ConnectionError):
                sio.connect(server.url, namespaces=[namespace], transports=["websocket"], wait_timeout=5)
        trainer = server.session(*server.add_user("coach", "trainer"))
        sio = socketio.Client()
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(server.url, namespaces=["/dashboard"], transports=["websocket"], wait_timeout=5,
                        headers={"Cookie": f"session={trainer.cookies['session']}"})
        # Another origin (a page on another site or port) may not use the operator's cookie.
        sio = socketio.Client()
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(server.url, namespaces=["/pose"], transports=["websocket"], wait_timeout=5,
                        headers={"Origin": "http://127.0.0.1:1"}, auth={"client_id": "evil-0001"})
        sio = socketio.Client()  # websocket-client sends the server's own origin
        sio.connect(server.url, namespaces=["/pose"], transports=["websocket"], wait_timeout=5,
                    auth={"client_id": "good-0001"})
        sio.disconnect()
        assert "http://127.0.0.1:1 is not an accepted origin" in server.log()
    finally:
        server.stop()
