"""The checks every payload, query and upload is validated with, whichever door it came in by
(REST, Socket.IO, imports, subprocess jobs). A failed check raises Invalid with a message that
says what is wrong; the server turns it into a 400 or an error acknowledgement."""
from __future__ import annotations

import math
import re

TEXT_FIELD = re.compile(r"[^\x00-\x1f\x7f]{1,64}")  # printable, no control characters
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # dataset and model names: safe as folder names


class Invalid(ValueError):
    pass


def fields(payload, required=(), optional=(), where: str = "") -> dict:
    """The one check of an object's keys: it must be a dict, hold every required field and
    nothing unknown. Returns the payload."""
    prefix = f"{where}: " if where else ""
    if not isinstance(payload, dict):
        raise Invalid(f"{where or 'payload'} must be a JSON object")
    unknown = set(payload) - set(required) - set(optional)
    if unknown:
        raise Invalid(f"{prefix}unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    missing = [f for f in required if f not in payload]
    if missing:
        raise Invalid(f"{prefix}missing field(s): {', '.join(missing)}")
    return payload


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


def check_name(v, what: str = "name") -> str:
    if not isinstance(v, str) or not NAME.fullmatch(v):
        raise Invalid(f"{what} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return v
