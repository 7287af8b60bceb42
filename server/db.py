"""Database engine: SQLite in the instance folder by default, PostgreSQL via DATABASE_URL."""
from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import MetaData, Table, create_engine, event, func, inspect, text  # noqa: F401 (func re-exported)
from sqlalchemy.engine import Engine

metadata = MetaData()


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    app.extensions["posecast.db"] = engine


# Any fixed number: PostgreSQL's advisory locks are named by a 64-bit key ("posecast" in ASCII).
STARTUP_LOCK_KEY = 0x706F736563617374


def create_tables(app: Flask) -> None:
    metadata.create_all(engine_of(app))


@contextmanager
def startup_lock(app: Flask) -> Iterator[None]:
    """Server processes started at once on a new database take turns to make its tables, columns,
    indexes, first admin and model registry: otherwise two both find a table missing and the second
    CREATE fails (or a second first admin). `posecast cluster` starts its first worker alone for
    this; the lock covers any other way of starting several (systemd, containers, a script).
    PostgreSQL: an advisory lock (held by a connection of its own, released when it closes, also
    by a crash). SQLite: an exclusive lock on a file beside the database (one host)."""
    with engine_lock(engine_of(app)):
        yield


@contextmanager
def engine_lock(engine: Engine) -> Iterator[None]:
    """startup_lock for a bare engine (`posecast train --dataset` adds columns too)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with open(Path(engine.url.database).with_name(Path(engine.url.database).name + ".startup-lock"), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
    else:
        yield


def ensure_column(conn, table: Table, name: str) -> None:
    """Add a (nullable) column a table got after the database was made: create_all only makes
    missing tables."""
    if name not in {c["name"] for c in inspect(conn).get_columns(table.name)}:
        kind = table.c[name].type.compile(conn.dialect)
        conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets the label log be written while dashboards read it.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def engine() -> Engine:
    return current_app.extensions["posecast.db"]


def engine_of(app: Flask) -> Engine:
    return app.extensions["posecast.db"]


def ping() -> str:
    """Round-trip to the database; returns the dialect name."""
    with engine().connect() as conn:
        conn.execute(text("SELECT 1"))
    return engine().dialect.name
