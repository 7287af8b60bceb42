"""Login sessions kept server-side, and the guard against guessing passwords.

The signed cookie only carries a random session id; the session itself is a row here, so logging
out, changing a password or removing a user ends it at once, even for a copy of the cookie. A
failed login costs the same time whether the user exists or not. Recent failures are rows too, so
every server process counts the same ones (a guesser cannot spread tries over the workers behind
nginx); rows older than the window go with each new failure, so the table stays small."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Table, delete, func, insert, select
from werkzeug.security import check_password_hash, generate_password_hash

from core.clock import now_ms, utcnow

from . import db

login_sessions = Table(
    "login_sessions", db.metadata,
    Column("id", String(64), primary_key=True),  # random; what the cookie carries
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

login_failures = Table(
    "login_failures", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),  # as typed (cut to 64), not only real users'
    Column("address", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),  # wall clock: shared by every process
    Index("ix_login_failures_key", "username", "address", "at_ms"),
)

# A few wrong passwords per name and address per minute, then wait: slows guessing, not users.
MAX_FAILURES, FAILURE_WINDOW_S = 5, 60.0


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


def throttled(conn, key: tuple[str, str], now: int | None = None) -> bool:
    """Has this (name, address) failed MAX_FAILURES times within the window, in any process?"""
    since = (now_ms() if now is None else now) - int(FAILURE_WINDOW_S * 1000)
    count = conn.execute(select(func.count()).select_from(login_failures).where(
        login_failures.c.username == key[0][:64], login_failures.c.address == key[1][:64],
        login_failures.c.at_ms > since)).scalar_one()
    return count >= MAX_FAILURES


def record_failure(conn, key: tuple[str, str], now: int | None = None) -> None:
    """Remember a failed login; every failure older than the window goes at the same time."""
    now = now_ms() if now is None else now
    conn.execute(delete(login_failures).where(login_failures.c.at_ms <= now - int(FAILURE_WINDOW_S * 1000)))
    conn.execute(insert(login_failures).values(username=key[0][:64], address=key[1][:64], at_ms=now))
