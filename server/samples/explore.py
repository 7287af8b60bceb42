"""`GET /api/datasets/<id>/explore`: a dataset's samples checked before training (core/explore.py:
poses not found or unsure, likely mislabels, near-duplicates) and their 2-D map, computed here in
numpy from the stored keypoints (any backbone's COCO-17 subset)."""
from __future__ import annotations

import json

import numpy as np
from flask import Blueprint, jsonify
from sqlalchemy import func, select

from core import explore as analysis
from core.features import keypoint_array

from .. import db
from .datasets import datasets, samples

bp = Blueprint("explore", __name__, url_prefix="/api")


@bp.get("/datasets/<int:dataset_id>/explore")
def explore(dataset_id: int):
    with db.engine().connect() as conn:
        if conn.execute(select(datasets.c.id).where(datasets.c.id == dataset_id)).first() is None:
            return jsonify(error="no such dataset"), 404
        count = conn.execute(select(func.count()).where(samples.c.dataset_id == dataset_id)).scalar_one()
        if count > analysis.MAX_SAMPLES:
            return jsonify(error=f"the dataset has {count} samples; exploring takes at most {analysis.MAX_SAMPLES}"), 413
        rows = conn.execute(select(samples.c.id, samples.c.label, samples.c.keypoints, samples.c.has_thumbnail)
                            .where(samples.c.dataset_id == dataset_id).order_by(samples.c.id)).all()
    kps = np.stack([keypoint_array(r.keypoints if isinstance(r.keypoints, list) else json.loads(r.keypoints))
                    for r in rows]) if rows else np.zeros((0, 17, 3))
    result = analysis.explore([r.id for r in rows], [r.label for r in rows], kps)
    thumbs = {r.id: bool(r.has_thumbnail) for r in rows}
    for point in result["points"]:
        point["thumbnail"] = f"/api/samples/{point['id']}/thumbnail" if thumbs[point["id"]] else None
    per_class: dict[str, dict] = {}
    for point in result["points"]:
        counts = per_class.setdefault(point["label"], {"samples": 0, "no_pose": 0, "unsure": 0, "mislabel": 0,
                                                        "duplicate": 0})
        counts["samples"] += 1
        for flag in point["flags"]:
            counts[flag["kind"]] += 1
    return jsonify(dataset_id=dataset_id, per_class=per_class, **result)
