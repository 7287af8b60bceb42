"""The cluster for real: nginx, 2 `posecast serve` workers, Redis and PostgreSQL, python-socketio
clients on different workers. What one process did alone must hold across processes (logins,
model activation, sessions), and the faults: a worker killed mid-stream, Redis restarted,
PostgreSQL stopped for 10 s. Every acknowledged event is stored, each exactly once."""
import signal
import threading
import time
from pathlib import Path

import requests
import socketio

from tests.helpers.cluster import healthy
from tests.helpers.stream import DashboardClient, PageClient
from tests.helpers.wait import wait_until

LIVE = "/live"


class LivePage:
    """A /live connection (what a live page does): records every model it is told to run."""

    def __init__(self, url: str):
        self.models: list[dict] = []
        self.sio = socketio.Client(reconnection_delay=0.2, reconnection_delay_max=1.0)
        self.sio.on("model_activated", self.models.append, namespace=LIVE)
        self.sio.connect(url, namespaces=[LIVE], transports=["websocket"], wait_timeout=10)

    def wait_for_model(self, model_id: int, timeout: float, after: int = 0) -> bool:
        """True once told to run `model_id` in a message past the first `after` ones."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(m["id"] == model_id for m in self.models[after:]):
                return True
            time.sleep(0.05)
        return False

    def close(self):
        self.sio.disconnect()


class Streamer:
    """Keeps pages pushing one label every `period` s each until stopped (a live page's stream)."""

    def __init__(self, pages: list[PageClient], period: float = 0.02):
        self.pages, self.period = pages, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self.period):
            for page in self.pages:
                page.push("tree")

    def stop(self):
        self._stop.set()
        self._thread.join(5)


def stored_seqs(cluster, client_id: str) -> list[int]:
    return [r.seq for r in cluster.query("SELECT seq FROM label_events WHERE client_id = :c", c=client_id)]


def assert_all_stored_once(cluster, pages: list[PageClient]) -> None:
    for page in pages:
        assert page.drain(60), f"{page.client_id}: {len(page.outbox)} events never acknowledged ({page.errors[-3:]})"
        seqs = stored_seqs(cluster, page.client_id)
        assert len(seqs) == len(set(seqs)), f"{page.client_id}: stored twice"
        assert page.acked <= set(seqs), f"{page.client_id}: acknowledged but not stored: {sorted(page.acked - set(seqs))[:10]}"
        assert set(seqs) == set(range(page.next_seq)), f"{page.client_id}: {page.next_seq} pushed, {len(seqs)} stored"


def open_sessions(cluster, client_id: str) -> list:
    return cluster.query("SELECT s.id, s.instance_id, i.pid FROM client_sessions s "
                         "LEFT JOIN server_instances i ON i.id = s.instance_id "
                         "WHERE s.client_id = :c AND s.ended_at IS NULL", c=client_id)


def dashboard_cookie(cluster) -> str:
    """A new operator's session cookie (logged in through nginx; valid on every worker)."""
    username, password = cluster.add_user(f"operator{time.monotonic_ns() % 10**8}", "operator")
    session = cluster.session(username, password)
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())




def test_a_login_on_one_worker_is_valid_on_every_worker(cluster):
    a, b = cluster.worker_urls
    s = requests.Session()
    token = s.get(f"{a}/api/me", timeout=10).json()["csrf_token"]
    r = s.post(f"{a}/api/login", json={"username": "admin", "password": cluster.env["POSECAST_ADMIN_PASSWORD"]},
               headers={"X-CSRF-Token": token}, timeout=10)
    assert r.status_code == 200, r.text
    token = r.json()["csrf_token"]
    for url in (b, cluster.url):
        me = s.get(f"{url}/api/me", timeout=10).json()
        assert me["user"]["username"] == "admin", (url, me)
        assert s.get(f"{url}/api/clients", timeout=10).status_code == 200
    r = s.post(f"{b}/api/logout", headers={"X-CSRF-Token": token}, timeout=10)  # out on b: out everywhere
    assert r.status_code in (200, 204), r.text
    assert s.get(f"{a}/api/clients", timeout=10).status_code == 401


def test_model_activation_reaches_live_pages_on_every_worker(cluster):
    pages = [LivePage(url) for url in cluster.worker_urls]
    try:
        models = cluster.api("GET", "/api/models").json()["models"]
        active = next(m for m in models if m["active"])
        other = next(m for m in models if not m["active"])
        for page in pages:
            assert page.wait_for_model(active["id"], 10)  # told on connect
        seen = [len(p.models) for p in pages]
        assert cluster.api("POST", f"/api/models/{other['id']}/activate").status_code == 200
        for page, n in zip(pages, seen):
            assert page.wait_for_model(other["id"], 5, after=n), f"not told: {page.models[n:]}"
    finally:
        cluster.api("POST", f"/api/models/{active['id']}/activate")
        for page in pages:
            page.close()


