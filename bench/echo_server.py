"""The baseline for bench/ingest.py: a bare Flask-SocketIO server in eventlet mode that accepts
the same /pose `labels` batches, acknowledges each at once and forwards it to every dashboard,
with no validation, no database and no coalescing.

    python -m bench.echo_server PORT
"""
import sys
import warnings

warnings.filterwarnings("ignore", message=r"\s*eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode="eventlet")
clients = {}  # sid -> client id from the connect auth, as posecast keeps it


@app.get("/api/health")
def health():
    return {"status": "ok"}


@socketio.on("connect", namespace="/dashboard")
def dashboard_connect(auth=None):
    join_room("dashboards")


@socketio.on("connect", namespace="/pose")
def pose_connect(auth=None):
    clients[request.sid] = auth["client_id"]


@socketio.on("labels", namespace="/pose")
def labels(payload):
    events = payload["events"]
    last = events[-1]
    socketio.emit("update", {"clients": [{"client_id": clients.get(request.sid), "seq": last["seq"],
                                          "label": last["label"], "ts": last["ts"]}]},
                  to="dashboards", namespace="/dashboard")
    return {"ok": True, "stored": len(events), "duplicates": 0}


if __name__ == "__main__":
    socketio.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_output=False)
