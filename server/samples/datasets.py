"""Datasets of labelled pose samples recorded or uploaded by trainers, and their REST API.

A sample is validated in full before anything is stored, and stored in one transaction with its
files written first under temporary names, so a bad or interrupted upload leaves nothing behind.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import (JSON, Column, DateTime, ForeignKey, Integer, String, Table, delete, func, insert,
                        select, update)
from sqlalchemy.exc import IntegrityError

from core.checks import NAME, Invalid, fields
from core.clock import utcnow
from core.samples import check_label, recorded_backbone, validate_sample  # noqa: F401 (validate_sample re-exported)

from .. import db


datasets = Table(
    "datasets", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
samples = Table(
    "samples", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("label", String(64), nullable=False),
    Column("backbone", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("keypoints", JSON, nullable=False),  # [{name, x, y, score}] in source pixels
    Column("normalised", JSON, nullable=False),  # training.features.keypoint_vector of the COCO-17 subset
    # BlazePose's world landmarks, [[x, y, z], ...] in metres, one per keypoint (the page's
    # keypoints3D): what `world` models train on. NULL for other backbones and older samples.
    Column("world", JSON(none_as_null=True)),
    Column("has_tm", Integer, nullable=False, default=0),
    Column("has_thumbnail", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

bp = Blueprint("datasets", __name__, url_prefix="/api")


def _not_found(what):
    return jsonify(error=f"no such {what}"), 404


def folder(dataset_id: int, instance: str | None = None) -> Path:
    return Path(instance or current_app.instance_path) / "samples" / str(dataset_id)


def _summary(conn, row) -> dict:
    counts = dict(conn.execute(select(samples.c.label, func.count()).where(samples.c.dataset_id == row.id)
                               .group_by(samples.c.label)).all())
    return {"id": row.id, "name": row.name, "counts": counts, "created_at": row.created_at.isoformat()}


@bp.post("/datasets")
def create_dataset():
    name = fields(request.get_json(silent=True), ("name",)).get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise Invalid("name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    try:
        with db.engine().begin() as conn:
            new_id = conn.execute(insert(datasets).values(name=name, created_at=utcnow())).inserted_primary_key[0]
            return jsonify(_summary(conn, conn.execute(select(datasets).where(datasets.c.id == new_id)).one())), 201
    except IntegrityError:
        return jsonify(error=f"a dataset named {name!r} exists already"), 409


@bp.get("/datasets")
def list_datasets():
    with db.engine().connect() as conn:
        return jsonify(datasets=[_summary(conn, r) for r in conn.execute(select(datasets).order_by(datasets.c.id))])


@bp.get("/datasets/<int:dataset_id>")
def get_dataset(dataset_id: int):
    with db.engine().connect() as conn:
        row = conn.execute(select(datasets).where(datasets.c.id == dataset_id)).first()
        if row is None:
            return _not_found("dataset")
        rows = conn.execute(select(samples.c.id, samples.c.label, samples.c.backbone, samples.c.has_tm,
                                   samples.c.has_thumbnail, samples.c.world.is_not(None).label("has_world"))
                            .where(samples.c.dataset_id == dataset_id).order_by(samples.c.id)).all()
        return jsonify({**_summary(conn, row), "samples": [
            {"id": r.id, "label": r.label, "backbone": r.backbone, "tm": bool(r.has_tm), "world": bool(r.has_world),
             "thumbnail": f"/api/samples/{r.id}/thumbnail" if r.has_thumbnail else None} for r in rows]})


def store_samples(conn, dataset_id: int, clean: list[dict], target: Path) -> list[int]:
    """Insert validated samples and write their files inside the caller's transaction. Files go
    in under temporary names first; if anything fails they are removed and the transaction rolls
    back, so nothing is half-stored."""
    written: list[Path] = []
    ids = []
    try:
        for sample in clean:
            sample_id = conn.execute(insert(samples).values(
                dataset_id=dataset_id, label=sample["label"], backbone=sample["backbone"], width=sample["width"],
                height=sample["height"], keypoints=sample["keypoints"], normalised=sample["normalised"],
                world=sample.get("world"),
                has_tm=int(sample["tm"] is not None), has_thumbnail=int(sample["thumbnail"] is not None),
                created_at=utcnow())).inserted_primary_key[0]
            target.mkdir(parents=True, exist_ok=True)
            for suffix, data in ((".f32", sample["tm"]), (".jpg", sample["thumbnail"])):
                if data is not None:
                    path = target / f"{sample_id}{suffix}"
                    tmp = path.with_suffix(suffix + ".partial")
                    tmp.write_bytes(data.astype("<f4").tobytes() if isinstance(data, np.ndarray) else data)
                    tmp.rename(path)
                    written.append(path)
            ids.append(sample_id)
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return ids


@bp.post("/datasets/<int:dataset_id>/samples")
def add_sample(dataset_id: int):
    if request.content_length and request.content_length > current_app.config["SAMPLE_MAX_BYTES"]:
        raise Invalid(f"sample larger than {current_app.config['SAMPLE_MAX_BYTES']} bytes")
    sample = validate_sample(request.get_json(silent=True))
    with db.engine().begin() as conn:
        if conn.execute(select(datasets.c.id).where(datasets.c.id == dataset_id)).first() is None:
            return _not_found("dataset")
        (sample_id,) = store_samples(conn, dataset_id, [sample], folder(dataset_id))
    return jsonify(id=sample_id, label=sample["label"]), 201


@bp.patch("/samples/<int:sample_id>")
def relabel(sample_id: int):
    label = check_label(fields(request.get_json(silent=True), ("label",))["label"])
    with db.engine().begin() as conn:
        done = conn.execute(update(samples).where(samples.c.id == sample_id).values(label=label)).rowcount
    return (jsonify(id=sample_id, label=label), 200) if done else _not_found("sample")


@bp.delete("/samples/<int:sample_id>")
def remove_sample(sample_id: int):
    with db.engine().begin() as conn:
        row = conn.execute(select(samples.c.dataset_id).where(samples.c.id == sample_id)).first()
        if row is None:
            return _not_found("sample")
        conn.execute(delete(samples).where(samples.c.id == sample_id))
    for suffix in (".f32", ".jpg"):
        (folder(row.dataset_id) / f"{sample_id}{suffix}").unlink(missing_ok=True)
    return "", 204


@bp.get("/samples/<int:sample_id>/thumbnail")
def thumbnail(sample_id: int):
    from flask import send_file

    with db.engine().connect() as conn:
        row = conn.execute(select(samples.c.dataset_id).where(samples.c.id == sample_id,
                                                                samples.c.has_thumbnail == 1)).first()
    if row is None:
        return _not_found("thumbnail")
    return send_file(folder(row.dataset_id) / f"{sample_id}.jpg", mimetype="image/jpeg", max_age=3600)


def start(app) -> None:
    """Databases made before samples kept world landmarks get the column (NULL: none)."""
    with db.engine_of(app).begin() as conn:
        add_columns(conn)


def add_columns(conn) -> None:
    """The columns samples gained since a database was made (server start-up, `posecast train
    --dataset` on a database no server has opened since)."""
    db.ensure_column(conn, samples, "world")


def without_world(conn, dataset_id: int) -> tuple[int, int]:
    """(samples without world landmarks, samples) of a dataset."""
    total, lacking = conn.execute(select(func.count(), func.count().filter(samples.c.world.is_(None)))
                                  .where(samples.c.dataset_id == dataset_id)).one()
    return lacking, total


def job_arguments(description: str):
    """The arguments every dataset job subprocess (training, folder import) is started with."""
    import argparse

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--database-url", required=True)
    p.add_argument("--dataset-id", type=int, required=True)
    p.add_argument("--instance", type=Path, required=True)
    return p


def backbone_of(conn, dataset_id: int, asked: str | None) -> str:
    """The backbone a dataset's samples were recorded with (`asked` when it has none yet, else the
    training default); Invalid when they mix backbones or `asked` is another one."""
    recorded = set(conn.execute(select(samples.c.backbone).where(samples.c.dataset_id == dataset_id)
                                .distinct()).scalars())
    try:
        return recorded_backbone(recorded, asked)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
