"""What an /api/v1 request sends, checked: its images (multipart `image` fields or a raw image
body, each within the byte and pixel limits, JPEG/PNG/WebP by their header) and its parameters
(backbone, max_people, threshold, model), from the query string or the form."""
from __future__ import annotations

import math
from pathlib import Path

from flask import current_app, request
from sqlalchemy import select

from core.checks import NAME, Invalid
from core.tables import BACKBONES, DEFAULT_BACKBONE
from poseio.classifier import backbone_problem
from poseio.images import FORMATS, BadImage, probe

from .. import db
from ..models import registry

PARAMS = ("backbone", "max_people", "threshold", "model", "format")
IMAGE_TYPES = set(FORMATS.values())
FILE_FIELDS = ("image", "images")


def _params() -> dict:
    params = {}
    for source in (request.args, request.form if request.mimetype == "multipart/form-data" else {}):
        for key in source:
            if key not in PARAMS:
                raise Invalid(f"unknown parameter {key!r}: expected {', '.join(PARAMS)}")
            if len(source.getlist(key)) > 1 or key in params:
                raise Invalid(f"{key} is given more than once")
            params[key] = source.get(key)
    return params


def limit_body(most: int, what: str) -> None:
    """Before anything reads the body (the form's parameters too): refuse a larger one, and make
    werkzeug stop reading one that lies about its length (or sends none)."""
    if request.content_length is not None and request.content_length > most:
        raise BadImage(f"the request is larger than {what}", 413)
    request.max_content_length = most


def images() -> list[tuple[str, bytes]]:
    """[(name, bytes)] of the request; a BadImage (4xx) for anything we would not decode."""
    cfg = current_app.config
    limit, count = cfg["INFER_MAX_BYTES"], cfg["INFER_MAX_IMAGES"]
    if request.mimetype == "multipart/form-data":
        unknown = set(request.files) - set(FILE_FIELDS)
        if unknown:
            raise BadImage(f"unknown file field(s) {', '.join(sorted(unknown))}: send images as `image`")
        files = [f for field in FILE_FIELDS for f in request.files.getlist(field)]
        found = [(f.filename or f"image{i}", f.stream.read(limit + 1)) for i, f in enumerate(files)]
    elif request.mimetype in IMAGE_TYPES:
        found = [("body", request.stream.read(limit + 1))]
    else:
        raise BadImage(f"send an image ({', '.join(sorted(IMAGE_TYPES))}) as the body, or multipart/form-data "
                       f"with `image` fields; not {request.mimetype or 'no content type'}", 415)
    if not found:
        raise BadImage("no image: send one as the body or as multipart `image` fields")
    if len(found) > count:
        raise BadImage(f"at most {count} images per request", 413)
    for name, data in found:
        if len(data) > limit:
            raise BadImage(f"{name}: larger than {limit:,} bytes", 413)
        try:
            probe(data, cfg["INFER_MAX_PIXELS"])  # the header only: bombs never reach a worker
        except BadImage as exc:
            raise BadImage(f"{name}: {exc}", exc.status) from None
    return found


def model_spec(conn, wanted: str | None) -> dict | None:
    """The classifier to run: `model=NAME` (newest version), `NAME/VERSION`, `none`, or the active one."""
    if wanted == "none":
        return None
    if wanted is None:
        row = registry.active_model(conn)
    else:
        name, _, version = wanted.partition("/")
        if not NAME.fullmatch(name) or (version and not (version.isdigit() and len(version) < 10)):
            raise Invalid("model must be NAME, NAME/VERSION or none")
        query = select(registry.models).where(registry.models.c.name == name)
        if version:
            query = query.where(registry.models.c.version == int(version))
        row = conn.execute(query.order_by(registry.models.c.version.desc())).first()
        if row is None:
            raise LookupError(f"no model {wanted!r} (GET /api/models lists them)")
    if row is None:
        return None
    folder = Path(current_app.config["MODELS_DIR"]) / row.name / str(row.version)
    return {"name": row.name, "version": row.version, "dir": str(folder), "features": row.features,
            "labels": row.labels, "threshold": (row.meta.get("rejection") or {}).get("threshold"),
            "normalisation": row.meta.get("normalisation"), "backbone": row.meta.get("backbone")}


def options() -> dict:
    """{backbone, max_people, threshold, model (spec or None), format}, every one checked."""
    params = _params()
    with db.engine().connect() as conn:
        model = model_spec(conn, params.get("model"))
    backbone = params.get("backbone") or (model or {}).get("backbone") or DEFAULT_BACKBONE
    if backbone not in BACKBONES:
        raise Invalid(f"backbone must be one of {', '.join(BACKBONES)}")
    # As the page: one person unless asked (PoseNet's multi-person decoding finds more, less well),
    # but MoveNet MultiPose is always multi-person.
    multi = BACKBONES[backbone].get("multi") == "always"
    max_people = _number(params.get("max_people"), "max_people", 6 if multi else 1, 1, 20, whole=True)
    threshold = _number(params.get("threshold"), "threshold", 0.0, 0.0, 1.0)
    fmt = params.get("format") or "json"
    if fmt not in ("json", "openpose", "coco", "csv", "jsonl"):
        raise Invalid("format must be json, openpose, coco, csv or jsonl")
    return {"backbone": backbone, "max_people": max_people, "threshold": threshold, "model": model, "format": fmt}


def _number(raw, name, default, lo, hi, whole=False):
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise Invalid(f"{name} must be a {'whole number' if whole else 'number'} from {lo} to {hi}") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise Invalid(f"{name} must be from {lo} to {hi}")
    return value


def model_problem(opts: dict) -> str | None:
    """Why the options' model cannot run on their backbone (422, before any work: a video job would
    fail at its first frame), or None."""
    model = opts["model"]
    return model and backbone_problem(model["name"], model["features"], opts["backbone"])
