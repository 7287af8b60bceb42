"""Database engine: SQLite in the instance folder by default, PostgreSQL via DATABASE_URL."""
from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import MetaData, create_engine, event, func, text  # noqa: F401 (func re-exported)
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
