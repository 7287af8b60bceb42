"""Device tokens: how an edge node (`posecast edge`) proves to /pose that an admin let it in.

`posecast devices add NAME` makes a token, shows it once and keeps only its sha256
(secret_tokens.py); `revoke` ends it: refused at connect, and a node connected with it is told and
cut off within two heartbeats (stream/ingest.py `refuse_revoked`); `list` shows names and states. A
node that connects with a token is listed on dashboards as an edge client; a page sends none.
"""
from __future__ import annotations

import hmac

from sqlalchemy import BigInteger, Column, Integer, String, Table, insert, select, update

from core.checks import NAME, Invalid
from core.clock import now_ms

from . import db, secret_tokens

PREFIX = "pcd_"  # recognisable in a config file or a leaked log

devices = Table(
    "devices", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),  # ms since the epoch
    Column("revoked_at", BigInteger),
    Column("last_used_at", BigInteger),
)


def add(conn, name: str) -> str:
    """A new device (or a new token for a revoked one); returns the token, never stored."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise Invalid("device name: 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
    token = secret_tokens.new(PREFIX)
    row = conn.execute(select(devices).where(devices.c.name == name)).first()
    if row and row.revoked_at is None:
        raise Invalid(f"device {name!r} exists; revoke it first to give it a new token")
    values = {"token_sha256": secret_tokens.digest(token), "created_at": now_ms(), "revoked_at": None,
              "last_used_at": None}
    if row:
        conn.execute(update(devices).where(devices.c.id == row.id).values(**values))
    else:
        conn.execute(insert(devices).values(name=name, **values))
    return token


def revoke(conn, name: str) -> bool:
    return secret_tokens.revoke(conn, devices, name, now_ms())


def listing(conn) -> list[dict]:
    rows = conn.execute(select(devices.c.name, devices.c.created_at, devices.c.revoked_at, devices.c.last_used_at)
                        .order_by(devices.c.name))
    return [dict(r._mapping) for r in rows]


def verify(conn, token: str) -> str:
    """The device name a token belongs to; Invalid (saying why) for an unknown or revoked one."""
    digest = secret_tokens.digest(token)
    row = conn.execute(select(devices).where(devices.c.token_sha256 == digest)).first()
    if row is None or not hmac.compare_digest(row.token_sha256, digest):
        raise Invalid("unknown device token: an admin makes one with `posecast devices add NAME`")
    if row.revoked_at is not None:
        raise Invalid(revoked_message(row.name))
    conn.execute(update(devices).where(devices.c.id == row.id).values(last_used_at=now_ms()))
    return row.name


def revoked_message(name: str) -> str:
    return f"the device token of {name!r} was revoked: an admin gives a new one with `posecast devices add {name}`"


def valid_digests(conn, digests: set[str]) -> set[str]:
    """Which of these token hashes still let a device in (not revoked, not replaced by a new token)."""
    if not digests:
        return set()
    return set(conn.execute(select(devices.c.token_sha256).where(
        devices.c.token_sha256.in_(sorted(digests)), devices.c.revoked_at.is_(None))).scalars())
