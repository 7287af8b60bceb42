"""The label log: what every live page classified, each event stored exactly once.

Tables for clients, their sessions and label events, the validation of a label batch (the
`labels` event of /pose in web/contract.json) and the insert that makes resends harmless:
(client_id, seq) is unique and a duplicate is skipped, not an error.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import (BigInteger, Column, Float, Index, Integer, String, Table, UniqueConstraint, bindparam,
                        select, text, update)

from core.clock import now_ms

from .. import db, instances

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
BigId = BigInteger().with_variant(Integer, "sqlite")

clients = Table(
    "clients", db.metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(64)),
    Column("first_seen", BigInteger, nullable=False),  # ms since the epoch, server clock
    Column("last_seen", BigInteger, nullable=False),
)

sessions = Table(
    "client_sessions", db.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("name", String(64)),
    Column("address", String(64)),
    Column("user_agent", String(256)),
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger),
    # The server process holding the connection (server/instances.py): only a dead one's open
    # sessions are closed by another process. NULL: opened before processes had ids.
    Column("instance_id", String(32)),
)

events = Table(
    "label_events", db.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("client_id", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("ts", BigInteger, nullable=False),  # ms since the epoch, page clock
    Column("received_at", BigInteger, nullable=False),  # ms, server clock
    Column("label", String(64), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("model", String(64)),
    Column("model_version", Integer),
    Column("backbone", String(32)),
    Column("person", Integer, nullable=False),
    Column("fps", Float),
    Column("session_id", BigInteger),
    UniqueConstraint("client_id", "seq", name="uq_label_events_client_seq"),
    Index("ix_label_events_ts", "ts"),
    Index("ix_label_events_client_ts", "client_id", "ts"),
    Index("ix_label_events_label_ts", "label", "ts"),
    Index("ix_label_events_received_at", "received_at"),  # retention goes by the server's clock
)

# The columns of both fast inserts, with their PostgreSQL types. PostgreSQL takes a whole batch as
# one array per column (1,500 events in ~25 ms here; a multi-row VALUES insert took ~140 ms).
COLUMNS = {"client_id": "text", "seq": "bigint", "ts": "bigint", "received_at": "bigint", "label": "text",
              "confidence": "float8", "model": "text", "model_version": "int", "backbone": "text", "person": "int",
              "fps": "float8", "session_id": "bigint"}
PG_INSERT = text(
    f"INSERT INTO label_events ({', '.join(COLUMNS)}) "
    f"SELECT * FROM unnest({', '.join(f'CAST(:{c} AS {t}[])' for c, t in COLUMNS.items())}) "
    "ON CONFLICT (client_id, seq) DO NOTHING RETURNING client_id, seq")


# SQLite: one multi-row VALUES statement per chunk, its SQL text made once per chunk size (the
# generic SQLAlchemy insert spent more time compiling parameters than SQLite spent writing).
SQLITE_CHUNK = 1000  # 12 columns x 1,000 rows stays under SQLite's 32,766 variables


@lru_cache(maxsize=64)
def _sqlite_insert(n: int) -> str:
    row = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    return (f"INSERT INTO label_events ({', '.join(COLUMNS)}) VALUES {', '.join([row] * n)} "
            "ON CONFLICT (client_id, seq) DO NOTHING RETURNING client_id, seq")


def insert_events(conn, rows: list[dict]) -> set[tuple[str, int]]:
    """Insert many events in one statement; returns the (client_id, seq) pairs that were new."""
    if not rows:
        return set()
    if conn.dialect.name == "postgresql":
        return {tuple(r) for r in conn.execute(PG_INSERT, {c: [r[c] for r in rows] for c in COLUMNS})}
    if conn.dialect.name != "sqlite":
        raise RuntimeError(f"the label log supports SQLite and PostgreSQL, not {conn.dialect.name}")
    new = set()
    for start in range(0, len(rows), SQLITE_CHUNK):
        chunk = rows[start:start + SQLITE_CHUNK]
        params = tuple(r[c] for r in chunk for c in COLUMNS)
        new.update(tuple(r) for r in conn.exec_driver_sql(_sqlite_insert(len(chunk)), params))
    return new


def touch_clients(conn, seen: dict[str, int]) -> None:
    """Move last_seen forward for clients that sent events (one statement for all)."""
    if seen:
        conn.execute(update(clients).where(clients.c.client_id == bindparam("cid")).values(last_seen=bindparam("seen")),
                     [{"cid": cid, "seen": ts} for cid, ts in seen.items()])


def open_session(conn, client: dict, address: str | None, user_agent: str | None) -> int:
    now = now_ms()
    row = conn.execute(select(clients.c.client_id).where(clients.c.client_id == client["client_id"])).first()
    if row:
        conn.execute(update(clients).where(clients.c.client_id == client["client_id"])
                     .values(last_seen=now, **({"name": client["name"]} if client["name"] else {})))
    else:
        conn.execute(clients.insert().values(client_id=client["client_id"], name=client["name"],
                                             first_seen=now, last_seen=now))
    return conn.execute(sessions.insert().values(
        client_id=client["client_id"], name=client["name"], address=(address or "")[:64],
        user_agent=(user_agent or "")[:256], started_at=now,
        instance_id=instances.current_id())).inserted_primary_key[0]


def close_session(conn, session_id: int) -> None:
    conn.execute(update(sessions).where(sessions.c.id == session_id).values(ended_at=now_ms()))


def ensure_indexes(conn) -> None:
    """Columns and indexes added after a database was made (create_all only makes missing tables)."""
    db.ensure_column(conn, sessions, "instance_id")
    for index in events.indexes:
        index.create(conn, checkfirst=True)


def close_orphan_sessions(conn, dead: set[str] | None = None) -> int:
    """Sessions left open by a server process that died end at their client's last sign of life;
    a live process's sessions (another worker's) stay open. `dead`: the dead processes' instance
    ids (the heartbeat's sweep); None (at start): the processes of this host that are gone, and
    sessions of no known live process (opened before processes had ids, or by one never serving)."""
    if dead is None:
        whose = instances.orphaned(conn, sessions.c.instance_id)
    elif dead:
        whose = sessions.c.instance_id.in_(dead)
    else:
        return 0
    last_seen = select(clients.c.last_seen).where(clients.c.client_id == sessions.c.client_id).scalar_subquery()
    return conn.execute(update(sessions).where(sessions.c.ended_at.is_(None), whose)
                        .values(ended_at=last_seen)).rowcount


def rename_client(conn, client_id: str, session_id: int, name: str | None) -> None:
    conn.execute(update(clients).where(clients.c.client_id == client_id).values(name=name))
    conn.execute(update(sessions).where(sessions.c.id == session_id).values(name=name))
