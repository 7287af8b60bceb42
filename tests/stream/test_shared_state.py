"""The stream wing's live state across server processes: two real `posecast serve` processes on
one real redis-server (POSECAST_MESSAGE_QUEUE) and one SQLite label log, python-socketio pages
and dashboards on different processes."""
import secrets
import time

import pytest
import socketio

from tests.helpers import redis as redis_helper
from tests.helpers.server import LiveServer
from tests.helpers.stream import DashboardClient, PageClient
from tests.helpers.wait import wait_until

pytestmark = pytest.mark.skipif(not redis_helper.binary(), reason="redis-server is not installed (tools/system-deps.sh)")
RATE, BURST = 20, 40


class Cluster:
    def __init__(self, workdir):
        self.workdir = workdir
        self.redis = redis_helper.Redis().start()
        self.env = {"POSECAST_MESSAGE_QUEUE": self.redis.url, "POSECAST_HEARTBEAT_S": "1",
                    "POSECAST_SECRET_KEY": secrets.token_hex(16),  # a login on one process is valid on all
                    "DATABASE_URL": f"sqlite:///{workdir / 'labels.db'}", "POSECAST_DASHBOARD_TICK_MS": "50",
                    "POSECAST_RATE_EVENTS_PER_S": str(RATE), "POSECAST_RATE_BURST": str(BURST)}
        self.servers = []

    def add(self) -> LiveServer:
        server = LiveServer(self.workdir, env=self.env).start()
        self.servers.append(server)
        return server

    def stop(self):
        for s in self.servers:
            s.stop()
        self.redis.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("shared-state"))
    try:
        c.add(), c.add()
        yield c
    finally:
        c.stop()


def wait_for(predicate, timeout=10.0):
    return wait_until(predicate, timeout, interval=0.05)


def label_of(dash, client_id):
    state = dash.latest(client_id)
    return state and state["label"]


