"""The /dashboard namespace: operators' live view (see web/contract.json)."""
from flask import current_app, request
from flask_socketio import join_room, leave_room

from .. import auth
from ..contract import DASHBOARD, SNAPSHOT, WATCH
from ..sockets import socketio
from . import services
from .dashboard_hub import DASHBOARDS_ROOM, watch_room
from .pose_checks import CLIENT_ID


@socketio.on("connect", namespace=DASHBOARD)
def on_connect(auth_payload=None):
    """An operator's dashboard connects (refused for anyone else); it is sent `snapshot` at once,
    then `update` every tick while anything changes."""
    if not auth.socket_user_may("operator"):
        raise ConnectionRefusedError("the dashboard needs the operator role")
    join_room(DASHBOARDS_ROOM)
    socketio.emit(SNAPSHOT, services.of(current_app).hub.add_dashboard(request.sid), to=request.sid,
                  namespace=DASHBOARD, ignore_queue=True)  # connected here: no other process needs it


@socketio.on("disconnect", namespace=DASHBOARD)
def on_disconnect(*_):
    services.of(current_app).hub.remove_dashboard(request.sid)


@socketio.on(WATCH, namespace=DASHBOARD)
def on_watch(payload):
    """A dashboard opens a client's detail: {client_id: string | null}; it then gets that client's
    `skeleton` events. Acked {ok} or {ok: false, error}."""
    if not isinstance(payload, dict) or set(payload) != {"client_id"}:
        return {"ok": False, "error": "expected {client_id: string | null}"}
    client_id = payload["client_id"]
    if client_id is not None and (not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id)):
        return {"ok": False, "error": "client_id must be a client id or null"}
    previous = services.of(current_app).hub.watch(request.sid, client_id)
    if previous:
        leave_room(watch_room(previous))
    if client_id:
        join_room(watch_room(client_id))
    return {"ok": True}
