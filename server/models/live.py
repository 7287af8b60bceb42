"""The /live Socket.IO namespace: open live pages (see web/contract.json)."""
from flask import current_app, request

from .. import auth, db
from ..contract import LIVE
from ..sockets import socketio
from .registry import announce


@socketio.on("connect", namespace=LIVE)
def on_connect(auth_payload=None):
    """A live page connects; it is sent `model_activated` (or `model_cleared`) at once. Refused
    when POSECAST_LIVE_LOGIN is on and the page is not logged in."""
    if not auth.socket_user_may("viewer" if current_app.config["LIVE_LOGIN"] else None):
        raise ConnectionRefusedError("log in first")
    with db.engine().connect() as conn:
        announce(conn, to=request.sid)
