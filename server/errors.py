"""One error for bad input anywhere in the API: a 400 with a message that says what is wrong,
and the checks every payload and query validation is built from."""
from __future__ import annotations

import math
import re

from flask import jsonify, request

TEXT_FIELD = re.compile(r"[^\x00-\x1f\x7f]{1,64}")  # printable, no control characters


class Invalid(ValueError):
    pass


def init_app(app) -> None:
    app.register_error_handler(Invalid, lambda exc: (jsonify(error=str(exc)), 400))


def check_int(v, what: str, lo: int, hi: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise Invalid(f"{what} must be a whole number from {lo} to {hi}")
    return v


def check_number(v, what: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise Invalid(f"{what} must be a finite number")
    if not lo <= v <= hi:
        raise Invalid(f"{what} must be between {lo} and {hi}")
    return float(v)


def check_text(v, what: str, allow_none: bool = False):
    """1-64 printable characters (or None when allowed)."""
    if v is None and allow_none:
        return None
    if not isinstance(v, str) or not TEXT_FIELD.fullmatch(v):
        raise Invalid(f"{what} must be 1-64 printable characters")
    return v


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
