"""Bad input anywhere in the API is a 400 with a message that says what is wrong. The checks
themselves are core/checks.py (shared with the training jobs); this is their Flask side."""
from __future__ import annotations

import re

from flask import jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from core.checks import Invalid


WHOLE = re.compile(r"-?[0-9]{1,18}")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that JSON nested too deeply to parse is malformed JSON (a ValueError:
    a 400 from get_json, an undecodable Socket.IO packet), not a RecursionError and a 500."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class BoundedInt(IntegerConverter):
    """`<int:id>` in every route: at most 2^53 (no database column overflows; a larger id is
    simply not found), not werkzeug's unbounded integers."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2 ** 53)
        super().__init__(url_map, *args, **kwargs)


def init_app(app) -> None:
    """Before any route is added: bounded <int:...> converters, the JSON provider, Invalid -> 400."""
    app.url_map.converters["int"] = BoundedInt
    app.json = JSONProvider(app)
    app.register_error_handler(Invalid, lambda exc: (jsonify(error=str(exc)), 400))


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    """A whole-number query parameter of this request, checked against its range."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not WHOLE.fullmatch(raw):
        raise Invalid(f"{name} must be a whole number")
    value = int(raw)
    if not lo <= value <= hi:
        raise Invalid(f"{name} must be {lo}-{hi}")
    return value