def hold(page, label, seconds, every=0.05):
    """The page says `label` for `seconds` of page time."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        page.push(label, 0.9)
        time.sleep(every)
    page.push(label, 0.9)
    assert page.drain(10)


def test_a_dashboard_on_one_process_sees_a_page_on_another(cluster):
    a, b = cluster.servers[:2]
    dash = DashboardClient(a.url, a.cookie())
    page = PageClient(b.url, "shared-page-1", name="bee")
    try:
        for _ in range(5):
            page.push("tree", 0.8, fps=12.5)
        assert page.drain(10)
        state = wait_for(lambda: (s := dash.latest("shared-page-1")) and s["events"] == 5 and s)
        assert (state["label"], state["fps"], state["name"], state["connected"]) == ("tree", 12.5, "bee", True)
        assert wait_for(lambda: sum(u["counts"].get("tree", 0) for _, u in dash.updates) == 5)
        # The totals on A add up B's events; A's REST API knows the client is connected (on B).
        assert wait_for(lambda: a.api("GET", "/api/stats").json()["events_total"] >= 5)
        clients = {c["client_id"]: c for c in a.api("GET", "/api/clients").json()["clients"]}
        assert clients["shared-page-1"]["connected"] is True
        # A's dashboard opens the client's detail: the page's skeletons on B reach it.
        skeletons = []
        dash.sio.on("skeleton", skeletons.append, namespace="/dashboard")
        assert dash.sio.call("watch", {"client_id": "shared-page-1"}, namespace="/dashboard") == {"ok": True}
        pose = {"person": 0, "width": 640, "height": 480, "keypoints": [[10.0, 20.0, 0.9]] * 17}

        def relayed():
            page.sio.emit("skeleton", pose, namespace="/pose")
            time.sleep(0.2)  # the server takes two a second
            return skeletons
        assert wait_for(relayed, 5)[0]["client_id"] == "shared-page-1"
    finally:
        page.close()
    assert wait_for(lambda: dash.latest("shared-page-1")["connected"] is False, 5)
    dash.close()


def test_a_rule_added_on_one_process_raises_once_on_another(cluster):
    a, b = cluster.servers[:2]
    cid = "shared-fall-1"
    dash = DashboardClient(a.url, a.cookie())
    page = PageClient(b.url, cid)
    page.push("standing")
    assert page.drain(10)  # B has read its (empty) rules by now
    r = a.api("POST", "/api/alert-rules", json={"labels": ["fall"], "min_confidence": 0.5, "hold_s": 0.3, "client_id": cid})
    assert r.status_code == 201, r.text

    def alerts():
        return a.api("GET", f"/api/alerts?client_id={cid}").json()["alerts"]

    hold(page, "fall", 0.6)
    assert len(wait_for(alerts)) == 1
    assert wait_for(lambda: [x for x in dash.alerts if x["client_id"] == cid])  # raised on B, shown on A
    acknowledged = []
    dash.sio.on("alert_acknowledged", acknowledged.append, namespace="/dashboard")
    assert b.api("POST", f"/api/alerts/{alerts()[0]['id']}/ack").status_code == 200  # on B, shown on A
    assert wait_for(lambda: acknowledged)[0]["acknowledged_by"] == "admin"
    # The page reconnects to A in the middle of the hold: the same hold, no second alert.
    page.close()
    moved = PageClient(a.url, cid)
    moved.next_seq = page.next_seq
    try:
        hold(moved, "fall", 0.6)
        time.sleep(0.3)
        assert len(alerts()) == 1
        # Let go, then hold again: a new alert.
        hold(moved, "standing", 0.1)
        hold(moved, "fall", 0.6)
        assert len(wait_for(lambda: len(alerts()) == 2 and alerts())) == 2
    finally:
        moved.close()
        dash.close()


def test_the_rate_limit_holds_across_processes(cluster):
    a, b = cluster.servers[:2]
    pages = []
    for server in (a, b):  # the same client id, connected to both
        sio = socketio.Client()
        sio.connect(server.url, namespaces=["/pose"], transports=["websocket"], auth={"client_id": "shared-rate-1"})
        pages.append(sio)
    now = int(time.time() * 1000)

    def send(sio, seqs):
        return sio.call("labels", {"events": [{"seq": s, "ts": now + s, "label": "tree", "confidence": 0.9} for s in seqs]},
                        namespace="/pose", timeout=10)

    try:
        assert send(pages[0], range(BURST))["stored"] == BURST
        ack = send(pages[1], range(BURST, BURST + 10))  # B's share of the same bucket is spent too
        assert ack["ok"] is False and ack["retry"] is True and 0 < ack["retry_after_ms"] <= 10 / RATE * 1000 + 50, ack
        time.sleep(ack["retry_after_ms"] / 1000)
        assert send(pages[1], range(BURST, BURST + 10))["stored"] == 10
    finally:
        for sio in pages:
            sio.disconnect()


def test_redis_restarted_the_dashboards_catch_up(cluster):
    a, b = cluster.servers[:2]
    dash = DashboardClient(a.url, a.cookie())
    page = PageClient(b.url, "shared-restart-1")
    try:
        page.push("before")
        assert page.drain(10)
        wait_for(lambda: label_of(dash, "shared-restart-1") == "before")
        cluster.redis.kill()
        page.push("during")
        assert page.drain(10)  # stored and acknowledged without Redis
        labels = a.api("GET", "/api/labels?client_id=shared-restart-1").json()["events"]
        assert [e["label"] for e in labels] == ["before", "during"]
        time.sleep(0.5)
        cluster.redis.start()
        wait_for(lambda: label_of(dash, "shared-restart-1") == "during", 15)
        page.push("after")
        assert page.drain(10)
        wait_for(lambda: label_of(dash, "shared-restart-1") == "after", 5)
    finally:
        page.close()
        dash.close()
    for server in (a, b):  # logged once each way, not per batch or per tick
        assert server.log().count("unreachable") == 1, server.log()[-3000:]
        assert server.log().count("live state shared again") == 1


def test_a_dead_process_shows_its_clients_disconnected(cluster):
    """Last in this file: it kills B."""
    a, c = cluster.servers[:2]
    dash = DashboardClient(a.url, a.cookie())
    page = PageClient(c.url, "shared-dead-1")
    try:
        page.push("tree")
        assert page.drain(10)
        assert wait_for(lambda: (s := dash.latest("shared-dead-1")) and s["connected"] and s["label"] == "tree")
        c.kill()  # kill -9: no disconnect is ever sent from there
        state = wait_for(lambda: (s := dash.latest("shared-dead-1")) and not s["connected"] and s, 6)
        assert state["label"] == "tree"
    finally:
        page.close()
        dash.close()
