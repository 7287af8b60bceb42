"""server/instances.py on its own: a beat records the process; silence past its own dead window
(DEAD_AFTER beats) makes a process dead on any host; a gone pid makes it dead on this host."""
import socket

from sqlalchemy import insert

from core.clock import now_ms
from server import db, instances


def test_a_process_is_dead_when_silent_past_its_window_or_its_pid_is_gone(app):
    now = now_ms()
    with db.engine_of(app).begin() as conn:
        instances.beat(conn, app, now)
        me = app.extensions[instances.KEY]
        window = instances.DEAD_AFTER * app.config["HEARTBEAT_S"] * 1000
        conn.execute(insert(instances.server_instances), [
            {"id": "far" + "0" * 29, "host": "elsewhere", "pid": 1, "started_at": 0, "beat_at": now - 11_000,
             "dead_after_ms": 10_000},  # another machine, silent past its window
            {"id": "near" + "0" * 28, "host": "elsewhere", "pid": 1, "started_at": 0, "beat_at": now - 9_000,
             "dead_after_ms": 10_000},  # silent, but within its window
            {"id": "gone" + "0" * 28, "host": socket.gethostname(), "pid": 2 ** 22 + 1,
             "started_at": 0, "beat_at": now, "dead_after_ms": 10_000}])  # beat just now, but no such pid
        assert instances.silent(conn, now) == {"far" + "0" * 29}
        assert instances.silent(conn, now + window + 1) >= {me, "near" + "0" * 28}
        assert instances.dead_here(conn) == {"gone" + "0" * 28}
