"""The /live Socket.IO namespace: open live pages (see web/contract.json)."""
from flask import request

from . import db
from .contract import LIVE
from .registry import announce
from .sockets import socketio


@socketio.on("connect", namespace=LIVE)
def on_connect(auth=None):
    """A live page connects; it is sent `model_activated` (or `model_cleared`) at once."""
    with db.engine().connect() as conn:
        announce(conn, to=request.sid)
