"""Every REST route's JSON body, query arguments and path numbers, fuzzed against the real app:
no 5xx, no traceback or error in the log, every refusal a 4xx with a JSON `error`, and a control
request unaffected."""
from __future__ import annotations

import io
import json
import tempfile
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server import create_app
from tests.helpers.auth import ADMIN_CONFIG

from .strategies import FUZZ, payload, path_int, query, raw_body, text

SKIP = {"/api/logout", "/<path:path>", "/assets/<path:path>", "/models/<path:path>"}


def _routes() -> list[tuple[str, str]]:
    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(prefix="fuzz-routes-"), "ASYNC_MODE": "threading",
                      **ADMIN_CONFIG})
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule in SKIP or rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule))
    return sorted(out)


ROUTES = _routes()


def fill(rule: str, numbers: list[int]) -> str:
    parts, n = [], 0
    for piece in rule.split("/"):
        if piece.startswith("<int:"):
            piece, n = str(numbers[n % len(numbers)]), n + 1
        elif piece.startswith("<"):
            piece = "fuzz-client-1" if n % 2 == 0 else "x"
        parts.append(piece)
    return "/".join(parts)


def qs(args: dict) -> str:
    """As a browser would send it: UTF-8, percent-encoded (a lone surrogate as its invalid bytes)."""
    return urlencode(args, encoding="utf-8", errors="surrogatepass")


def check(response, what):
    assert response.status_code < 500, (what, response.status_code, response.data[:300])
    if response.status_code >= 400 and response.is_json:
        assert isinstance(response.get_json().get("error"), str), (what, response.get_json())


@pytest.mark.parametrize("method, rule", ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
@FUZZ
@given(numbers=st.lists(path_int, min_size=1, max_size=3), args=query,
       body=st.one_of(payload.map(lambda v: json.dumps(v, allow_nan=True)), raw_body),
       zip_bytes=st.binary(max_size=300), name=text)
def test_rest_route(admin, log_watch, method, rule, numbers, args, body, zip_bytes, name):
    log_watch.bad.clear()
    path = fill(rule, numbers)
    what = (method, path, args, body[:200])
    if rule.endswith("/import") and method == "POST":
        field = "zip" if rule.startswith("/api/models") else "file"
        r = admin.open(path, method=method, query_string=qs(args), content_type="multipart/form-data",
                       data={field: (io.BytesIO(zip_bytes), "x.zip"), "name": name.encode("utf-8", "surrogatepass").decode("utf-8", "replace")})
        check(r, (method, path, args, zip_bytes[:50]))
    r = admin.open(path, method=method, query_string=qs(args), data=body.encode("utf-8", "surrogatepass"),
                   content_type="application/json")
    check(r, what)
    assert admin.get("/api/health").status_code == 200  # the control
    assert log_watch.bad == [], (what, log_watch.bad)


@FUZZ
@given(body=st.one_of(payload.map(lambda v: json.dumps(v, allow_nan=True)), raw_body))
def test_login_and_anonymous_requests(fuzz_app, log_watch, body):
    log_watch.bad.clear()
    anon = fuzz_app.test_client()
    token = anon.get("/api/me").get_json()["csrf_token"]
    for path in ("/api/login", "/api/client-log", "/api/users"):
        r = anon.post(path, data=body.encode("utf-8", "surrogatepass"), content_type="application/json",
                      headers={"X-CSRF-Token": token})
        check(r, (path, body[:200]))
    assert log_watch.bad == [], log_watch.bad
