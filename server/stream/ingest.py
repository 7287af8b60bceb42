"""The /pose namespace: live pages stream label batches here (see web/contract.json).

A batch is validated (pose_checks), rate limited, handed to the one writer (writer.py: group
commit) and acknowledged only after that commit, so an acknowledged event is on disk and an
unacknowledged one is still in the page's outbox.
"""
from __future__ import annotations

import time

from flask import current_app, request
# Socket.IO's own ConnectionRefusedError carries its message to the client; the builtin one
# arrives as "Connection refused by server", and an edge node could not tell a revoked token.
from flask_socketio import ConnectionRefusedError, disconnect  # noqa: A004

from core.checks import Invalid
from core.clock import now_ms

from .. import auth, db, devices
from ..contract import LABELS, POSE, SET_NAME, SKELETON
from ..sockets import socketio
from . import label_log, pose_checks, services

SKELETON_MIN_INTERVAL_S = 0.2


def _connections() -> dict:
    return services.of(current_app).connections


@socketio.on("connect", namespace=POSE)
def on_connect(auth_payload=None):
    """A live page connects with auth {client_id, name?}, an edge node also with {token}; refused
    when invalid, for an unknown or revoked token (or not logged in while POSECAST_LIVE_LOGIN is on).
    Dashboards see the client appear, with its kind (page or edge)."""
    if request.sid in _connections():  # never a second connect on one connection
        raise ConnectionRefusedError("already connected")
    try:
        client = pose_checks.validate_client(auth_payload)
        token = client.pop("token")
        with db.engine().begin() as conn:
            # An edge node proves itself with a device token; a refused one is told why.
            device = devices.verify(conn, token) if token else None
    except Invalid as exc:
        if token_sent(auth_payload):
            current_app.logger.warning("edge node refused at /pose from %s: %s", request.remote_addr, exc)
        raise ConnectionRefusedError(str(exc)) from None
    # A device token stands in for the login POSECAST_LIVE_LOGIN asks of pages.
    if not device and not auth.socket_user_may("viewer" if current_app.config["LIVE_LOGIN"] else None):
        raise ConnectionRefusedError("log in first")
    kind = "edge" if device else "page"
    with db.engine().begin() as conn:
        session_id = label_log.open_session(conn, client, request.remote_addr, request.headers.get("User-Agent"))
    _connections()[request.sid] = {**client, "session_id": session_id, "kind": kind, "device": device}
    services.of(current_app).hub.connected(client["client_id"], client["name"], session_id, kind=kind)


def token_sent(auth_payload) -> bool:
    return isinstance(auth_payload, dict) and auth_payload.get("token") is not None


@socketio.on("disconnect", namespace=POSE)
def on_disconnect(*_):
    """The page went away: its session ends and dashboards show it disconnected."""
    conn_info = _connections().pop(request.sid, None)
    if conn_info is None:
        return
    with db.engine().begin() as conn:
        label_log.close_session(conn, conn_info["session_id"])
    services.of(current_app).hub.disconnected(conn_info["client_id"], conn_info["session_id"])


@socketio.on(LABELS, namespace=POSE)
def on_labels(payload):
    """A live page sends {events: [...]}; acked {ok, stored, duplicates} after the commit, or
    {ok: false, error, retry} (retry true: keep the batch and send it again later)."""
    info = _connections().get(request.sid)
    if info is None:
        return {"ok": False, "error": "not connected", "retry": True}
    cfg = current_app.config
    try:
        batch = pose_checks.validate_batch(payload, cfg["BATCH_MAX_EVENTS"])
    except Invalid as exc:
        return {"ok": False, "error": str(exc), "retry": False}
    wait = services.of(current_app).limiter.take(info["client_id"], len(batch))
    if wait:
        return {"ok": False, "error": "rate limit", "retry": True, "retry_after_ms": int(wait * 1000) + 1}
    received = now_ms()
    rows = [{**e, "client_id": info["client_id"], "received_at": received, "session_id": info["session_id"]}
            for e in batch]
    try:
        new = services.of(current_app).writer.write(rows)
    except Exception as exc:
        return {"ok": False, "error": f"not stored: {exc.__class__.__name__}", "retry": True}
    return {"ok": True, "stored": len(new), "duplicates": len(rows) - len(new)}


@socketio.on(SET_NAME, namespace=POSE)
def on_set_name(payload):
    """A live page changes its display name: {name: string | null}; acked {ok} or {ok: false, error}."""
    info = _connections().get(request.sid)
    try:
        if info is None:
            raise Invalid("not connected")
        name = pose_checks.validate_name(payload)
    except Invalid as exc:
        return {"ok": False, "error": str(exc)}
    with db.engine().begin() as conn:
        label_log.rename_client(conn, info["client_id"], info["session_id"], name)
    info["name"] = name
    services.of(current_app).hub.renamed(info["client_id"], name)
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
        pose = pose_checks.validate_skeleton(payload)
    except Invalid:
        info["bad"] = info.get("bad", 0) + 1
        if info["bad"] > 20:
            disconnect()
        return
    services.of(current_app).hub.skeleton(info["client_id"], pose)
