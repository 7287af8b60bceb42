"""Video job bookkeeping in-process: retention deletes jobs (and their files) that ended more than
POSECAST_JOB_RETENTION_DAYS ago and keeps the rest; DELETE removes one that is not running."""
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from core.clock import utcnow
from server import create_app, db, tokens
from server.api_v1 import job_runner, jobs
from server.auth import ROLES
from tests.helpers.auth import ADMIN_CONFIG


@pytest.fixture
def app(tmp_path):
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "MODELS_DIR": str(tmp_path / "models"),
                       "ASYNC_MODE": "threading", "TESTING": True, "JOB_RETENTION_DAYS": 7, **ADMIN_CONFIG})


def add_job(app, job_id, state, ended_days_ago=None, owner="token:1"):
    ended = None if ended_days_ago is None else utcnow() - timedelta(days=ended_days_ago)
    with db.engine_of(app).begin() as conn:
        conn.execute(insert(jobs.jobs).values(
            id=job_id, owner=owner, state=state, source="v.mp4", frames_done=0, frames_total=0, attempts=1,
            options={"backbone": "posenet", "max_people": 1, "threshold": 0.0, "model": None, "video": "input.mp4"},
            created_at=utcnow() - timedelta(days=30), finished_at=ended))
    where = jobs.folder(app, job_id)
    where.mkdir(parents=True)
    (where / "poses.jsonl").write_text("{}\n")
    return where


def test_retention_deletes_old_finished_jobs_and_their_files(app):
    old = add_job(app, "a" * 32, "done", ended_days_ago=8)
    recent = add_job(app, "b" * 32, "failed", ended_days_ago=6)
    waiting = add_job(app, "c" * 32, "queued")
    assert job_runner.purge(app) == 1
    with db.engine_of(app).connect() as conn:
        left = {r.id for r in conn.execute(select(jobs.jobs.c.id))}
    assert left == {"b" * 32, "c" * 32}
    assert not old.exists() and recent.exists() and waiting.exists()


def test_delete_a_job_but_not_a_running_one_nor_someone_elses(app):
    with db.engine_of(app).begin() as conn:
        token = tokens.create(conn, "owner", "viewer", ROLES)
        other = tokens.create(conn, "other", "viewer", ROLES)
    done = add_job(app, "d" * 32, "done", ended_days_ago=0)
    add_job(app, "e" * 32, "running")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.delete(f"/api/v1/jobs/{'d' * 32}", headers={"Authorization": f"Bearer {other}"}).status_code == 404
    assert client.delete(f"/api/v1/jobs/{'e' * 32}", headers=auth).status_code == 409
    assert client.get(f"/api/v1/jobs/{'e' * 32}/results", headers=auth).status_code == 409
    assert client.delete(f"/api/v1/jobs/{'d' * 32}", headers=auth).status_code == 204
    assert not done.exists() and client.get(f"/api/v1/jobs/{'d' * 32}", headers=auth).status_code == 404
