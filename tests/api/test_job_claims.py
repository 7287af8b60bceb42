"""Video jobs with several server processes on one database (cluster mode): a queued job is
claimed by one process only, and a process starting (or sweeping the dead) queues again only the
running jobs of processes that are gone, never a live process's."""
import socket
import subprocess
import sys

from sqlalchemy import select, update

from server import create_app, db, instances
from server.api_v1 import job_runner, jobs
from tests.api.test_job_retention import add_job
from tests.helpers.auth import ADMIN_CONFIG


def process(tmp_path):
    """Another server process's app on the same database and instance folder."""
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "MODELS_DIR": str(tmp_path / "models"),
                       "ASYNC_MODE": "threading", "TESTING": True, **ADMIN_CONFIG})


def state_of(app, job_id):
    with db.engine_of(app).connect() as conn:
        return conn.execute(select(jobs.jobs.c.state, jobs.jobs.c.instance_id).where(jobs.jobs.c.id == job_id)).one()


def test_a_queued_job_is_claimed_by_one_process_only(tmp_path):
    first, second = process(tmp_path), process(tmp_path)
    add_job(first, "q" * 32, "queued")
    seen = [job_runner._queued(app) for app in (first, second)]  # both see it queued ...
    assert [[r.id for r in rows] for rows in seen] == [["q" * 32]] * 2
    assert [job_runner._take(app, rows[0]) for app, rows in zip((first, second), seen)] == [True, False]  # ... one takes it
    assert tuple(state_of(first, "q" * 32)) == ("running", first.extensions[instances.KEY])
    assert job_runner._claim(second) is None and job_runner._claim(first) is None


def test_only_a_dead_processs_running_job_is_queued_again(tmp_path):
    live, restarting = process(tmp_path), process(tmp_path)
    with db.engine_of(live).begin() as conn:
        instances.beat(conn, live)
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout.strip()
    with db.engine_of(live).begin() as conn:  # a process of this host that has exited since
        conn.execute(instances.server_instances.insert().values(id="d" * 32, host=socket.gethostname(),
                                                                pid=int(dead_pid), started_at=0, beat_at=0,
                                                                dead_after_ms=3000))
    for job_id, holder in (("l" * 32, live.extensions[instances.KEY]), ("d" * 32, "d" * 32), ("o" * 32, None)):
        add_job(live, job_id, "running")
        with db.engine_of(live).begin() as conn:
            conn.execute(update(jobs.jobs).where(jobs.jobs.c.id == job_id).values(instance_id=holder))
    with db.engine_of(restarting).begin() as conn:
        assert job_runner.requeue_orphans(conn) == 2
    assert state_of(live, "l" * 32).state == "running"
    assert state_of(live, "d" * 32).state == state_of(live, "o" * 32).state == "queued"
    # The heartbeat's sweep: the live process found silent by another is handed over too.
    with db.engine_of(restarting).begin() as conn:
        assert job_runner.requeue_dead(conn, {live.extensions[instances.KEY]}) == 1
    assert state_of(live, "l" * 32).state == "queued"
