"""Small JSON API: health, and the page's own error reports (so failures reach the server log)."""
from __future__ import annotations

import logging
import math

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from . import db
from core.checks import Invalid as BadRequest, check_text, fields

bp = Blueprint("api", __name__, url_prefix="/api")
client_log = logging.getLogger("posecast.client")

LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO}
CLIENT_LOG_FIELDS = {"level": str, "message": str, "backbone": str, "backend": str, "page": str}
CLIENT_LOG_LIMITS = {"message": 2000, "backbone": 64, "backend": 16, "page": 256}


@bp.get("/health")
def health():
    """Liveness plus a database round-trip."""
    try:
        dialect = db.ping()
    except SQLAlchemyError as exc:
        return jsonify(status="error", database=str(exc.__class__.__name__)), 503
    return jsonify(status="ok", database=dialect,
                   async_mode=current_app.config["ASYNC_MODE"])


@bp.post("/client-log")
def post_client_log():
    """The live page reports a failure (model load, camera); it is written to the server log."""
    if request.content_length and request.content_length > current_app.config["CLIENT_LOG_MAX_BYTES"]:
        raise BadRequest("payload too large")
    entry = validate_client_log(request.get_json(silent=True))
    client_log.log(LEVELS[entry["level"]], "client %s: %s%s", request.remote_addr, entry["message"],
                   "".join(f" {k}={entry[k]}" for k in ("backbone", "backend", "page") if k in entry))
    return jsonify(status="logged"), 201


def validate_client_log(payload) -> dict:
    fields(payload, ("level", "message"), CLIENT_LOG_FIELDS)
    for field, value in payload.items():
        if not isinstance(value, CLIENT_LOG_FIELDS[field]) or (isinstance(value, float) and math.isnan(value)):
            raise BadRequest(f"{field} must be a string")
        if field in CLIENT_LOG_LIMITS and len(value) > CLIENT_LOG_LIMITS[field]:
            raise BadRequest(f"{field} is longer than {CLIENT_LOG_LIMITS[field]} characters")
    if payload["level"] not in LEVELS:
        raise BadRequest(f"level must be one of {', '.join(LEVELS)}")
    if not payload["message"].strip():
        raise BadRequest("message is empty")
    # Newlines would let a client forge extra log lines; then the one text rule (no surrogates,
    # which the log could not encode, no control characters).
    return {k: check_text(" ".join(v.split()), k, max_len=CLIENT_LOG_LIMITS.get(k, 64)) for k, v in payload.items()}


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_endpoint(rest: str):
    """API paths answer JSON 404s, whatever the method (not the pages' 405)."""
    return jsonify(error=f"no such endpoint: /api/{rest}"), 404
