"""Training runs whose server process died: at the next start (or by another process's heartbeat
sweep) they end as failed, so they no longer block every later run as "in progress"; a run
watched by a live process (another worker of a cluster) is left alone."""
import socket
import subprocess
import sys

from sqlalchemy import insert, select

from core.clock import utcnow
from server import create_app, db, instances
from server.models import training_runs
from tests.helpers.auth import ADMIN_CONFIG


def process(tmp_path):
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "MODELS_DIR": str(tmp_path / "models"),
                       "ASYNC_MODE": "threading", "TESTING": True, **ADMIN_CONFIG})


def test_runs_of_a_gone_process_fail_and_a_live_ones_keep_running(tmp_path):
    live = process(tmp_path)
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    with db.engine_of(live).begin() as conn:
        instances.beat(conn, live)
        conn.execute(insert(instances.server_instances).values(id="g" * 32, host=socket.gethostname(), pid=gone,
                                                               started_at=0, beat_at=0, dead_after_ms=3000))
        for holder in (live.extensions[instances.KEY], "g" * 32):
            conn.execute(insert(training_runs.runs).values(status="running", params={}, started_at=utcnow(),
                                                           instance_id=holder))
    process(tmp_path)  # another process starts on the same database
    with db.engine_of(live).connect() as conn:
        rows = conn.execute(select(training_runs.runs.c.instance_id, training_runs.runs.c.status,
                                   training_runs.runs.c.error)).all()
    status = {r.instance_id: r.status for r in rows}
    assert status == {live.extensions[instances.KEY]: "running", "g" * 32: "failed"}
    assert "stopped" in next(r.error for r in rows if r.status == "failed")
    with db.engine_of(live).begin() as conn:
        assert training_runs.fail_dead(conn, {live.extensions[instances.KEY]}) == 1
