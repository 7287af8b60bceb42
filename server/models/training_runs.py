"""Training runs started from the trainer page: each in a subprocess (server/models/train_job.py), its
progress relayed to trainer pages over Socket.IO, its record kept in the database, and the
new model activated (and so pushed to every live page) when it finishes."""
from __future__ import annotations

import subprocess
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Integer, String, Table, insert, select, update

from core.checks import NAME, Invalid
from core.features import DEFAULT_KIND, KINDS, default_features, ensemble_problem, recorded_problem
from core.samples import check_label
from core.tables import BACKBONES
from core.clock import utcnow as _now

from .. import auth, db, instances, jobs
from ..contract import TRAIN_PROGRESS, TRAINER
from ..samples.datasets import backbone_of, datasets, samples, without_world
from ..sockets import socketio
from . import registry

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
    # The server process watching the run (server/instances.py): when it dies, nobody records the
    # run's end, so it is marked failed (at start, or by another process's heartbeat sweep) instead
    # of blocking every later run as "in progress".
    Column("instance_id", String(32)),
)

bp = Blueprint("training_runs", __name__, url_prefix="/api")


def _row(r) -> dict:
    return {"id": r.id, "dataset_id": r.dataset_id, "status": r.status, "params": r.params, "counts": r.counts,
            "metrics": r.metrics, "duration_s": r.duration_s, "model_id": r.model_id, "error": r.error,
            "started_at": r.started_at.isoformat(), "finished_at": r.finished_at and r.finished_at.isoformat()}


@bp.post("/datasets/<int:dataset_id>/train")
def start(dataset_id: int):
    """Start training on a dataset: {features?: 'pose'|'keypoints'|'world'|'tm' (world: BlazePose
    samples that all keep their world landmarks; default: world where it can be had and `ensemble`
    is a multiple of 3, as `posecast train` chooses, else keypoints), epochs?: 1..500, ensemble?:
    1..10 (models trained with other seeds and merged into one, keypoint kinds only; world in
    threes, one per view; the page's "Best accuracy" is 3 of 120 epochs), name?: str, chiral?:
    [class, ...] (classes whose mirror image is another pose: never mirrored), backbone?: the one
    its samples were recorded with (checked; a dataset that mixes backbones is refused)}."""
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise Invalid("expected a JSON object")
    features = body.get("features")
    chiral = body.get("chiral", [])
    epochs = body.get("epochs", 60)
    ensemble = body.get("ensemble", 1)
    backbone = body.get("backbone")
    if features is not None and features not in KINDS:
        raise Invalid(f"features must be one of {', '.join(KINDS)}")
    if backbone is not None and (not isinstance(backbone, str) or backbone not in BACKBONES):
        raise Invalid(f"backbone must be one of {', '.join(BACKBONES)}")
    if not isinstance(chiral, list) or len(chiral) > 100 or not all(isinstance(c, str) for c in chiral):
        raise Invalid("chiral must be a list of class labels")
    chiral = [check_label(c, "chiral class") for c in chiral]
    if not isinstance(epochs, int) or isinstance(epochs, bool) or not 1 <= epochs <= 500:
        raise Invalid("epochs must be a whole number from 1 to 500")
    # a default chosen below (default_features) keeps to this rule for its own kind
    problem = ensemble_problem(features or DEFAULT_KIND, ensemble)
    if problem:
        raise Invalid(problem)
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
        backbone = backbone_of(conn, dataset_id, backbone)
        lacking, total = without_world(conn, dataset_id)
        features = features or default_features(backbone, ensemble, world_landmarks=not lacking)
        problem = recorded_problem(features, backbone, lacking, total)  # the ensemble was checked with the body
        if problem:
            raise Invalid(problem)
        if conn.execute(select(runs.c.id).where(runs.c.status == "running")).first():
            return jsonify(error="a training run is in progress already"), 409
        params = {"features": features, "backbone": backbone, "epochs": epochs, "ensemble": ensemble, "name": name,
                  **({"chiral": chiral} if chiral else {})}
        run_id = conn.execute(insert(runs).values(dataset_id=dataset_id, status="running", params=params,
                                                  counts=counts, started_at=_now(),
                                                  instance_id=instances.current_id())).inserted_primary_key[0]
    models_dir = Path(current_app.config["MODELS_DIR"])
    out = models_dir / name / str(registry.next_version(models_dir / name))
    proc = jobs.spawn("server.models.train_job", "--database-url", current_app.config["DATABASE_URL"],
                      "--dataset-id", str(dataset_id), "--instance", current_app.instance_path,
                      "--features", features, "--backbone", backbone, "--epochs", str(epochs), "--ensemble", str(ensemble),
                      "--name", name,
                      "--out", str(out),
                      *(["--chiral", *chiral] if chiral else []))
    socketio.start_background_task(_watch, current_app._get_current_object(), run_id, proc)
    return jsonify(id=run_id, status="running", params=params), 202


def start(app) -> None:
    """Runs whose server process is gone (a crash, a restart) end as failed."""
    with db.engine_of(app).begin() as conn:
        db.ensure_column(conn, runs, "instance_id")
        _fail(conn, instances.orphaned(conn, runs.c.instance_id))


def fail_dead(conn, dead: set[str]) -> int:
    """The heartbeat's sweep: runs watched by dead server processes end as failed."""
    return _fail(conn, runs.c.instance_id.in_(dead))


def _fail(conn, whose) -> int:
    return conn.execute(update(runs).where(runs.c.status == "running", whose).values(
        status="failed", error="the server process running it stopped", finished_at=_now())).rowcount


def _watch(app, run_id: int, proc: subprocess.Popen) -> None:
    """Relay the run's progress to trainer pages, then record it and activate the new model."""
    final = jobs.relay(proc, TRAIN_PROGRESS, {"run_id": run_id})
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
            status="done", metrics={**final["validation"], "mistakes": final.get("mistakes", [])},
            duration_s=final["duration_s"], counts=final["counts"],
            model_id=model and model.id, finished_at=_now()))
        if model:
            registry.activate_in(conn, model.id)
        app.logger.info("training run %s done: %s", run_id, out)
    if model:
        registry.announce_active()


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
def on_trainer_connect(auth_payload=None):
    """A trainer page connects (refused unless logged in as trainer or admin); from now on it
    receives `train_progress` and `import_progress`."""
    if not auth.socket_user_may("trainer"):
        raise ConnectionRefusedError("the trainer needs the trainer role")
