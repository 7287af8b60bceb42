"""Users, roles, login sessions and CSRF.

Roles: `admin` may do everything; `trainer` the trainer page and model registry; `operator` the
dashboard, label log and alerts; `viewer` only the live page (when POSECAST_LIVE_LOGIN requires
one). Every route is checked in one place (`_guard`, by path), so a new route cannot be forgotten:
tests/test_auth.py walks the URL map and fails on any route this table does not cover.
"""
from __future__ import annotations

import hmac
import logging
import posixpath
import re
import secrets
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, redirect, request, session
from sqlalchemy import Column, DateTime, Integer, String, Table, insert, select
from werkzeug.security import generate_password_hash

from . import db, logins, tokens
from .config import ConfigError
from core.checks import Invalid
from core.clock import utcnow as _now

ROLES = ("admin", "trainer", "operator", "viewer")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
MIN_PASSWORD = 8

users = Table(
    "users", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Paths anyone may use. Everything under /api that is not here needs the role in PROTECTED.
PUBLIC_API = {"/api/health", "/api/client-log", "/api/login", "/api/logout", "/api/me"}
PROTECTED = (  # (path prefix, role); the first match wins
    ("/api/users", "admin"),
    ("/api/datasets", "trainer"), ("/api/samples", "trainer"), ("/api/runs", "trainer"),
    ("/api/models", "trainer"), ("/trainer.html", "trainer"),
    ("/api/labels", "operator"), ("/api/clients", "operator"), ("/api/alerts", "operator"),
    ("/api/alert-rules", "operator"), ("/api/stats", "operator"), ("/dashboard.html", "operator"),
    ("/api/v1", "viewer"),  # inference and video jobs: any login or API token, never anonymous
)
LIVE_PAGES = ("/", "/index.html")
CSRF_EXEMPT = {"/api/client-log"}  # an anonymous error beacon that changes nothing
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

bp = Blueprint("auth", __name__, url_prefix="/api")
audit = logging.getLogger("posecast.auth")


def may(role: str | None, needed: str) -> bool:
    """Whether a user with `role` may use something that needs `needed` (admin may use all)."""
    if role is None:
        return False
    return role == "admin" or role == needed or needed == "viewer"


def required_role(path: str) -> str | None:
    """The role a path needs, or None when anyone may use it."""
    path = posixpath.normpath(path) if path not in ("", "/") else "/"  # /./trainer.html is /trainer.html
    for prefix, role in PROTECTED:
        if path == prefix or path.startswith(prefix + "/") or (prefix.endswith(".html") and path == prefix):
            return role
    if path in LIVE_PAGES and current_app.config["LIVE_LOGIN"]:
        return "viewer"
    return None


def bearer() -> str | None:
    """The API token of this request (`Authorization: Bearer ...` on an /api/ path), if it has one."""
    header = request.headers.get("Authorization", "")
    if not request.path.startswith("/api/") or not header[:7].lower() == "bearer ":
        return None
    return header[7:].strip()


def current_user() -> dict | None:
    """The logged-in user of this request (or Socket.IO connect), checked against the database;
    for a request with an API token, the token's identity and role (its cookie, if any, ignored)."""
    if "user" in g:
        return g.user
    user = None
    token = bearer()
    if token is not None:
        with db.engine().connect() as conn:
            g.user = tokens.principal(conn, token)
        return g.user
    if session.get("sid") is not None:
        # The session lives in the database: logout, a changed password or a removed user end it,
        # whoever holds a copy of the cookie.
        with db.engine().connect() as conn:
            uid = logins.user_of(conn, session["sid"])
            row = uid is not None and conn.execute(select(users).where(users.c.id == uid)).first()
        if row:
            user = {"id": row.id, "username": row.username, "role": row.role}
    g.user = user
    return user


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _guard():
    path = request.path
    if path.startswith("/api/v1/") and bearer() is None and current_user() is None:
        # Programs call /api/v1: one without credentials is told so, not asked for a CSRF token.
        return jsonify(error="log in first", hint="send Authorization: Bearer <API token>"), 401
    # A token is sent by a program, never added by a browser on its own: no CSRF to guard against.
    if request.method in UNSAFE and path not in CSRF_EXEMPT and bearer() is None:
        sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        # bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500)
        if not sent or not hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode()):
            return jsonify(error="missing or wrong CSRF token (GET /api/me gives one)"), 403
    needed = required_role(path)
    if needed is None:
        return None
    user = current_user()
    if may(user and user["role"], needed):
        return None
    if posixpath.normpath(path).endswith(".html") or path in LIVE_PAGES:  # /trainer.html/ is a page too
        if user is None:
            return redirect(f"/login.html?next={path}")
        return f"{user['role']} may not open {path}", 403, {"Content-Type": "text/plain; charset=utf-8"}
    if user is None and bearer() is not None:
        return jsonify(error="unknown or revoked API token"), 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    if user is None:
        return jsonify(error="log in first"), 401
    return jsonify(error=f"this needs the {needed} role"), 403


