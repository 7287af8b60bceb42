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

from .. import auth, db, devices, secret_tokens
from ..contract import LABELS, POSE, REFUSED, SET_NAME, SKELETON
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
    _connections()[request.sid] = {**client, "session_id": session_id, "kind": kind, "device": device,
                                   "token_sha256": secret_tokens.digest(token) if device else None}
    services.of(current_app).hub.connected(client["client_id"], client["name"], session_id, kind=kind)


def token_sent(auth_payload) -> bool:
    return isinstance(auth_payload, dict) and auth_payload.get("token") is not None


def refuse_revoked(app, conn) -> None:
    """At each heartbeat (instances.py): an edge node of this process whose device token was revoked
    or replaced since it connected is told why (`refused`) and its batches are refused from then on
    (retry: they stay in its outbox); still connected at the next heartbeat, it is cut off."""
    held = {sid: info for sid, info in list(services.of(app).connections.items()) if info.get("device")}
    valid = devices.valid_digests(conn, {info["token_sha256"] for info in held.values()})
    for sid, info in held.items():
        if info["token_sha256"] in valid:
            continue
        if info.get("refused"):  # told a heartbeat ago: close its connection (every namespace)
            socketio.server.eio.disconnect(socketio.server.manager.eio_sid_from_sid(sid, POSE))
            continue
        info["refused"] = devices.revoked_message(info["device"])
        app.logger.warning("edge node %r: device token revoked; refusing it", info["device"])
        socketio.emit(REFUSED, {"message": info["refused"]}, to=sid, namespace=POSE)


@socketio.on("disconnect", namespace=POSE)
def on_disconnect(*_):
    """The page went away: its session ends and dashboards show it disconnected."""
    conn_info = _connections().pop(request.sid, None)
    if conn_info is None:
        return
    with db.engine().begin() as conn:
        label_log.close_session(conn, conn_info["session_id"])
    services.of(current_app).hub.disconnected(conn_info["client_id"], conn_info["session_id"])


def install(server) -> None:
    """Register `labels` straight on python-socketio's server (app.py, after socketio.init_app).
    Flask-SocketIO would build a request context for every batch (URL routing, the session
    cookie's serializer) only for `request.sid`: at 1,000 connections that cost as much as the
    handler itself (py-spy under bench/ingest.py). The packet guard still checks every packet."""

    def on_labels(sid, payload):
        """A live page sends {events: [...]}; acked {ok, stored, duplicates} after the commit, or
        {ok: false, error, retry} (retry true: keep the batch and send it again later)."""
        environ = server.get_environ(sid, POSE)
        if not environ:
            return {"ok": False, "error": "not connected", "retry": True}
        with environ["flask.app"].app_context():
            return store_labels(sid, payload)

    server.on(LABELS, on_labels, namespace=POSE)


def store_labels(sid: str, payload) -> dict:
    """Check, rate limit and commit one batch of connection `sid`; the acknowledgement."""
    info = _connections().get(sid)
    if info is None:
        return {"ok": False, "error": "not connected", "retry": True}
    if info.get("refused"):
        return {"ok": False, "error": info["refused"], "retry": True}
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
        stored = services.of(current_app).writer.write(rows)
    except Exception as exc:
        return {"ok": False, "error": f"not stored: {exc.__class__.__name__}", "retry": True}
    return {"ok": True, "stored": stored, "duplicates": len(rows) - stored}


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
