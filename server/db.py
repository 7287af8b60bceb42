"""Database engine: SQLite in the instance folder by default, PostgreSQL via DATABASE_URL."""
from __future__ import annotations

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


def create_tables(app: Flask) -> None:
    metadata.create_all(engine_of(app))


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
