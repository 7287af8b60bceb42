"""Zip uploads of class folders into a dataset: checked and extracted here (uploads.py),
imported by a subprocess (import_job.py) that reports on /trainer as `import_progress`. The images
go through the dataset's backbone (the one its samples were recorded with), or the one asked for,
or training's default for an empty dataset: a dataset's samples all come from one backbone."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from core.checks import Invalid
from core.samples import check_label
from core.tables import BACKBONES

from .. import db, jobs, zips
from ..contract import IMPORT_PROGRESS
from ..sockets import socketio
from . import uploads
from .datasets import backbone_of, datasets

bp = Blueprint("sample_import", __name__, url_prefix="/api")


@bp.post("/datasets/<int:dataset_id>/import")
def import_zip(dataset_id: int):
    """Upload a zip of class folders (multipart `file`; optional `backbone`: the one the page records
    with, checked against the dataset's); the images are checked, extracted and imported by a
    subprocess that reports on /trainer as `import_progress`."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if request.content_length is None or request.content_length > limit:
        raise Invalid(f"uploads are limited to {limit // (1024 * 1024)} MB")
    upload = request.files.get("file")
    if upload is None:
        raise Invalid("send the zip as the multipart field 'file'")
    asked = request.form.get("backbone") or None
    if asked is not None and asked not in BACKBONES:
        raise Invalid(f"backbone must be one of {', '.join(BACKBONES)}")
    with db.engine().connect() as conn:
        if conn.execute(select(datasets.c.id).where(datasets.c.id == dataset_id)).first() is None:
            return jsonify(error="no such dataset"), 404
        backbone = backbone_of(conn, dataset_id, asked)
    work = Path(current_app.instance_path) / "uploads"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=work, suffix=".zip", delete=False) as tmp:
        upload.save(tmp)
    try:
        extracted = zips.off_loop(uploads.extract, Path(tmp.name), work)  # inflating is CPU-bound
    finally:
        Path(tmp.name).unlink(missing_ok=True)
    for label_dir in extracted.iterdir():
        try:
            check_label(label_dir.name)
        except Invalid:
            shutil.rmtree(extracted)
            raise Invalid(f"class folder name {label_dir.name!r} is not a valid label") from None
    proc = jobs.spawn("server.samples.import_job", "--database-url", current_app.config["DATABASE_URL"],
                      "--dataset-id", str(dataset_id), "--instance", current_app.instance_path,
                      "--folder", str(extracted), "--backbone", backbone)
    token = extracted.name
    socketio.start_background_task(_relay_import, token, proc, extracted)
    return jsonify(import_id=token, images=sum(1 for _ in extracted.glob("*/*")), backbone=backbone), 202


def _relay_import(token: str, proc: subprocess.Popen, extracted: Path) -> None:
    jobs.relay(proc, IMPORT_PROGRESS, {"import_id": token})
    proc.communicate()
    shutil.rmtree(extracted, ignore_errors=True)
