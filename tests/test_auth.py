"""Logins, roles and CSRF: every route and namespace refuses anonymous and wrong-role users."""
import re

import pytest
from sqlalchemy import func, select

from server import auth, create_app, db
from server.sockets import socketio
from tests.helpers.auth import ADMIN, ADMIN_CONFIG, login

PUBLIC_PAGES = ["/", "/index.html", "/login.html", "/js/live/index.js", "/css/app.css", "/contract.json"]


def concrete(rule) -> str:
    """A URL for a route rule, with a plausible value for each variable part."""
    values = {"int": "1", "path": "x", "default": "abcdefgh12"}

    def fill(m):
        converter, name = (m.group(1) or "default"), m.group(2)
        return "csv" if name == "fmt" else values.get(converter, "x")

    return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule.rule)


def protected_routes(app):
    """(method, url, role) for every protected route in the URL map."""
    out = []
    for rule in app.url_map.iter_rules():
        url = concrete(rule)
        with app.test_request_context(url):
            role = auth.required_role(url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if role:
                out.append((method, url, role))
    # Pages are files under the catch-all route; these two are protected by name.
    return out + [("GET", "/trainer.html", "trainer"), ("GET", "/dashboard.html", "operator")]


def test_every_api_route_is_public_on_purpose_or_protected(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == "/api/<path:rest>":
            continue
        url = concrete(rule)
        with app.test_request_context(url):
            protected = auth.required_role(url) is not None
        assert protected or url in auth.PUBLIC_API, f"{rule.rule} is neither protected nor listed as public"


def test_anonymous_is_refused_everywhere_protected(app, anon):
    routes = protected_routes(app)
    assert len(routes) >= 35
    for method, url, _ in routes:
        r = anon.open(url, method=method, json={})
        if url.endswith(".html"):
            assert r.status_code == 302 and r.headers["Location"] == f"/login.html?next={url}", (method, url)
        else:
            assert r.status_code == 401, (method, url, r.status_code)
            assert r.get_json()["error"] == "log in first"


@pytest.mark.parametrize("role", ["trainer", "operator", "viewer"])
def test_wrong_role_is_refused(app, user_client, role):
    client = user_client(role)
    for method, url, needed in protected_routes(app):
        if auth.may(role, needed):
            continue
        r = client.open(url, method=method, json={})
        assert r.status_code == 403, (role, method, url, r.status_code)


def test_each_role_reaches_its_own_pages(user_client):
    assert user_client("trainer").get("/trainer.html").status_code == 200
    assert user_client("operator").get("/dashboard.html").status_code == 200
    assert user_client("operator").get("/api/labels").status_code == 200


@pytest.mark.parametrize("url", ["/./trainer.html", "/js/../trainer.html", "/css/./../dashboard.html",
                                 "/dashboard.html/"])
def test_protected_pages_cannot_be_reached_by_another_spelling(anon, url):
    r = anon.get(url)
    assert r.status_code in (302, 401, 404), (url, r.status_code)
    assert b"<title>posecast" not in r.data


def test_public_pages_need_no_login(anon):
    for url in PUBLIC_PAGES:
        assert anon.get(url).status_code == 200, url
    assert anon.get("/api/me").get_json()["user"] is None


def test_live_page_can_require_a_login(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "ASYNC_MODE": "threading", "LIVE_LOGIN": True, **ADMIN_CONFIG})
    anon = app.test_client()
    assert anon.get("/").status_code == 302
    assert not socketio.test_client(app, namespace="/pose", auth={"client_id": "abcdefgh12"}).is_connected("/pose")
    assert not socketio.test_client(app, namespace="/live").is_connected("/live")
    viewer = app.test_client()
    with db.engine_of(app).begin() as conn:
        auth.add_user(conn, "screen1", "screen-password", "viewer")
    login(viewer, "screen1", "screen-password")
    assert viewer.get("/").status_code == 200
    assert viewer.get("/trainer.html").status_code == 403
    sock = socketio.test_client(app, namespace="/pose", auth={"client_id": "abcdefgh12"}, flask_test_client=viewer)
    assert sock.is_connected("/pose")


@pytest.mark.parametrize("namespace,role", [("/trainer", "trainer"), ("/dashboard", "operator")])
def test_namespaces_refuse_anonymous_and_wrong_roles(app, user_client, namespace, role):
    assert not socketio.test_client(app, namespace=namespace).is_connected(namespace)
    other = "operator" if role == "trainer" else "trainer"
    assert not socketio.test_client(app, namespace=namespace, flask_test_client=user_client(other)).is_connected(namespace)
    assert socketio.test_client(app, namespace=namespace, flask_test_client=user_client(role)).is_connected(namespace)


def test_state_changes_need_the_csrf_token(app):
    client = login(app.test_client(), *ADMIN)
    token = client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    r = client.post("/api/datasets", json={"name": "nope"})
    assert r.status_code == 403 and "CSRF" in r.get_json()["error"]
    assert client.post("/api/datasets", json={"name": "nope"}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/datasets", json={"name": "yes"}, headers={"X-CSRF-Token": token}).status_code == 201
    # A login needs it too, so another site cannot log a browser into its own account.
    assert app.test_client().post("/api/login", json={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 403


@pytest.mark.parametrize("body", [None, {}, {"username": "admin"}, {"username": 1, "password": "x"}, ["admin", "pw"]])
def test_login_rejects_malformed_bodies(anon, body):
    assert anon.post("/api/login", json=body).status_code == 400


def test_wrong_password_is_refused_then_throttled(anon):
    from server import logins

    for _ in range(logins.MAX_FAILURES):
        r = anon.post("/api/login", json={"username": "admin", "password": "wrong-password"})
        assert r.status_code == 401 and r.get_json()["error"] == "wrong username or password"
    r = anon.post("/api/login", json={"username": "admin", "password": ADMIN[1]})
    assert r.status_code == 429


def test_unknown_user_gets_the_same_answer(anon):
    r = anon.post("/api/login", json={"username": "ghost", "password": "whatever-1"})
    assert r.status_code == 401 and r.get_json()["error"] == "wrong username or password"


def test_passwords_are_hashed_and_a_new_password_ends_old_sessions(app):
    with db.engine_of(app).connect() as conn:
        stored = conn.execute(auth.users.select().where(auth.users.c.username == ADMIN[0])).first().password_hash
    assert ADMIN[1] not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    client = login(app.test_client(), *ADMIN)
    assert client.get("/api/datasets").status_code == 200
    with db.engine_of(app).begin() as conn:
        auth.set_password(conn, ADMIN[0], "a-new-password")
    assert client.get("/api/datasets").status_code == 401


def test_logout_ends_the_session(client):
    assert client.get("/api/me").get_json()["user"]["role"] == "admin"
    client.post("/api/logout")
    assert client.get("/api/me").get_json()["user"] is None
    assert client.get("/api/datasets").status_code == 401


@pytest.mark.parametrize("body,message", [
    ({"username": "x y", "password": "long-enough", "role": "trainer"}, "username"),
    ({"username": "bob", "password": "short", "role": "trainer"}, "password"),
    ({"username": "bob", "password": "long-enough", "role": "root"}, "role"),
    ({"username": "admin", "password": "long-enough", "role": "trainer"}, "exists"),
    ({"username": "bob", "password": "long-enough", "role": "trainer", "extra": 1}, "expected"),
])
def test_admin_creates_users_with_checks(client, body, message):
    r = client.post("/api/users", json=body)
    assert r.status_code == 400 and message in r.get_json()["error"]


def test_admin_creates_and_deletes_a_user(client, app):
    r = client.post("/api/users", json={"username": "op1", "password": "op-password", "role": "operator"})
    assert r.status_code == 201
    op = login(app.test_client(), "op1", "op-password")
    assert op.get("/api/labels").status_code == 200
    assert client.delete(f"/api/users/{r.get_json()['id']}").status_code == 204
    assert op.get("/api/labels").status_code == 401


def test_first_start_without_a_password_makes_one_only_the_owner_can_read(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "ASYNC_MODE": "threading"})
    secret = tmp_path / "initial-admin-password"
    assert secret.stat().st_mode & 0o777 == 0o600
    login(app.test_client(), "admin", secret.read_text().strip())
    secret.unlink()
    create_app({"INSTANCE_PATH": str(tmp_path), "ASYNC_MODE": "threading"})  # users exist: nothing new
    assert not secret.exists()


@pytest.mark.parametrize("body", [{"username": "\ud800", "password": "x" * 10},
                                  {"username": "admin", "password": "pass\ud800word"},
                                  {"username": "a\nb", "password": "x" * 10}], ids=repr)
def test_logins_with_unencodable_text_are_clear_refusals(anon, body):
    r = anon.post("/api/login", json=body)
    assert r.status_code in (400, 401), r.data


def test_a_password_must_be_encodable(client):
    r = client.post("/api/users", json={"username": "newbie", "password": "long \ud800 password", "role": "viewer"})
    assert r.status_code == 400 and "Unicode" in r.get_json()["error"]


def test_the_session_cookie_is_samesite_lax_and_httponly(anon):
    r = anon.post("/api/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    cookie = r.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie, cookie


def test_a_copied_cookie_stops_working_at_logout(app):
    me = login(app.test_client(), *ADMIN)
    thief = app.test_client()
    thief.set_cookie("session", me.get_cookie("session").value)
    assert thief.get("/api/users").status_code == 200
    assert me.post("/api/logout").status_code == 200
    assert thief.get("/api/users").status_code == 401
    assert thief.get("/api/me").get_json()["user"] is None


def test_a_changed_password_ends_every_session(app, user_client):
    trainer = user_client("trainer")
    assert trainer.get("/api/datasets").status_code == 200
    with db.engine_of(app).begin() as conn:
        auth.set_password(conn, "trainer-user", "another-password")
    assert trainer.get("/api/datasets").status_code == 401


def test_login_takes_as_long_for_an_unknown_user(anon):
    import time

    def timed(name):
        t0 = time.perf_counter()
        assert anon.post("/api/login", json={"username": name, "password": "wrong-password"}).status_code == 401
        return time.perf_counter() - t0

    timed("nobody-0")  # the dummy hash is made once
    known = min(timed(ADMIN[0]) for _ in range(2))
    unknown = min(timed(f"nobody-{i}") for i in range(1, 3))
    assert unknown > 0.5 * known, (known, unknown)


def test_failed_logins_expire_and_their_table_stays_small(app):
    from server import logins

    key, window = ("admin", "10.0.0.1"), int(logins.FAILURE_WINDOW_S * 1000)
    with db.engine_of(app).begin() as conn:
        for i in range(logins.MAX_FAILURES):
            logins.record_failure(conn, key, now=1_000_000 + i)
        assert logins.throttled(conn, key, now=1_000_000 + window - 1)
        assert not logins.throttled(conn, key, now=1_000_000 + 2 * window)
        assert not logins.throttled(conn, ("admin", "10.0.0.2"), now=1_000_000 + window - 1)
        logins.record_failure(conn, ("someone", "10.0.0.3"), now=1_000_000 + 2 * window)  # the old ones go
        assert conn.execute(select(func.count()).select_from(logins.login_failures)).scalar_one() == 1


def test_failures_in_one_server_process_count_in_every_other(any_db_app):
    """Two processes on one database (two apps here): tries spread over the workers behind nginx
    are counted together."""
    from server import logins

    other = create_app({**{k: any_db_app.config[k] for k in ("INSTANCE_PATH", "MODELS_DIR", "DATABASE_URL")},
                        "ASYNC_MODE": "threading", "TESTING": True, **ADMIN_CONFIG})
    first, second = any_db_app.test_client(), other.test_client()
    for client in (first, second):
        client.environ_base["HTTP_X_CSRF_TOKEN"] = client.get("/api/me").get_json()["csrf_token"]
    for i in range(logins.MAX_FAILURES):
        r = (first, second)[i % 2].post("/api/login", json={"username": "admin", "password": "wrong-password"})
        assert r.status_code == 401
    for client in (first, second):
        assert client.post("/api/login", json={"username": "admin", "password": ADMIN[1]}).status_code == 429


def test_a_non_ascii_csrf_token_is_a_403(anon):
    r = anon.post("/api/login", json={"username": "a", "password": "b"}, headers={"X-CSRF-Token": "tök"})
    assert r.status_code == 403


@pytest.mark.parametrize("path", ["/trainer.html/", "/dashboard.html/", "/trainer.html/."])
def test_pages_with_a_trailing_slash_redirect_to_the_login(anon, path):
    r = anon.get(path)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login.html?next="), (r.status_code, r.data[:100])
