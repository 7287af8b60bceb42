"""Bad input anywhere in the API is a 400 with a message that says what is wrong. The checks
themselves are core/checks.py (shared with the training jobs); this is their Flask side."""
from __future__ import annotations

from flask import jsonify, request

from core.checks import Invalid


def init_app(app) -> None:
    app.register_error_handler(Invalid, lambda exc: (jsonify(error=str(exc)), 400))


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    """A whole-number query parameter of this request, checked against its range."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name} must be a whole number") from None
    if not lo <= value <= hi:
        raise Invalid(f"{name} must be {lo}-{hi}")
    return value
