"""Client sessions and server processes (server/instances.py): at start a process closes the
sessions left open by processes that are gone, never those of a live one (another worker of a
cluster on the same database); the heartbeat's sweep closes those of the processes it names."""
import socket
import subprocess
import sys

from sqlalchemy import insert, select

from server import create_app, db, instances
from server.stream import label_log
from tests.helpers.auth import ADMIN_CONFIG


def process(tmp_path):
    """A server process's app on the shared database."""
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "MODELS_DIR": str(tmp_path / "models"),
                       "ASYNC_MODE": "threading", "TESTING": True, **ADMIN_CONFIG})


def open_session(app, client_id, instance_id):
    with app.app_context(), db.engine_of(app).begin() as conn:
        sid = label_log.open_session(conn, {"client_id": client_id, "name": None}, "127.0.0.1", "test")
        conn.execute(label_log.sessions.update().where(label_log.sessions.c.id == sid).values(instance_id=instance_id))


def still_open(app) -> set[str]:
    with db.engine_of(app).connect() as conn:
        return set(conn.execute(select(label_log.sessions.c.client_id)
                                .where(label_log.sessions.c.ended_at.is_(None))).scalars())


def test_a_starting_process_closes_only_the_sessions_of_processes_that_are_gone(tmp_path):
    live = process(tmp_path)
    with db.engine_of(live).begin() as conn:
        instances.beat(conn, live)
        gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                                  capture_output=True, text=True).stdout)
        conn.execute(insert(instances.server_instances).values(id="g" * 32, host=socket.gethostname(), pid=gone,
                                                               started_at=0, beat_at=0, dead_after_ms=3000))
    with live.app_context():  # a session opened by a live process records it
        open_session(live, "on-live", instances.current_id())
    open_session(live, "on-gone", "g" * 32)
    open_session(live, "from-before-ids", None)
    process(tmp_path)  # another worker starts on the same database
    assert still_open(live) == {"on-live"}
    with db.engine_of(live).begin() as conn:  # the sweep names the live one dead (silent elsewhere)
        assert label_log.close_orphan_sessions(conn, {live.extensions[instances.KEY]}) == 1
    assert still_open(live) == set()
