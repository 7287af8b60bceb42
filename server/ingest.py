"""The /pose namespace: live pages stream label batches here (see web/contract.json).

A batch is validated, rate limited, handed to the one writer (a background task that commits
whatever batches are waiting in one transaction) and acknowledged only after that commit, so an
acknowledged event is on disk and an unacknowledged one is still in the page's outbox.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app, request
from flask_socketio import disconnect

from . import alerts, auth, db, live_state, labels
from .contract import LABELS, POSE, SET_NAME, SKELETON
from .errors import Invalid, check_text
from .sockets import socketio

log = logging.getLogger("posecast.ingest")
WRITE_TIMEOUT_S = 30.0
SKELETON_MIN_INTERVAL_S = 0.2


class Bucket:
    """Token bucket: `rate` events per second, at most `burst` at once."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()

    def take(self, n: int) -> float:
        """Take n tokens and return 0, or return how many seconds until n would be there."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if n <= self.tokens:
            self.tokens -= n
            return 0.0
        return (n - self.tokens) / self.rate


class Writer:
    """Group commit: one background task inserts every waiting batch in one transaction."""

    def __init__(self, app):
        self.app = app
        self.queue = None
        self.written = 0
        self.lock = threading.Lock()

    def _ensure_started(self):
        with self.lock:
            if self.queue is None:
                self.queue = socketio.server.eio.create_queue()
                socketio.start_background_task(self._run)

    def write(self, rows: list[dict]) -> set[tuple[str, int]]:
        """Block (this greenlet or thread) until `rows` are committed; returns the new (client, seq)."""
        self._ensure_started()
        item = {"rows": rows, "done": socketio.server.eio.create_event(), "new": None, "error": None}
        self.queue.put(item)
        if not item["done"].wait(WRITE_TIMEOUT_S):
            raise TimeoutError("the database did not commit in time")
        if item["error"] is not None:
            raise item["error"]
        return item["new"]

    def _run(self):
        while True:
            items = [self.queue.get()]
            while len(items) < 256:
                try:
                    items.append(self.queue.get_nowait())
                except Exception:  # queue.Empty of whichever async mode
                    break
            self._commit(items)

    def _commit(self, items: list[dict]) -> None:
        rows = [r for item in items for r in item["rows"]]
        try:
            with self.app.app_context(), db.engine().begin() as conn:
                new = labels.insert_events(conn, rows)
                seen: dict[str, int] = {}
                for r in rows:
                    seen[r["client_id"]] = max(seen.get(r["client_id"], 0), r["received_at"])
                labels.touch_clients(conn, seen)
        except Exception as exc:  # every waiting page gets the error; none is acknowledged
            log.exception("could not store %d label events", len(rows))
            for item in items:
                item["error"] = exc
                item["done"].set()
            return
        self.written += len(new)
        # A resend can meet its original in one transaction: only the first copy counts as new.
        unclaimed, fresh = set(new), []
        for item in items:
            mine = [r for r in item["rows"] if (r["client_id"], r["seq"]) in unclaimed]
            item["new"] = {(r["client_id"], r["seq"]) for r in mine}
            unclaimed -= item["new"]
            fresh += mine
        # Dashboards and alerts see the events before the page hears back, so an acknowledged
        # event has always been evaluated.
        live_state.hub(self.app).observe(fresh)
        try:
            alerts.engine(self.app).evaluate(fresh)
        except Exception:  # alerts must never stop the label log
            log.exception("alert evaluation failed")
        for item in items:
            item["done"].set()


def writer(app) -> Writer:
    return app.extensions["posecast.writer"]


def init_app(app) -> None:
    app.extensions["posecast.writer"] = Writer(app)
    app.extensions["posecast.buckets"] = {}
    app.extensions["posecast.connections"] = {}
    with db.engine_of(app).begin() as conn:
        closed = labels.close_orphan_sessions(conn)
    if closed:
        app.logger.info("closed %d client session(s) left open by an earlier stop", closed)


def _connections() -> dict:
    return current_app.extensions["posecast.connections"]


@socketio.on("connect", namespace=POSE)
def on_connect(auth_payload=None):
    """A live page connects with auth {client_id, name?}; refused when invalid (or not logged in
    while POSECAST_LIVE_LOGIN is on). Dashboards see the client appear."""
    if not auth.socket_user_may("viewer" if current_app.config["LIVE_LOGIN"] else None):
        raise ConnectionRefusedError("log in first")
    try:
        client = labels.validate_client(auth_payload)
    except Invalid as exc:
        raise ConnectionRefusedError(str(exc)) from None
    with db.engine().begin() as conn:
        session_id = labels.open_session(conn, client, request.remote_addr, request.headers.get("User-Agent"))
    _connections()[request.sid] = {**client, "session_id": session_id}
    live_state.hub(current_app).connected(client["client_id"], client["name"], session_id)


@socketio.on("disconnect", namespace=POSE)
def on_disconnect(*_):
    """The page went away: its session ends and dashboards show it disconnected."""
    conn_info = _connections().pop(request.sid, None)
    if conn_info is None:
        return
    with db.engine().begin() as conn:
        labels.close_session(conn, conn_info["session_id"])
    live_state.hub(current_app).disconnected(conn_info["client_id"], conn_info["session_id"])


@socketio.on(LABELS, namespace=POSE)
def on_labels(payload):
    """A live page sends {events: [...]}; acked {ok, stored, duplicates} after the commit, or
    {ok: false, error, retry} (retry true: keep the batch and send it again later)."""
    info = _connections().get(request.sid)
    if info is None:
        return {"ok": False, "error": "not connected", "retry": True}
    cfg = current_app.config
    try:
        batch = labels.validate_batch(payload, cfg["BATCH_MAX_EVENTS"])
    except Invalid as exc:
        return {"ok": False, "error": str(exc), "retry": False}
    buckets = current_app.extensions["posecast.buckets"]
    bucket = buckets.setdefault(info["client_id"], Bucket(cfg["RATE_EVENTS_PER_S"], cfg["RATE_BURST"]))
    wait = bucket.take(len(batch))
    if wait:
        return {"ok": False, "error": "rate limit", "retry": True, "retry_after_ms": int(wait * 1000) + 1}
    received = labels.now_ms()
    rows = [{**e, "client_id": info["client_id"], "received_at": received, "session_id": info["session_id"]}
            for e in batch]
    try:
        new = writer(current_app).write(rows)
    except Exception as exc:
        return {"ok": False, "error": f"not stored: {exc.__class__.__name__}", "retry": True}
    return {"ok": True, "stored": len(new), "duplicates": len(rows) - len(new)}


@socketio.on(SET_NAME, namespace=POSE)
def on_set_name(payload):
    """A live page changes its display name: {name: string | null}; acked {ok} or {ok: false, error}."""
    info = _connections().get(request.sid)
    try:
        if info is None or not isinstance(payload, dict) or set(payload) != {"name"}:
            raise Invalid("expected {name: string | null}")
        name = check_text(payload["name"] or None, "name", allow_none=True)
    except Invalid as exc:
        return {"ok": False, "error": str(exc)}
    with db.engine().begin() as conn:
        conn.execute(labels.clients.update().where(labels.clients.c.client_id == info["client_id"]).values(name=name))
        conn.execute(labels.sessions.update().where(labels.sessions.c.id == info["session_id"]).values(name=name))
    info["name"] = name
    live_state.hub(current_app).renamed(info["client_id"], name)
    return {"ok": True}


@socketio.on(SKELETON, namespace=POSE)
def on_skeleton(payload):
    """A live page sends its current pose a few times a second; relayed to dashboards watching it
    (never stored). A malformed one is dropped; repeated abuse disconnects."""
    info = _connections().get(request.sid)
    now = time.monotonic()
    if info is None or now - info.get("skeleton_at", 0.0) < SKELETON_MIN_INTERVAL_S:
        return  # pages send two a second; more is dropped, not relayed
    info["skeleton_at"] = now
    try:
        pose = live_state.validate_skeleton(payload)
    except Invalid:
        info["bad"] = info.get("bad", 0) + 1
        if info["bad"] > 20:
            disconnect()
        return
    live_state.hub(current_app).skeleton(info["client_id"], pose)
