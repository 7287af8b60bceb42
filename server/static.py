"""Serves the pages (web/), the front-end libraries and pose weights (assets/) and the exported
classifiers (tfjs_models/), each with the right MIME type and cache policy. Libraries and pose
topologies come precompressed (tools/assets.py writes `.br` and `.gz` beside them): a browser that
accepts one gets it, with `Content-Encoding` and `Vary: Accept-Encoding`."""
from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_from_directory
from werkzeug.security import safe_join

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


PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))  # best first


def _precompressed(folder: Path, path: str) -> tuple[str, str] | None:
    """The compressed copy of `path` this request accepts, as (file, encoding), or None."""
    for encoding, suffix in PRECOMPRESSED:
        if request.accept_encodings[encoding] <= 0:
            continue
        candidate = safe_join(str(folder), path + suffix)
        if candidate and Path(candidate).is_file():
            return path + suffix, encoding
    return None


def _send(folder_key: str, path: str, cache: str, precompressed: bool = False) -> Response:
    folder = Path(current_app.config[folder_key])
    chosen = _precompressed(folder, path) if precompressed else None
    if chosen:
        mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        response = send_from_directory(folder, chosen[0], conditional=True, etag=True, max_age=None,
                                       mimetype=mimetype)
        response.headers["Content-Encoding"] = chosen[1]
    else:
        response = send_from_directory(folder, path, conditional=True, etag=True, max_age=None)
    if precompressed:  # caches must keep one copy per encoding
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = cache
    return response


@bp.get("/")
def index() -> Response:
    return live_page("index.html")


@bp.get("/assets/<path:path>")
def assets(path: str) -> Response:
    # Pinned by package-lock.json and recorded hashes: safe to cache; ETag revalidates after.
    return _send("ASSETS_DIR", path, f"public, max-age={current_app.config['ASSET_MAX_AGE']}", precompressed=True)


@bp.get("/models/<path:path>")
def models(path: str) -> Response:
    # A newly trained model replaces files in place, so always revalidate.
    return _send("MODELS_DIR", path, "no-cache")


@bp.get("/<path:path>")
def live_page(path: str) -> Response:
    return _send("WEB_DIR", path, "no-cache")
