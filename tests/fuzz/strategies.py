"""Hypothesis strategies for hostile input: JSON of every shape, the values that broke things
before (surrogates, control characters, huge and odd numbers, deep nesting), and objects made of
the API's own field names so the checks past the first one are reached too."""
from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# `make test` runs a bounded number of examples per test; POSECAST_FUZZ_EXAMPLES=5000 runs longer.
EXAMPLES = int(os.environ.get("POSECAST_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize="POSECAST_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

NASTY_TEXT = ["\ud800", "a\udfffb", "a\nb", "\x00", "\x7f", "\x85", "\u2028", "x" * 65, "x" * 5000, "", " ",
              "²", "-99999999999999999999999", "9" * 400, "../../etc/passwd", "<script>", "=cmd|' /C calc'!A0",
              "tree", "yoga5", "posenet", "keypoints", "tm", "admin", "fall", "open", "desc", "1e400", "NaN"]
NASTY_NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 53 + 1, 2 ** 63, 10 ** 300, -(10 ** 300), 0.5, 1e308, -1e308,
                 math.inf, -math.inf, math.nan, 1.5, True, False]
FIELDS = ["name", "label", "labels", "username", "password", "role", "events", "level", "message", "backbone",
          "backend", "page", "min_confidence", "hold_s", "client_id", "enabled", "preset", "width", "height",
          "keypoints", "tm", "thumbnail", "features", "epochs", "seq", "ts", "confidence", "model",
          "model_version", "person", "fps", "x", "y", "score"]

text = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=80),
                 st.text(st.characters(codec=None, categories=["Cs", "Cc", "Zl", "Co"]), max_size=5))
number = st.one_of(st.sampled_from(NASTY_NUMBERS), st.integers(), st.floats(allow_nan=True, allow_infinity=True))
scalar = st.one_of(st.none(), st.booleans(), number, text)
json_value = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=6),
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), text), inner, max_size=6)), max_leaves=25)
field_object = st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=8)
payload = st.one_of(json_value, field_object)


def deep(n: int) -> str:
    return "[" * n + "]" * n


raw_body = st.one_of(
    st.sampled_from([deep(100_000), '{"a": ' * 50_000, "{", "[1,]", "NaN", '{"label": "\\ud800"}', "9" * 5000,
                     '{"width": ' + "9" * 400 + "}", "\x00", ""]),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
query_value = st.one_of(text, st.integers().map(str), st.sampled_from(["2026-01-01T00:00:00Z", "0", "-1", "%C2%B2"]))
QUERY_KEYS = ["since", "until", "limit", "after_id", "before_id", "order", "interval", "client_id", "label", "model",
              "status", "x"]
query = st.dictionaries(st.sampled_from(QUERY_KEYS), query_value, max_size=5)
path_int = st.one_of(st.integers(0, 5), st.integers(0, 2 ** 70), st.sampled_from([2 ** 63, 10 ** 30]))
