"""What API tokens (tokens.py) and edge device tokens (devices.py) share: a random 256-bit token
shown once, of which only the sha256 is stored (a token is random, so a fast hash is enough:
nothing to guess from it, unlike a password), and revocation by name that keeps the row."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import update


def new(prefix: str) -> str:
    """A fresh token; the prefix makes it recognisable in a config file, a log or a secret scanner."""
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def revoke(conn, table, name: str, when) -> bool:
    """Marks `name`'s live token revoked at `when`; False when there is none."""
    return conn.execute(update(table).where(table.c.name == name, table.c.revoked_at.is_(None))
                        .values(revoked_at=when)).rowcount == 1
