"""Which server processes are alive, so that one process never ends what another live one holds
(client sessions, running video jobs) and what a dead one held is cleaned up.

Each app gets an instance id; a serving process (`posecast serve`) records it in
`server_instances` with its host and pid and beats there every POSECAST_HEARTBEAT_S seconds. What
a process holds (client sessions, running video jobs) carries its id. A process is dead when
- it ran on this host and its pid is gone (known at once, e.g. at the next start), or
- it has not beaten for DEAD_AFTER beats while this process was beating the whole time: a
  database outage stops every beat, so nobody is judged dead by the silence an outage causes.
Any live process may then close what a dead one left open (the sweep callbacks), and its row goes.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid

from flask import current_app, has_app_context
from sqlalchemy import BigInteger, Column, Integer, String, Table, delete, insert, or_, select, update

from core.clock import now_ms

from . import db
from .sockets import socketio

KEY = "posecast.instance"
DEAD_AFTER = 3  # beats missed

log = logging.getLogger("posecast.instances")

server_instances = Table(
    "server_instances", db.metadata,
    Column("id", String(32), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", BigInteger, nullable=False),  # ms since the epoch, the process's clock
    Column("beat_at", BigInteger, nullable=False),
    Column("dead_after_ms", BigInteger, nullable=False),  # its own DEAD_AFTER beats
)


def init_app(app) -> None:
    app.extensions[KEY] = uuid.uuid4().hex


def current_id() -> str | None:
    """This process's instance id (None outside an app context: the command line)."""
    return current_app.extensions.get(KEY) if has_app_context() else None


def beat(conn, app, now: int | None = None) -> None:
    """Record that this process is alive (the first beat adds its row)."""
    now = now_ms() if now is None else now
    row = {"beat_at": now, "dead_after_ms": DEAD_AFTER * app.config["HEARTBEAT_S"] * 1000}
    if conn.execute(update(server_instances).where(server_instances.c.id == app.extensions[KEY])
                    .values(**row)).rowcount == 0:
        conn.execute(insert(server_instances).values(id=app.extensions[KEY], host=socket.gethostname(),
                                                     pid=os.getpid(), started_at=now, **row))


def dead_here(conn) -> set[str]:
    """Instances that ran on this host and whose process is gone."""
    host = socket.gethostname()
    return {r.id for r in conn.execute(select(server_instances.c.id, server_instances.c.pid)
                                       .where(server_instances.c.host == host)) if not _alive(r.pid)}


def orphaned(conn, column):
    """A condition on an instance-id column: held by no live process as far as a process just
    starting can tell (no id: from before ids; an id with no row: a process that never served or
    was judged dead; a process of this host that is gone)."""
    return or_(column.is_(None), column.not_in(select(server_instances.c.id)), column.in_(dead_here(conn)))


def silent(conn, now: int) -> set[str]:
    """Instances that have not beaten for DEAD_AFTER of their beats (any host)."""
    return set(conn.execute(select(server_instances.c.id).where(
        server_instances.c.beat_at + server_instances.c.dead_after_ms < now)).scalars())


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process holds the pid
        return True
    try:  # a killed child its parent has not reaped yet is a zombie: dead too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def start(app, sweeps=(), checks=()) -> None:
    """Beat now (before serving), then in a background task; each `sweep(conn, dead_ids)` gets
    the dead instances' ids to close what they left open; each `check(app, conn)` runs at every
    beat (what this process holds that the database says has ended, e.g. a revoked device)."""
    with db.engine_of(app).begin() as conn:
        beat(conn, app)
    socketio.start_background_task(_loop, app, tuple(sweeps), tuple(checks))


def _loop(app, sweeps, checks) -> None:
    period = app.config["HEARTBEAT_S"]
    steady_since = time.monotonic()  # beating without a gap since then
    failing = False
    while True:
        time.sleep(period)
        try:
            now = now_ms()
            with db.engine_of(app).begin() as conn:
                beat(conn, app, now)
                dead = dead_here(conn)
                # Only after a whole dead window of our own beats can another's silence mean death.
                if time.monotonic() - steady_since >= DEAD_AFTER * period:
                    dead |= silent(conn, now)
                dead.discard(app.extensions[KEY])
                if dead:
                    for sweep in sweeps:
                        sweep(conn, dead)
                    # Swept in the same transaction: a dead process's row goes (one that was only
                    # cut off adds it again with its next beat).
                    conn.execute(delete(server_instances).where(server_instances.c.id.in_(dead)))
                    log.info("instance(s) %s stopped beating; what they left open is closed", ", ".join(sorted(dead)))
            if failing:
                log.warning("heartbeat: the database answers again")
            failing = False
            _run_checks(app, checks)
        except Exception as exc:  # the database is away: keep trying, judge nobody meanwhile
            if not failing:
                log.warning("heartbeat failed (%s); retrying every %s s", exc.__class__.__name__, period)
            failing = True
            steady_since = time.monotonic() + period


def _run_checks(app, checks) -> None:
    """Each in a transaction of its own, after the beat: a failing check must not stop the beats
    (other processes would judge this one dead)."""
    for check in checks:
        try:
            with db.engine_of(app).begin() as conn:
                check(app, conn)
        except Exception:
            log.exception("heartbeat check %s failed", getattr(check, "__name__", check))