def init_app(app) -> None:
    # Flask's defaults hold these keys (SameSite None), so setdefault would change nothing.
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.before_request(_guard)
    app.register_blueprint(bp)
    admin, password = app.config.get("ADMIN_USER"), app.config.get("ADMIN_PASSWORD")
    with db.engine_of(app).begin() as conn:
        if admin and password and not conn.execute(select(users.c.id).where(users.c.username == admin)).first():
            try:
                add_user(conn, admin, password, "admin")
            except Invalid as exc:
                raise ConfigError(f"POSECAST_ADMIN_USER / POSECAST_ADMIN_PASSWORD: {exc}") from None
            app.logger.info("created the first admin %r from POSECAST_ADMIN_USER", admin)
        elif not conn.execute(select(users.c.id)).first():
            # A first start with nobody to log in: make an admin with a random password, kept
            # only in a file that the server's user alone can read.
            password = secrets.token_urlsafe(12)
            add_user(conn, admin or "admin", password, "admin")
            path = Path(app.instance_path) / "initial-admin-password"
            path.write_text(password + "\n")
            path.chmod(0o600)
            app.logger.warning("created the first admin %r; the password is in %s (change it with "
                               "`posecast users passwd %s`)", admin or "admin", path, admin or "admin")


def add_user(conn, username: str, password: str, role: str) -> int:
    """Create a user; raises Invalid for a bad name, a short password, an unknown role or a taken name."""
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise Invalid("username: 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")
    check_password_text(password)
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise Invalid(f"user {username!r} exists already")
    return conn.execute(insert(users).values(username=username, password_hash=generate_password_hash(password),
                                             role=role, created_at=_now())).inserted_primary_key[0]


def check_password_text(password) -> str:
    """A password is text that UTF-8 can encode (no lone surrogates)."""
    try:
        password.encode("utf-8")
    except (UnicodeEncodeError, AttributeError):
        raise Invalid("password must be valid Unicode text") from None
    return password


def set_password(conn, username: str, password: str) -> bool:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")
    check_password_text(password)
    done = conn.execute(users.update().where(users.c.username == username)
                        .values(password_hash=generate_password_hash(password))).rowcount == 1
    if done:  # every session made with the old password ends
        logins.end_all(conn, conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one())
    return done


@bp.get("/me")
def me():
    """Who is logged in, and the CSRF token every form and fetch must send back."""
    user = current_user()
    return jsonify(user=user, csrf_token=csrf_token(), live_login=current_app.config["LIVE_LOGIN"])


@bp.post("/login")
def login():
    """{username, password} -> a session cookie. The same answer for an unknown name and a wrong password."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("username"), str) or not isinstance(body.get("password"), str):
        raise Invalid("expected {username: string, password: string}")
    check_password_text(body["password"])
    key = (body["username"][:64].encode("utf-8", "backslashreplace").decode(), request.remote_addr or "")
    with db.engine().connect() as conn:
        refused = logins.throttled(conn, key)
    if refused:
        audit.warning("login for %r from %s refused: too many failures", key[0], key[1])
        return jsonify(error="too many failed logins; try again in a minute"), 429
    row = None
    if USERNAME.fullmatch(body["username"]):  # any other name is no user's (and never reaches the database)
        with db.engine().connect() as conn:
            row = conn.execute(select(users).where(users.c.username == body["username"])).first()
    # As long for an unknown name as for a wrong password: the timing tells nothing.
    if not logins.check_password(row.password_hash if row else None, body["password"]):
        with db.engine().begin() as conn:
            logins.record_failure(conn, key)
        audit.warning("failed login for %r from %s", key[0], key[1])
        return jsonify(error="wrong username or password"), 401
    audit.info("%s (%s) logged in from %s", row.username, row.role, key[1])
    with db.engine().begin() as conn:
        sid = logins.start(conn, row.id)
    session.clear()  # a fresh session (and CSRF token) at every login
    session["sid"] = sid
    session.permanent = True
    user = {"id": row.id, "username": row.username, "role": row.role}
    return jsonify(user=user, csrf_token=csrf_token())


@bp.post("/logout")
def logout():
    with db.engine().begin() as conn:
        logins.end(conn, session.get("sid"))
    session.clear()
    return jsonify(user=None, csrf_token=csrf_token())


@bp.get("/users")
def list_users():
    with db.engine().connect() as conn:
        rows = conn.execute(select(users.c.id, users.c.username, users.c.role).order_by(users.c.id)).all()
    return jsonify(users=[dict(r._mapping) for r in rows])


@bp.post("/users")
def create_user():
    """Admin only: {username, password, role}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) - {"username", "password", "role"}:
        raise Invalid("expected {username, password, role}")
    with db.engine().begin() as conn:
        uid = add_user(conn, body.get("username"), body.get("password"), body.get("role"))
    audit.info("%s added user %r (%s)", current_user()["username"], body["username"], body["role"])
    return jsonify(id=uid, username=body["username"], role=body["role"]), 201


@bp.delete("/users/<int:user_id>")
def delete_user(user_id: int):
    if user_id == current_user()["id"]:
        raise Invalid("you cannot delete yourself")
    with db.engine().begin() as conn:
        if conn.execute(users.delete().where(users.c.id == user_id)).rowcount == 0:
            return jsonify(error="no such user"), 404
    return "", 204


def socket_user_may(needed: str | None) -> bool:
    """For Socket.IO connect handlers: may this connection's session use a namespace needing `needed`?"""
    if needed is None:
        return True
    user = current_user()
    return may(user and user["role"], needed)
