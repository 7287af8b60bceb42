"""The checks every payload, query and upload is validated with, whichever door it came in by
(REST, Socket.IO, imports, subprocess jobs). A failed check raises Invalid with a message that
says what is wrong; the server turns it into a 400 or an error acknowledgement."""
from __future__ import annotations

import math
import re

# The one text rule for every label, name and class that enters: valid Unicode scalar values (no
# lone UTF-16 surrogates, which no database or log can encode), printable (no C0/C1 control
# characters, no line or paragraph separators), 1-64 characters.
NOT_PRINTABLE = "\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029"
_PRINTABLE = re.compile(f"[^{NOT_PRINTABLE}]*")
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


MAX_SAFE_INT = 2 ** 53  # what a JavaScript number holds exactly; any larger int is no measurement


def check_number(v, what: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    # Bounded before any conversion: float() of a 300-digit integer overflows.
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, int) and abs(v) > MAX_SAFE_INT):
        raise Invalid(f"{what} must be a finite number")
    if not math.isfinite(v):
        raise Invalid(f"{what} must be a finite number")
    if not lo <= v <= hi:
        raise Invalid(f"{what} must be between {lo} and {hi}")
    return float(v)


def is_text(v, max_len: int = 64) -> bool:
    """The text rule as a test: 1-`max_len` printable characters of valid Unicode."""
    return isinstance(v, str) and 1 <= len(v) <= max_len and _PRINTABLE.fullmatch(v) is not None


def check_text(v, what: str, allow_none: bool = False, max_len: int = 64):
    """1-`max_len` printable characters, valid Unicode (or None when allowed)."""
    if v is None and allow_none:
        return None
    if not is_text(v, max_len):
        raise Invalid(f"{what} must be 1-{max_len} printable characters")
    return v


def check_label(v, what: str = "label") -> str:
    """A class label: the text rule, not blank; surrounding blanks dropped."""
    if not isinstance(v, str) or not v.strip():
        raise Invalid(f"{what} must be 1-64 printable characters")
    return check_text(v, what).strip()


def check_labels(v, what: str = "labels", least: int = 1, most: int = 1000) -> list[str]:
    """A model's or rule's class labels: `least`-`most` distinct labels, each by the text rule
    and without surrounding blanks (label streaming sends them as they are)."""
    if not isinstance(v, list) or not least <= len(v) <= most:
        raise Invalid(f"{what} must be a list of {least}-{most} labels")
    for i, label in enumerate(v):
        if check_label(label, f"{what}[{i}]") != label:
            raise Invalid(f"{what}[{i}] has blanks around it")
    if len(set(v)) != len(v):
        raise Invalid(f"{what} must not repeat a label")
    return v


def check_name(v, what: str = "name") -> str:
    if not isinstance(v, str) or not NAME.fullmatch(v):
        raise Invalid(f"{what} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return v
