"""Model registry: the exported classifiers in MODELS_DIR, which one is active, and the REST API to
list, activate, roll back and delete them. Activation is pushed to every open live page."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import (JSON, Column, DateTime, ForeignKey, Integer, String, Table, UniqueConstraint,
                        delete, insert, select)

from core.checks import NAME
from core.clock import utcnow as _now
from core.tables import BACKBONES

from .. import db
from ..contract import LIVE, MODEL_ACTIVATED, MODEL_CLEARED
from ..sockets import socketio

models = Table(
    "models", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("features", String(16), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("name", "version"),
)
activations = Table(
    "model_activations", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

bp = Blueprint("registry", __name__, url_prefix="/api/models")


def read_export(folder: Path) -> dict | None:
    """What an export folder holds: posecast's own metadata, or a Teachable Machine export's."""
    if not (folder / "model.json").exists():
        return None
    if (folder / "posecast.json").exists():
        meta = json.loads((folder / "posecast.json").read_text())
        return {"features": meta["features"], "labels": meta["labels"], "meta": meta}
    if (folder / "metadata.json").exists():
        meta = json.loads((folder / "metadata.json").read_text())
        if meta.get("packageName") == "@teachablemachine/pose":
            return {"features": "tm", "labels": meta["labels"], "meta": meta}
    return None


def scan(app) -> int:
    """Register every export in MODELS_DIR/<name>/<version>/ that is not registered yet."""
    root = Path(app.config["MODELS_DIR"])
    added = 0
    with db.engine_of(app).begin() as conn:
        known = {(r.name, r.version) for r in conn.execute(select(models.c.name, models.c.version))}
        for folder in sorted(root.glob("*/*")):
            name, version = folder.parent.name, folder.name
            if not (NAME.fullmatch(name) and version.isdigit()) or (name, int(version)) in known:
                continue
            found = read_export(folder)
            if found:
                conn.execute(insert(models).values(name=name, version=int(version), created_at=_now(), **found))
                added += 1
    return added


def start(app) -> None:
    """Register every export on disk; activate the default model when none has been yet."""
    scan(app)
    default = app.config.get("DEFAULT_MODEL")
    with db.engine_of(app).begin() as conn:
        if default and conn.execute(select(activations.c.id).limit(1)).first() is None:
            name, _, version = default.partition("/")  # NAME (its newest version) or NAME/VERSION
            query = select(models.c.id).where(models.c.name == name)
            if version:
                query = query.where(models.c.version == int(version))
            row = conn.execute(query.order_by(models.c.version.desc())).first()
            if row:
                conn.execute(insert(activations).values(model_id=row.id, at=_now()))


def backbone_of(features: str, meta: dict) -> str:
    """The backbone whose keypoints a model was trained on: posecast.json records it; a Teachable
    Machine model (and an export from before it was recorded) ran on PoseNet."""
    backbone = meta.get("backbone") if features != "tm" else "posenet"
    return backbone if backbone in BACKBONES else "posenet"


def as_json(row) -> dict:
    return {"id": row.id, "name": row.name, "version": row.version, "features": row.features,
            "labels": row.labels, "url": f"/models/{row.name}/{row.version}/model.json",
            "normalisation": row.meta.get("normalisation"), "metrics": row.meta.get("metrics"),
            "threshold": (row.meta.get("rejection") or {}).get("threshold"),
            "backbone": backbone_of(row.features, row.meta), "training": row.meta.get("training"),
            "created_at": row.created_at.isoformat()}


def active_model(conn):
    return conn.execute(select(models).join(activations, activations.c.model_id == models.c.id)
                        .order_by(activations.c.id.desc()).limit(1)).first()


def announce(conn, to=None) -> None:
    """Tell live pages (all, or the one sid `to`) which model to run."""
    row = active_model(conn)
    if row:
        socketio.emit(MODEL_ACTIVATED, as_json(row), namespace=LIVE, to=to)
    else:
        socketio.emit(MODEL_CLEARED, {}, namespace=LIVE, to=to)


def _error(status: int, message: str):
    return jsonify(error=message), status


@bp.get("")
def list_models():
    with db.engine().connect() as conn:
        active = active_model(conn)
        rows = conn.execute(select(models).order_by(models.c.name, models.c.version)).all()
    return jsonify(models=[{**as_json(r), "active": bool(active and r.id == active.id)} for r in rows])


@bp.post("/scan")
def rescan():
    """Register exports written by `posecast train` while the server runs."""
    added = scan(current_app)
    return jsonify(added=added)


@bp.get("/active")
def get_active():
    with db.engine().connect() as conn:
        row = active_model(conn)
    return jsonify(as_json(row)) if row else _error(404, "no model is active")


def activate_in(conn, model_id: int) -> None:
    """Record an activation; announce_active() tells the pages once the transaction has committed
    (told before, a page connecting meanwhile, here or on another worker, could read the old one
    and never hear of the new)."""
    conn.execute(insert(activations).values(model_id=model_id, at=_now()))


def announce_active() -> None:
    with db.engine().connect() as conn:
        announce(conn)


def next_version(folder: Path) -> int:
    versions = [int(p.name) for p in folder.glob("*") if p.is_dir() and p.name.isdigit()]
    return max(versions, default=0) + 1


@bp.post("/<int:model_id>/activate")
def activate(model_id: int):
    with db.engine().begin() as conn:
        if conn.execute(select(models.c.id).where(models.c.id == model_id)).first() is None:
            return _error(404, f"no model with id {model_id}")
        activate_in(conn, model_id)
        body = as_json(active_model(conn))
    announce_active()
    return jsonify(body)


@bp.post("/rollback")
def rollback():
    """Re-activate the model that was active before the current one."""
    with db.engine().begin() as conn:
        history = conn.execute(select(activations.c.model_id).order_by(activations.c.id.desc())).scalars().all()
        previous = next((m for m in history[1:] if m != history[0]), None) if history else None
        if previous is None:
            return _error(409, "there is no earlier model to roll back to")
        activate_in(conn, previous)
        body = as_json(active_model(conn))
    announce_active()
    return jsonify(body)


@bp.delete("/<int:model_id>")
def remove(model_id: int):
    with db.engine().begin() as conn:
        row = conn.execute(select(models).where(models.c.id == model_id)).first()
        if row is None:
            return _error(404, f"no model with id {model_id}")
        active = active_model(conn)
        if active and active.id == model_id:
            return _error(409, "the active model cannot be deleted: activate another first")
        conn.execute(delete(activations).where(activations.c.model_id == model_id))
        conn.execute(delete(models).where(models.c.id == model_id))
    folder = Path(current_app.config["MODELS_DIR"]) / row.name
    shutil.rmtree(folder / str(row.version), ignore_errors=True)
    try:
        folder.rmdir()  # the model's last version: no empty folder is left behind
    except OSError:
        pass  # other versions remain
    return "", 204
