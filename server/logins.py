"""Login sessions kept server-side, and the guard against guessing passwords.

The signed cookie only carries a random session id; the session itself is a row here, so logging
out, changing a password or removing a user ends it at once, even for a copy of the cookie. A
failed login costs the same time whether the user exists or not, and the table of recent failures
is bounded (entries expire after the window; at most MAX_TRACKED keys)."""
from __future__ import annotations

import secrets
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, delete, insert, select
from werkzeug.security import check_password_hash, generate_password_hash

from core.clock import utcnow

from . import db

login_sessions = Table(
    "login_sessions", db.metadata,
    Column("id", String(64), primary_key=True),  # random; what the cookie carries
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A few wrong passwords per name and address per minute, then wait: slows guessing, not users.
MAX_FAILURES, FAILURE_WINDOW_S = 5, 60.0
MAX_TRACKED = 10_000


def start(conn, user_id: int) -> str:
    """A new session for the user; returns its id. Expired sessions go at the same time."""
    conn.execute(delete(login_sessions).where(login_sessions.c.created_at < utcnow() - _lifetime()))
    sid = secrets.token_urlsafe(32)
    conn.execute(insert(login_sessions).values(id=sid, user_id=user_id, created_at=utcnow()))
    return sid


def user_of(conn, sid) -> int | None:
    """The user id of a live session, or None (unknown, ended or expired)."""
    if not isinstance(sid, str) or len(sid) > 64:
        return None
    row = conn.execute(select(login_sessions.c.user_id, login_sessions.c.created_at)
                       .where(login_sessions.c.id == sid)).first()
    if row is None:
        return None
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=utcnow().tzinfo)
    return row.user_id if created >= utcnow() - _lifetime() else None


def end(conn, sid) -> None:
    if isinstance(sid, str):
        conn.execute(delete(login_sessions).where(login_sessions.c.id == sid))


def end_all(conn, user_id: int) -> int:
    """Every session of the user (a changed password, a removed user)."""
    return conn.execute(delete(login_sessions).where(login_sessions.c.user_id == user_id)).rowcount


def _lifetime() -> timedelta:
    try:
        return current_app.permanent_session_lifetime
    except RuntimeError:  # no app context (the command line)
        return timedelta(days=31)


_dummy_hash: str | None = None


def check_password(password_hash: str | None, password: str) -> bool:
    """check_password_hash, taking as long for an unknown user (password_hash None) as for a
    known one, so the answer's timing does not tell whether a name exists."""
    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
        check_password_hash(_dummy_hash, password)
        return False
    return check_password_hash(password_hash, password)


def _failures(app) -> dict[tuple[str, str], list[float]]:
    return app.extensions.setdefault("posecast.login_failures", {})


def throttled(app, key) -> bool:
    now = time.monotonic()
    failures = _failures(app)
    recent = [t for t in failures.get(key, []) if now - t < FAILURE_WINDOW_S]
    if recent:
        failures[key] = recent
    else:
        failures.pop(key, None)
    return len(recent) >= MAX_FAILURES


def record_failure(app, key) -> None:
    """Remember a failed login; the table never holds more than MAX_TRACKED keys."""
    now = time.monotonic()
    failures = _failures(app)
    failures.setdefault(key, []).append(now)
    del failures[key][:-MAX_FAILURES]
    if len(failures) > MAX_TRACKED:
        for k in [k for k, times in failures.items() if now - times[-1] >= FAILURE_WINDOW_S]:
            del failures[k]
        while len(failures) > MAX_TRACKED:  # still full of fresh failures: forget the oldest
            del failures[next(iter(failures))]
