"""Serves the pages (web/), the front-end libraries and pose weights (assets/) and the exported
classifiers (tfjs_models/), each with the right MIME type and cache policy."""
from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

# The platform's mime table may lack these or map them differently; TF.js needs application/wasm
# for streaming compilation and browsers refuse ES modules served as anything but JavaScript.
for ext, mime in {
    ".wasm": "application/wasm",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".bin": "application/octet-stream",
    ".svg": "image/svg+xml",
    ".css": "text/css",
}.items():
    mimetypes.add_type(mime, ext)

bp = Blueprint("static_files", __name__)


def _send(folder_key: str, path: str, cache: str) -> Response:
    folder = Path(current_app.config[folder_key])
    response = send_from_directory(folder, path, conditional=True, etag=True, max_age=None)
    response.headers["Cache-Control"] = cache
    return response


@bp.get("/")
def index() -> Response:
    return live_page("index.html")


@bp.get("/assets/<path:path>")
def assets(path: str) -> Response:
    # Pinned by package-lock.json and recorded hashes: safe to cache; ETag revalidates after.
    return _send("ASSETS_DIR", path, f"public, max-age={current_app.config['ASSET_MAX_AGE']}")


@bp.get("/models/<path:path>")
def models(path: str) -> Response:
    # A newly trained model replaces files in place, so always revalidate.
    return _send("MODELS_DIR", path, "no-cache")


@bp.get("/<path:path>")
def live_page(path: str) -> Response:
    return _send("WEB_DIR", path, "no-cache")