def test_a_worker_killed_mid_stream_loses_nothing_and_never_closes_another_workers_sessions(cluster):
    # ip_hash sends every loopback client to one worker; one more page connects to the other directly.
    pages = [PageClient(cluster.url, f"through-nginx-{i}") for i in range(4)]
    victim_pid = open_sessions(cluster, pages[0].client_id)[0].pid
    victim = next(u for u in cluster.worker_urls if cluster.worker_pid(u) == victim_pid)
    survivor = next(u for u in cluster.worker_urls if u != victim)
    bystander = PageClient(survivor, "on-the-survivor")
    all_pages = [*pages, bystander]
    streamer = Streamer(all_pages)
    try:
        wait_until(lambda: all(len(p.acked) >= 20 for p in all_pages), 20, "the pages did not stream")
        cluster.kill_worker(victim)
        killed_at = time.monotonic()
        wait_until(lambda: all(p.connects >= 2 for p in pages), 20, "the pages did not reconnect through nginx")
        reconnect_s = time.monotonic() - killed_at
        seen = len(pages[0].acked)
        wait_until(lambda: len(pages[0].acked) > seen + 20, 20, "no acks after the reconnect")
    finally:
        streamer.stop()
    assert_all_stored_once(cluster, all_pages)
    for page in pages:  # on the survivor now; the dead worker's sessions are closed
        sessions = wait_until(lambda: (s := open_sessions(cluster, page.client_id)) and len(s) == 1 and s,
                              15, f"{page.client_id}: not exactly one open session (its live one on the survivor)")
        assert sessions[0].pid != victim_pid
    cluster.wait_healthy(victim)  # started again by `posecast cluster`
    assert cluster.worker_pid(victim) != victim_pid
    # The restarted worker closed the dead one's leftovers at start but not the survivor's live session.
    assert len(open_sessions(cluster, bystander.client_id)) == 1 and bystander.connects == 1
    print(f"reconnected through nginx in {reconnect_s:.1f} s")
    for page in all_pages:
        page.close()


def test_redis_restarted_the_cluster_recovers_by_itself(cluster):
    pages = [LivePage(url) for url in cluster.worker_urls]
    models = cluster.api("GET", "/api/models").json()["models"]
    active = next(m for m in models if m["active"])
    other = next(m for m in models if not m["active"])
    try:
        cluster.redis.restart(down_seconds=1.0)
        restarted_at = time.monotonic()
        target = other
        # Emits go through the queue again once each worker has reconnected: keep activating (to and
        # fro) until a page on every worker is told, as it would be by the next real activation.
        while True:
            seen = [len(p.models) for p in pages]
            assert cluster.api("POST", f"/api/models/{target['id']}/activate").status_code == 200
            if all(p.wait_for_model(target["id"], 1.0, after=n) for p, n in zip(pages, seen)):
                break
            assert time.monotonic() - restarted_at < 30, "emits did not cross workers 30 s after Redis came back"
            target = active if target is other else other
        print(f"emits crossed workers again {time.monotonic() - restarted_at:.1f} s after Redis restarted")
        # The dashboards catch up: one on the first worker sees a page on the second one labelling.
        dash = DashboardClient(cluster.worker_urls[0], dashboard_cookie(cluster))
        stream = PageClient(cluster.worker_urls[1], "after-redis")
        stream.push("cobra")
        assert_all_stored_once(cluster, [stream])
        wait_until(lambda: (c := dash.latest("after-redis")) and c.get("label") == "cobra", 15,
                   "the dashboard on the other worker did not see the page after Redis came back")
        stream.close()
        dash.close()
    finally:
        cluster.api("POST", f"/api/models/{active['id']}/activate")
        for p in pages:
            p.close()


def test_postgres_stopped_for_10_s_nothing_acked_is_lost_and_pages_buffer(cluster):
    pages = [PageClient(cluster.url, f"through-outage-{i}") for i in range(2)]
    pages.append(PageClient(cluster.worker_urls[1], "through-outage-direct"))
    pids = [cluster.worker_pid(u) for u in cluster.worker_urls]
    streamer = Streamer(pages, period=0.05)
    try:
        wait_until(lambda: all(len(p.acked) >= 10 for p in pages), 20, "the pages did not stream")
        cluster.postgres.pause()
        acked_before = [len(p.acked) for p in pages]
        time.sleep(10)
        buffered = [len(p.outbox) for p in pages]
        acked_during = [len(p.acked) - n for p, n in zip(pages, acked_before)]
        cluster.postgres.resume()
        wait_until(lambda: all(not p.outbox for p in pages), 60, "the buffered events were not stored")
    finally:
        streamer.stop()
    assert all(n >= 100 for n in buffered), f"pages did not buffer: {buffered}"
    # At most the one batch each page had in flight when the database stopped (committed before it).
    assert all(n <= p.batch_max for n, p in zip(acked_during, pages)), f"acks while the database was away: {acked_during}"
    assert_all_stored_once(cluster, pages)
    # No worker died, and no live session was closed for the silence the outage caused.
    time.sleep(4)  # more than a dead window (3 beats of 1 s) after the database came back
    assert [cluster.worker_pid(u) for u in cluster.worker_urls] == pids
    for page in pages:
        assert len(open_sessions(cluster, page.client_id)) == 1, page.client_id
        page.close()


def test_sigterm_stops_every_process_of_the_cluster(cluster):
    """Last in the folder (it stops the cluster): SIGTERM to `posecast cluster` ends nginx and every
    worker (with their inference processes), and it exits 0."""
    pids = [cluster.worker_pid(u) for u in cluster.worker_urls]
    nginx_pid = int((Path(cluster.env["POSECAST_INSTANCE_PATH"]) / "cluster" / "nginx" / "nginx.pid").read_text())
    children = [int(c) for pid in pids for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    assert children, "each worker has its inference process"
    cluster.proc.send_signal(signal.SIGTERM)
    assert cluster.proc.wait(30) == 0
    wait_until(lambda: not any(Path(f"/proc/{p}").exists() for p in [*pids, nginx_pid, *children]), 10,
               "processes left running after SIGTERM")
    assert not any(healthy(u) for u in [cluster.url, *cluster.worker_urls])
