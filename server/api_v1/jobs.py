"""Video jobs: POST /api/v1/jobs (a video) -> a job id; GET /api/v1/jobs/<id> (state, progress),
GET /api/v1/jobs/<id>/results?format=openpose|coco|csv|jsonl, DELETE /api/v1/jobs/<id>; progress
on the /jobs Socket.IO namespace (`job_progress`, to the job's owner). Jobs run one at a time in a
subprocess (poseio/video_job.py); their state is in the database, so a server restart resumes
the queued ones and starts the interrupted one again. Finished jobs and their files are deleted
POSECAST_JOB_RETENTION_DAYS after they end."""
from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import JSON, Column, DateTime, Integer, String, Table, delete, func, insert, select, update

from core.checks import Invalid
from core.clock import utcnow as _now
from poseio import formats
from poseio.images import BadImage

from .. import auth, db
from . import requests_in

jobs = Table(
    "video_jobs", db.metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(80), nullable=False),  # user:<id> or token:<id>: who may see it
    Column("state", String(16), nullable=False),  # queued, running, done, failed
    Column("source", String(255), nullable=False),
    Column("options", JSON, nullable=False),
    Column("frames_done", Integer, nullable=False, default=0),
    Column("frames_total", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", String(1000)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    # The server process running it (server/instances.py): in a cluster, only a dead process's
    # running job is queued again, and a queued job is claimed by one process only.
    Column("instance_id", String(32)),
)
bp = Blueprint("api_v1_jobs", __name__, url_prefix="/api/v1/jobs")
WAKE = "posecast.job_wake"  # app.extensions: the runner's threading.Event


def owner_of(user: dict) -> str:
    return f"token:{user['token_id']}" if user.get("token_id") else f"user:{user['id']}"


def folder(app, job_id: str) -> Path:
    return Path(app.instance_path) / "jobs" / job_id


def sniff_video(head: bytes) -> str | None:
    """The container from the first bytes: MP4/MOV (ftyp), Matroska/WebM, AVI; else None."""
    if head[4:8] == b"ftyp":
        return ".mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ".mkv"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return ".avi"
    return None


def as_json(row) -> dict:
    return {"id": row.id, "state": row.state, "source": row.source, "frames_done": row.frames_done,
            "frames_total": row.frames_total, "attempts": row.attempts, "error": row.error,
            "backbone": row.options["backbone"], "model": row.options["model"] and row.options["model"]["name"],
            "created_at": row.created_at.isoformat(), "finished_at": row.finished_at and row.finished_at.isoformat(),
            "results": f"/api/v1/jobs/{row.id}/results?format=jsonl" if row.state == "done" else None}


def _error(status: int, message: str, **headers):
    return jsonify(error=message), status, headers


bp.register_error_handler(413, lambda exc: _error(413, "the request body is larger than this route accepts"))


@bp.post("")
def create():
    cfg = current_app.config
    if request.mimetype != "multipart/form-data":
        return _error(415, "send the video as multipart/form-data, field `video`")
    try:
        requests_in.limit_body(cfg["JOB_MAX_BYTES"] + 65536, f"a video of {cfg['JOB_MAX_BYTES']:,} bytes")
        opts = requests_in.options()
    except BadImage as exc:
        return _error(exc.status, str(exc))
    except LookupError as exc:
        return _error(404, str(exc))
    problem = requests_in.model_problem(opts)
    if problem:
        return _error(422, problem)
    upload = request.files.get("video")
    if upload is None or set(request.files) != {"video"}:
        return _error(400, "send one file, as the field `video`")
    suffix = sniff_video(upload.stream.read(16))
    if suffix is None:
        return _error(415, "not a video: MP4/MOV, WebM/Matroska or AVI")
    user = auth.current_user()
    with db.engine().begin() as conn:
        queued = conn.execute(select(func.count()).select_from(jobs).where(jobs.c.state.in_(("queued", "running")))).scalar()
        if queued >= cfg["JOB_MAX_QUEUED"]:
            return _error(503, f"{queued} video jobs are waiting; try again later", **{"Retry-After": "60"})
        job_id = secrets.token_hex(16)
        where = folder(current_app, job_id)
        where.mkdir(parents=True)
        upload.stream.seek(0)
        upload.save(where / f"input{suffix}")
        options = {k: opts[k] for k in ("backbone", "max_people", "threshold", "model")}
        options["video"] = f"input{suffix}"
        name = (upload.filename or f"video{suffix}").replace("/", "_").replace("\\", "_")[-200:] or f"video{suffix}"
        conn.execute(insert(jobs).values(id=job_id, owner=owner_of(user), state="queued", source=name, options=options,
                                         frames_done=0, frames_total=0, attempts=0, created_at=_now()))
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    wake(current_app)
    return jsonify(as_json(row)), 202, {"Location": f"/api/v1/jobs/{job_id}"}


def _mine(job_id: str):
    user = auth.current_user()
    with db.engine().connect() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if row is None or (row.owner != owner_of(user) and user["role"] != "admin"):
        return None  # someone else's job is as absent as a missing one
    return row


@bp.get("")
def listing():
    user = auth.current_user()
    query = select(jobs).order_by(jobs.c.created_at.desc()).limit(200)
    if user["role"] != "admin":
        query = query.where(jobs.c.owner == owner_of(user))
    with db.engine().connect() as conn:
        return jsonify(jobs=[as_json(r) for r in conn.execute(query)])


@bp.get("/<job_id>")
def get(job_id: str):
    row = _mine(job_id) if len(job_id) == 32 else None
    return jsonify(as_json(row)) if row else _error(404, "no such job")


@bp.get("/<job_id>/results")
def results(job_id: str):
    row = _mine(job_id) if len(job_id) == 32 else None
    if row is None:
        return _error(404, "no such job")
    if row.state != "done":
        return _error(409, f"the job is {row.state}; results come when it is done")
    fmt = request.args.get("format", "jsonl")
    if fmt not in formats.FORMATS:
        raise Invalid(f"format must be one of {', '.join(formats.FORMATS)}")
    path = folder(current_app, job_id) / "poses.jsonl"
    if fmt == "jsonl":
        return Response(path.read_bytes(), mimetype="application/x-ndjson",
                        headers={"Content-Disposition": f'attachment; filename="{job_id}.jsonl"'})
    frames = (formats.Frame(index=f["frame"], name=f["source"], width=f["width"], height=f["height"],
                            people=f["people"], time_s=f["time_s"], video=True)
              for f in map(json.loads, path.open()))
    body, mimetype, name = formats.render(fmt, frames, backbone=row.options["backbone"])
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{job_id}-{name}"'})


@bp.delete("/<job_id>")
def remove(job_id: str):
    row = _mine(job_id) if len(job_id) == 32 else None
    if row is None:
        return _error(404, "no such job")
    if row.state == "running":
        return _error(409, "the job is running; delete it when it is done")
    with db.engine().begin() as conn:
        conn.execute(delete(jobs).where(jobs.c.id == job_id))
    shutil.rmtree(folder(current_app, job_id), ignore_errors=True)
    return "", 204


def wake(app) -> None:
    """Tell the runner (job_runner.py, when this process runs one) that a job is waiting."""
    event = app.extensions.get(WAKE)
    if event is not None:
        event.set()


def set_state(app, job_id: str, **values) -> None:
    with db.engine_of(app).begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))
