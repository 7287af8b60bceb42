"""Runs the video jobs of jobs.py one at a time, in a background (green) thread started by
`posecast serve`: each in a `python -m poseio.video_job` subprocess whose progress lines update
the job's row and go to its owner on /jobs (`job_progress`). A job left `running` by a server
process that died is queued again (it starts over; its partial result is never served): at start,
and in a cluster when another process finds it dead (`requeue_dead`, the heartbeat's sweep); the
queued ones run in order, each claimed by one process only. Retention runs here hourly."""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
import time
from datetime import timedelta

from flask_socketio import join_room
from sqlalchemy import delete, select, update

from core.clock import utcnow as _now

from .. import auth, db, instances, tokens
from ..contract import JOB_PROGRESS, JOBS
from ..sockets import socketio
from .jobs import WAKE, folder, jobs, owner_of, set_state

log = logging.getLogger("posecast.jobs")


def start(app) -> None:
    with db.startup_lock(app), db.engine_of(app).begin() as conn:
        db.ensure_column(conn, jobs, "instance_id")
        restarted = requeue_orphans(conn)
    if restarted:
        log.warning("%d video job(s) interrupted by a restart are queued again", restarted)
    app.extensions[WAKE] = threading.Event()
    socketio.start_background_task(_loop, app)


def _requeue(conn, whose) -> int:
    return conn.execute(update(jobs).where(jobs.c.state == "running", whose)
                        .values(state="queued", instance_id=None)).rowcount


def requeue_orphans(conn) -> int:
    """At start: running jobs of no live server process go back to the queue (never a live one's)."""
    return _requeue(conn, instances.orphaned(conn, jobs.c.instance_id))


def requeue_dead(conn, dead: set[str]) -> int:
    """The jobs dead server processes were running go back to the queue (server/instances.py)."""
    restarted = _requeue(conn, jobs.c.instance_id.in_(dead))
    if restarted:
        log.warning("%d video job(s) of a server process that died are queued again", restarted)
    return restarted


def _claim(app):
    """The oldest queued job whose files this process can read, now running here; None if there is
    none."""
    for row in _queued(app):
        if folder(app, row.id).is_dir() and _take(app, row):  # else: uploaded on another machine
            return row
    return None


def _queued(app) -> list:
    with db.engine_of(app).connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.state == "queued").order_by(jobs.c.created_at).limit(20)).all()


def _take(app, row) -> bool:
    """Mark a queued job running here. Conditional: of processes that saw it queued, one takes it."""
    with db.engine_of(app).begin() as conn:
        return conn.execute(update(jobs).where(jobs.c.id == row.id, jobs.c.state == "queued").values(
            state="running", instance_id=app.extensions[instances.KEY], attempts=row.attempts + 1,
            error=None, frames_done=0)).rowcount == 1


def purge(app) -> int:
    """Delete jobs that ended more than POSECAST_JOB_RETENTION_DAYS ago, with their files."""
    days = app.config["JOB_RETENTION_DAYS"]
    if days <= 0:
        return 0
    cutoff = _now() - timedelta(days=days)
    with db.engine_of(app).begin() as conn:
        old = [r.id for r in conn.execute(select(jobs.c.id).where(jobs.c.finished_at < cutoff))]
        if old:
            conn.execute(delete(jobs).where(jobs.c.id.in_(old)))
    for job_id in old:
        shutil.rmtree(folder(app, job_id), ignore_errors=True)
    return len(old)


def _loop(app) -> None:
    purged_at = 0.0
    while True:
        try:
            if time.monotonic() - purged_at > 3600:
                purged_at = time.monotonic()
                purge(app)
            row = _claim(app)
            if row is None:
                app.extensions[WAKE].wait(5)
                app.extensions[WAKE].clear()
                continue
            _run(app, row)
        except Exception:  # the runner must outlive any one job's surprise
            log.exception("video job runner")
            time.sleep(1)


def _emit(row, event: dict) -> None:
    payload = {"job_id": row.id, **event}
    socketio.emit(JOB_PROGRESS, payload, namespace=JOBS, to=row.owner)
    socketio.emit(JOB_PROGRESS, payload, namespace=JOBS, to="admins")


def _run(app, row) -> None:
    where = folder(app, row.id)  # claimed: running here since _claim
    _emit(row, {"state": "running", "done": 0, "total": row.frames_total})
    spec = {**row.options, "video": str(where / row.options["video"]), "out": str(where), "name": row.source,
            "executor": app.config["INFER_EXECUTOR"], "attempt": row.attempts + 1}
    with open(where / "job.log", "ab") as errors:
        proc = subprocess.Popen([sys.executable, "-m", "poseio.video_job", json.dumps(spec)],
                                stdout=subprocess.PIPE, stderr=errors, text=True)
        final = None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a library's print; the protocol is JSON lines
            if event.get("event") == "progress":
                set_state(app, row.id, frames_done=int(event["done"]), frames_total=int(event["total"]))
                _emit(row, {"state": "running", "done": event["done"], "total": event["total"]})
            elif event.get("event") in ("done", "error"):
                final = event
        proc.wait()
    if final and final["event"] == "done":
        set_state(app, row.id, state="done", frames_done=final["frames"], frames_total=final["frames"], finished_at=_now())
        _emit(row, {"state": "done", "done": final["frames"], "total": final["frames"]})
        return
    message = (final or {}).get("message") or f"the job's process exited with {proc.returncode} (see job.log)"
    set_state(app, row.id, state="failed", error=str(message)[:1000], finished_at=_now())
    _emit(row, {"state": "failed", "error": message})


@socketio.on("connect", namespace=JOBS)
def on_jobs_connect(auth_payload=None):
    """A program (auth {token}) or a logged-in page follows its own jobs; admins follow all."""
    if isinstance(auth_payload, dict) and isinstance(auth_payload.get("token"), str):
        with db.engine().connect() as conn:
            user = tokens.principal(conn, auth_payload["token"])
    else:
        user = auth.current_user()
    if user is None:
        raise ConnectionRefusedError("log in, or connect with auth {token: <API token>}")
    join_room(owner_of(user))
    if user["role"] == "admin":
        join_room("admins")
    return True
