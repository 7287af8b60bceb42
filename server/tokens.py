"""API tokens: for programs that call /api/v1 (and any API route their role allows) without a
login. `posecast tokens create NAME --role ROLE` prints the token once; only its sha256 is stored,
so a copy of the database gives no working token. Sent as `Authorization: Bearer <token>`.
A revoked token is refused at once (the hash stays, marked revoked, so a name is never reused
for another token by accident and the list shows what existed)."""
from __future__ import annotations

import re

from sqlalchemy import Column, DateTime, Integer, String, Table, insert, select

from . import db, secret_tokens
from core.checks import Invalid
from core.clock import utcnow as _now

PREFIX = "pct_"  # recognisable in logs and secret scanners
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
SHAPE = re.compile(r"pct_[A-Za-z0-9_-]{43}")  # 32 random bytes, url-safe base64

api_tokens = Table(
    "api_tokens", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)


def create(conn, name: str, role: str, roles: tuple) -> str:
    """A new token for `name` with `role`; returns the token (shown once, never stored)."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise Invalid("token name: 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    if role not in roles:
        raise Invalid(f"role must be one of {', '.join(roles)}")
    if conn.execute(select(api_tokens.c.id).where(api_tokens.c.name == name)).first():
        raise Invalid(f"a token named {name!r} exists already (revoked ones too: pick another name)")
    token = secret_tokens.new(PREFIX)
    conn.execute(insert(api_tokens).values(name=name, role=role, token_sha256=secret_tokens.digest(token), created_at=_now()))
    return token


def revoke(conn, name: str) -> bool:
    return secret_tokens.revoke(conn, api_tokens, name, _now())


def listing(conn) -> list[dict]:
    rows = conn.execute(select(api_tokens).order_by(api_tokens.c.name)).all()
    return [{"name": r.name, "role": r.role, "created_at": r.created_at.isoformat(),
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None} for r in rows]


def principal(conn, token: str) -> dict | None:
    """The token's identity ({token_id, username: "token:NAME", role}), or None when the token is
    malformed, unknown or revoked. Looked up by its hash: the database compares digests."""
    if not SHAPE.fullmatch(token):
        return None
    row = conn.execute(select(api_tokens).where(api_tokens.c.token_sha256 == secret_tokens.digest(token),
                                                api_tokens.c.revoked_at.is_(None))).first()
    if row is None:
        return None
    return {"id": None, "token_id": row.id, "username": f"token:{row.name}", "role": row.role}
