"""The /live Socket.IO namespace: open live pages (see web/contract.json)."""
from flask import current_app, request
from flask_socketio import ConnectionRefusedError  # noqa: A004 (its message reaches the client)

from core.checks import Invalid

from .. import auth, db, devices
from ..contract import LIVE
from ..sockets import socketio
from .registry import announce


@socketio.on("connect", namespace=LIVE)
def on_connect(auth_payload=None):
    """A live page (or edge node) connects; it is sent `model_activated` (or `model_cleared`) at
    once. Refused when POSECAST_LIVE_LOGIN is on and it is neither logged in nor an edge node with
    a valid device token."""
    if not auth.socket_user_may("viewer" if current_app.config["LIVE_LOGIN"] else None) and not _device(auth_payload):
        raise ConnectionRefusedError("log in first")
    with db.engine().connect() as conn:
        announce(conn, to=request.sid)


def _device(auth_payload) -> bool:
    """An edge node's device token stands in for a login (POSECAST_LIVE_LOGIN), as on /pose."""
    token = auth_payload.get("token") if isinstance(auth_payload, dict) else None
    if not isinstance(token, str) or not 16 <= len(token) <= 128:
        return False
    try:
        with db.engine().begin() as conn:
            devices.verify(conn, token)
    except Invalid:
        return False
    return True
