"""Training runs started from the trainer page: each in a subprocess (training/job.py), its
progress relayed to trainer pages over Socket.IO, its record kept in the database, and the
new model activated (and so pushed to every live page) when it finishes."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Integer, String, Table, insert, select, update

from . import db, registry, uploads
from .contract import IMPORT_PROGRESS, TRAIN_PROGRESS, TRAINER
from .datasets import LABEL, NAME, datasets, samples
from .errors import Invalid
from .sockets import socketio

runs = Table(
    "training_runs", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="SET NULL")),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("params", JSON, nullable=False),
    Column("counts", JSON),
    Column("metrics", JSON),
    Column("duration_s", Float),
    Column("model_id", Integer),
    Column("error", String(500)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

bp = Blueprint("training_runs", __name__, url_prefix="/api")


def _now():
    return datetime.now(timezone.utc)


def _row(r) -> dict:
    return {"id": r.id, "dataset_id": r.dataset_id, "status": r.status, "params": r.params, "counts": r.counts,
            "metrics": r.metrics, "duration_s": r.duration_s, "model_id": r.model_id, "error": r.error,
            "started_at": r.started_at.isoformat(), "finished_at": r.finished_at and r.finished_at.isoformat()}


@bp.post("/datasets/<int:dataset_id>/train")
def start(dataset_id: int):
    """Start training on a dataset: {features?: 'keypoints'|'tm', epochs?: 1..500, name?: str}."""
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise Invalid("expected a JSON object")
    features = body.get("features", "keypoints")
    epochs = body.get("epochs", 60)
    if features not in ("keypoints", "tm"):
        raise Invalid("features must be 'keypoints' or 'tm'")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or not 1 <= epochs <= 500:
        raise Invalid("epochs must be a whole number from 1 to 500")
    with db.engine().begin() as conn:
        ds = conn.execute(select(datasets).where(datasets.c.id == dataset_id)).first()
        if ds is None:
            return jsonify(error="no such dataset"), 404
        name = body.get("name", ds.name)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise Invalid("name must be 1-64 letters, digits, '.', '_' or '-'")
        counts = dict(conn.execute(select(samples.c.label, db.func.count()).where(samples.c.dataset_id == dataset_id)
                                   .group_by(samples.c.label)).all())
        if len(counts) < 2 or min(counts.values()) < 2:
            raise Invalid(f"need at least 2 classes with 2 samples each; have {counts or 'none'}")
        if conn.execute(select(runs.c.id).where(runs.c.status == "running")).first():
            return jsonify(error="a training run is in progress already"), 409
        params = {"features": features, "epochs": epochs, "name": name}
        run_id = conn.execute(insert(runs).values(dataset_id=dataset_id, status="running", params=params,
                                                  counts=counts, started_at=_now())).inserted_primary_key[0]
    models_dir = Path(current_app.config["MODELS_DIR"])
    out = models_dir / name / str(registry.next_version(models_dir / name))
    cmd = [sys.executable, "-m", "training.job", "--database-url", current_app.config["DATABASE_URL"],
           "--dataset-id", str(dataset_id), "--instance", current_app.instance_path, "--features", features,
           "--epochs", str(epochs), "--name", name, "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    socketio.start_background_task(_watch, current_app._get_current_object(), run_id, proc)
    return jsonify(id=run_id, status="running", params=params), 202


def _watch(app, run_id: int, proc: subprocess.Popen) -> None:
    """Relay the job's JSON lines to trainer pages; record the outcome; activate the new model.
    The outcome is acted on as soon as the job reports it: TensorFlow takes seconds to exit."""
    final = None
    for line in proc.stdout:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        socketio.emit(TRAIN_PROGRESS, {"run_id": run_id, **event}, namespace=TRAINER)
        if event.get("event") in ("done", "error"):
            final = event
            break
    if final is None:  # the job died without saying why: its stderr does
        proc.wait()
        lines = proc.stderr.read().strip().splitlines()
        final = {"event": "error", "message": lines[-1] if lines else f"training exited with {proc.returncode}"}
        socketio.emit(TRAIN_PROGRESS, {"run_id": run_id, **final}, namespace=TRAINER)
    with app.app_context():
        _record(app, run_id, final)
    proc.communicate()


def _record(app, run_id: int, final: dict) -> None:
    with db.engine().begin() as conn:
        if final["event"] != "done":
            conn.execute(update(runs).where(runs.c.id == run_id).values(
                status="failed", error=final["message"][:500], finished_at=_now()))
            app.logger.warning("training run %s failed: %s", run_id, final["message"])
            return
        registry.scan(app)
        out = Path(final["path"])
        model = conn.execute(select(registry.models.c.id).where(
            registry.models.c.name == out.parent.name, registry.models.c.version == int(out.name))).first()
        conn.execute(update(runs).where(runs.c.id == run_id).values(
            status="done", metrics=final["validation"], duration_s=final["duration_s"], counts=final["counts"],
            model_id=model and model.id, finished_at=_now()))
        if model:
            registry.activate_in(conn, model.id)
        app.logger.info("training run %s done: %s", run_id, out)


@bp.get("/runs")
def list_runs():
    with db.engine().connect() as conn:
        return jsonify(runs=[_row(r) for r in conn.execute(select(runs).order_by(runs.c.id.desc()))])


@bp.get("/runs/<int:run_id>")
def get_run(run_id: int):
    with db.engine().connect() as conn:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
    return jsonify(_row(row)) if row else (jsonify(error="no such run"), 404)


@socketio.on("connect", namespace=TRAINER)
def on_trainer_connect(auth=None):
    """A trainer page connects; from now on it receives `train_progress` for every run."""
    return True


@bp.post("/datasets/<int:dataset_id>/import")
def import_zip(dataset_id: int):
    """Upload a zip of class folders; the images are checked, extracted and imported by a
    subprocess that reports on /trainer as `import_progress`."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if request.content_length is None or request.content_length > limit:
        raise Invalid(f"uploads are limited to {limit // (1024 * 1024)} MB")
    upload = request.files.get("file")
    if upload is None:
        raise Invalid("send the zip as the multipart field 'file'")
    with db.engine().connect() as conn:
        if conn.execute(select(datasets.c.id).where(datasets.c.id == dataset_id)).first() is None:
            return jsonify(error="no such dataset"), 404
    work = Path(current_app.instance_path) / "uploads"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=work, suffix=".zip", delete=False) as tmp:
        upload.save(tmp)
    try:
        extracted = uploads.extract(Path(tmp.name), work)
    finally:
        Path(tmp.name).unlink(missing_ok=True)
    for label_dir in extracted.iterdir():
        if not LABEL.fullmatch(label_dir.name):
            shutil.rmtree(extracted)
            raise Invalid(f"class folder name {label_dir.name!r} is not a valid label")
    cmd = [sys.executable, "-m", "training.import_job", "--database-url", current_app.config["DATABASE_URL"],
           "--dataset-id", str(dataset_id), "--instance", current_app.instance_path, "--folder", str(extracted),
           "--weights", str(Path(current_app.config["ASSETS_DIR"]) / "pose" / "posenet.json")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    token = extracted.name
    socketio.start_background_task(_relay_import, token, proc, extracted)
    return jsonify(import_id=token, images=sum(1 for _ in extracted.glob("*/*"))), 202


def _relay_import(token: str, proc: subprocess.Popen, extracted: Path) -> None:
    final = None
    for line in proc.stdout:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        final = event if event.get("event") in ("done", "error") else final
        socketio.emit(IMPORT_PROGRESS, {"import_id": token, **event}, namespace=TRAINER)
    _, stderr = proc.communicate()
    if final is None:
        lines = stderr.strip().splitlines()
        socketio.emit(IMPORT_PROGRESS, {"import_id": token, "event": "error",
                                        "message": lines[-1] if lines else "import failed"}, namespace=TRAINER)
    shutil.rmtree(extracted, ignore_errors=True)
