"""API tokens in-process (no workers needed): stored hashed, their role, no CSRF for them, the
per-token rate limit, and a token beating a session cookie it came with."""
import hashlib

import pytest
from sqlalchemy import select

from server import create_app, db, tokens
from server.auth import ROLES
from tests.helpers.auth import ADMIN, ADMIN_CONFIG, login


@pytest.fixture
def app(tmp_path):
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "MODELS_DIR": str(tmp_path / "models"),
                       "ASYNC_MODE": "threading", "TESTING": True, "API_RATE_PER_S": 1, "API_RATE_BURST": 2,
                       **ADMIN_CONFIG})


def make(app, name, role="viewer"):
    with db.engine_of(app).begin() as conn:
        return tokens.create(conn, name, role, ROLES)


def test_only_the_hash_is_stored(app):
    token = make(app, "a")
    with db.engine_of(app).connect() as conn:
        row = conn.execute(select(tokens.api_tokens)).one()
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest() and token not in str(tuple(row))
    with pytest.raises(tokens.Invalid):
        make(app, "a")  # names are unique, revoked ones too


def test_role_csrf_and_rate_limit(app):
    app.config["API_RATE_PER_S"] = 0.001  # no refill while the test runs, however slow the machine
    client = app.test_client()
    auth = {"Authorization": f"Bearer {make(app, 'viewer-token')}"}
    assert client.get("/api/v1/status", headers=auth).status_code == 200
    assert client.get("/api/labels", headers=auth).status_code == 403  # a viewer's token is no operator
    # POST without a CSRF token: fine with a bearer token (415: no image, but past the guard)
    assert client.post("/api/v1/infer", headers=auth, data=b"x", content_type="text/plain").status_code == 415
    r = client.get("/api/v1/jobs", headers=auth)  # every /api/v1 route counts, jobs too
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    other = {"Authorization": f"Bearer {make(app, 'other')}"}  # each token has its own bucket
    r = client.post("/api/v1/infer", headers=other, data=b"x", content_type="text/plain")
    assert r.status_code == 415


def test_a_bad_token_is_refused_even_with_a_session(app):
    client = login(app.test_client(), *ADMIN)
    assert client.get("/api/v1/status").status_code == 200
    r = client.get("/api/v1/status", headers={"Authorization": "Bearer pct_nope"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
