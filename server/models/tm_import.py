"""Import a Teachable Machine pose export (model.json + metadata.json + weights.bin, or the zip
Teachable Machine downloads) into the model registry."""
from __future__ import annotations

import io
import json
import math
from pathlib import Path

from flask import current_app, jsonify, request
from sqlalchemy import select

from core.checks import Invalid, check_labels
from core.features import TM_FEATURES as TM_INPUTS

from .. import db, zips
from . import registry

FILES = ("model.json", "metadata.json", "weights.bin")
MAX_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 64
MAX_RATIO = 200  # trained weights barely compress; a far higher ratio is a bomb


def _from_request() -> dict[str, bytes]:
    if request.content_length is None or request.content_length > MAX_BYTES:
        raise Invalid(f"a Teachable Machine export is at most {MAX_BYTES // (1024 * 1024)} MB")
    files = {name: request.files[name].read() for name in FILES if name in request.files}
    if "zip" in request.files:
        files.update(zips.off_loop(_from_zip, request.files["zip"].read()))
    missing = [name for name in FILES if name not in files]
    if missing:
        raise Invalid(f"missing {', '.join(missing)} (send the three files, or the zip Teachable Machine downloads)")
    return files


def _from_zip(data: bytes) -> dict[str, bytes]:
    """The three files from the zip Teachable Machine downloads (in a worker thread: inflating
    is CPU-bound), bounded by the central directory and again while reading."""
    files: dict[str, bytes] = {}
    with zips.open_zip(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        zips.check_sizes(entries, MAX_ENTRIES, MAX_BYTES, 2 * MAX_BYTES, MAX_RATIO)
        for info in entries:
            base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            if base in FILES and base not in files:
                files[base] = zips.read_member(archive, info, MAX_BYTES)
    return files


def _shape(w, i: int) -> list[int]:
    shape = w.get("shape") if isinstance(w, dict) else None
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 10**7
                                              for d in shape):
        raise Invalid(f"model.json: weight {i} needs a shape of whole numbers")
    return shape


def validate(files: dict[str, bytes]) -> tuple[dict, dict]:
    try:
        model = json.loads(files["model.json"])
        meta = json.loads(files["metadata.json"])
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, too deep
        raise Invalid("model.json and metadata.json must be JSON") from None
    if not isinstance(meta, dict) or meta.get("packageName") != "@teachablemachine/pose":
        raise Invalid("metadata.json is not a Teachable Machine pose export (packageName)")
    labels = check_labels(meta.get("labels"), "metadata.json labels", least=2)
    try:
        layers = model["modelTopology"]["config"]["layers"]
        input_shape = layers[0]["config"]["batch_input_shape"]
        weights = [w for group in model["weightsManifest"] for w in group["weights"]]
    except (KeyError, IndexError, TypeError):
        raise Invalid("model.json is not a TF.js layers model") from None
    if not isinstance(input_shape, list) or not input_shape or input_shape[-1] != TM_INPUTS:
        raise Invalid(f"model.json: batch_input_shape must be a list ending in {TM_INPUTS} "
                      "(Teachable Machine pose models' inputs)")
    if not weights:
        raise Invalid("model.json: weightsManifest lists no weights")
    shapes = [_shape(w, i) for i, w in enumerate(weights)]
    expected = 4 * sum(math.prod(shape) for shape in shapes)
    if len(files["weights.bin"]) != expected:
        raise Invalid(f"weights.bin has {len(files['weights.bin'])} bytes; model.json describes {expected}")
    if not shapes[-1] or shapes[-1][-1] != len(labels):
        raise Invalid("the model's outputs do not match the labels in metadata.json")
    model["weightsManifest"] = [{"paths": ["weights.bin"], "weights": weights}]
    return model, meta


@registry.bp.post("/import")
def import_teachable_machine():
    """POST /api/models/import: multipart model.json, metadata.json, weights.bin (or zip); name?"""
    name = request.form.get("name") or "teachable-machine"
    if not registry.NAME.fullmatch(name):
        raise Invalid("name must be 1-64 letters, digits, '.', '_' or '-'")
    files = _from_request()
    model, meta = validate(files)
    root = Path(current_app.config["MODELS_DIR"]) / name
    out = root / str(registry.next_version(root))
    tmp = out.with_name(out.name + ".partial")
    tmp.mkdir(parents=True)
    (tmp / "model.json").write_text(json.dumps(model))
    (tmp / "metadata.json").write_text(json.dumps(meta))
    (tmp / "weights.bin").write_bytes(files["weights.bin"])
    tmp.rename(out)
    registry.scan(current_app)
    with db.engine().connect() as conn:
        row = conn.execute(select(registry.models).where(registry.models.c.name == name,
                                                         registry.models.c.version == int(out.name))).one()
    return jsonify(registry.as_json(row)), 201
