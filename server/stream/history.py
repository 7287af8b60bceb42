"""The label log's REST side: query, counts per interval, streamed CSV/JSONL export, clients and
their sessions, ingestion stats, and retention (events older than POSECAST_RETENTION_DAYS go)."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from sqlalchemy import and_, delete, func, select

from core.checks import Invalid, check_text
from core.clock import now_ms as _now_ms

from .. import db
from ..errors import int_arg
from ..sockets import socketio
from . import label_log, services
from .pose_checks import CLIENT_ID

bp = Blueprint("history", __name__, url_prefix="/api")
ev = label_log.events
EXPORT_PAGE = 5000
COLUMNS = ("id", "client_id", "seq", "ts", "received_at", "label", "confidence", "model", "model_version",
           "backbone", "person", "fps", "session_id")
PURGE_EVERY_S = 3600


LATEST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def parse_time(raw: str, what: str) -> int:
    """ms since the epoch, or an ISO 8601 time (UTC unless it says otherwise), 1970 to 9999."""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 15:
        value = int(raw)
    else:
        try:
            t = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if t.tzinfo is None:
                t = t.replace(tzinfo=timezone.utc)
            value = int(t.timestamp() * 1000)
        except (ValueError, OverflowError):
            raise Invalid(f"{what} must be ms since the epoch or an ISO 8601 time") from None
    if not 0 <= value <= LATEST_MS:
        raise Invalid(f"{what} must be between 1970 and 9999")
    return value


def filters() -> list:
    """?client_id= &label= &model= &since= &until= (since inclusive, until exclusive, page time)."""
    unknown = set(request.args) - {"client_id", "label", "model", "since", "until", "limit", "after_id", "before_id",
                                   "order", "interval"}
    if unknown:
        raise Invalid(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    where = []
    for name in ("client_id", "label", "model"):
        if request.args.get(name):
            where.append(ev.c[name] == check_text(request.args[name], name))
    if request.args.get("since"):
        where.append(ev.c.ts >= parse_time(request.args["since"], "since"))
    if request.args.get("until"):
        where.append(ev.c.ts < parse_time(request.args["until"], "until"))
    return where


def _event(r) -> dict:
    return {c: getattr(r, c) for c in COLUMNS}


@bp.get("/labels")
def query():
    """Events oldest first, paged with ?after_id= (the response's next_after_id); or with
    ?order=desc newest first, paged with ?before_id= (next_before_id). ?limit= 1-5000."""
    where = filters()
    limit = int_arg("limit", 500, 1, 5000)
    order = request.args.get("order", "asc")
    if order not in ("asc", "desc"):
        raise Invalid("order must be asc or desc")
    if order == "asc":
        after = int_arg("after_id", 0, 0, 2 ** 62)
        q = select(ev).where(and_(ev.c.id > after, *where)).order_by(ev.c.id).limit(limit)
    else:
        before = int_arg("before_id", 2 ** 62, 1, 2 ** 62)
        q = select(ev).where(and_(ev.c.id < before, *where)).order_by(ev.c.id.desc()).limit(limit)
    with db.engine().connect() as conn:
        rows = [_event(r) for r in conn.execute(q)]
    more = len(rows) == limit
    key = "next_after_id" if order == "asc" else "next_before_id"
    return jsonify(events=rows, **{key: rows[-1]["id"] if more else None})


@bp.get("/labels/counts")
def counts():
    """Events per label per ?interval= seconds (default 60): {interval, buckets: [{t, label, count}]}."""
    where = filters()
    interval_ms = int_arg("interval", 60, 1, 86400 * 31) * 1000
    bucket = (ev.c.ts // interval_ms) * interval_ms
    q = (select(bucket.label("t"), ev.c.label, func.count().label("n")).where(*where)
         .group_by(bucket, ev.c.label).order_by(bucket, ev.c.label))
    with db.engine().connect() as conn:
        rows = conn.execute(q).all()
    return jsonify(interval=interval_ms // 1000,
                   buckets=[{"t": int(t), "label": label, "count": n} for t, label, n in rows])


def _pages(where: list):
    """Every matching event, read a page at a time so a large range never sits in memory."""
    engine, after = db.engine(), 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(ev).where(and_(ev.c.id > after, *where)).order_by(ev.c.id)
                                .limit(EXPORT_PAGE)).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


@bp.get("/labels/export.<fmt>")
def export(fmt: str):
    """The filtered log as CSV or JSONL, streamed."""
    if fmt not in ("csv", "jsonl"):
        return jsonify(error="export as .csv or .jsonl"), 404
    where = filters()

    def csv_lines():
        buf = io.StringIO()
        out = csv.writer(buf)
        out.writerow(COLUMNS)
        for rows in _pages(where):
            for r in rows:
                # A leading =, +, - or @ would make a spreadsheet run the label as a formula.
                out.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v for v in (getattr(r, c) for c in COLUMNS)])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        yield buf.getvalue()

    def jsonl_lines():
        for rows in _pages(where):
            yield "".join(json.dumps(_event(r), separators=(",", ":")) + "\n" for r in rows)

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    body = csv_lines() if fmt == "csv" else jsonl_lines()
    mime = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    return Response(stream_with_context(body), mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="posecast-labels-{stamp}.{fmt}"'})


@bp.get("/clients")
def list_clients():
    """Every client ever seen, with its event count and whether it is connected now."""
    hub = services.of(current_app).hub
    n = select(ev.c.client_id, func.count().label("events")).group_by(ev.c.client_id).subquery()
    q = (select(label_log.clients, func.coalesce(n.c.events, 0).label("events"))
         .outerjoin(n, n.c.client_id == label_log.clients.c.client_id).order_by(label_log.clients.c.last_seen.desc()))
    with db.engine().connect() as conn:
        rows = conn.execute(q).all()
    return jsonify(clients=[{**dict(r._mapping), "connected": hub.is_connected(r.client_id)}
                            for r in rows])


@bp.get("/clients/<client_id>/sessions")
def client_sessions(client_id: str):
    if not CLIENT_ID.fullmatch(client_id):
        return jsonify(error="no such client"), 404
    s = label_log.sessions
    with db.engine().connect() as conn:
        rows = conn.execute(select(s).where(s.c.client_id == client_id).order_by(s.c.id.desc()).limit(200)).all()
    return jsonify(sessions=[dict(r._mapping) for r in rows])


@bp.get("/stats")
def stats():
    """Ingestion now: events per second, totals, connected clients and dashboards."""
    stream = services.of(current_app)
    return jsonify(**stream.hub.rates(), written=stream.writer.written,
                   retention_days=current_app.config["RETENTION_DAYS"])


PURGE_CHUNK = 5000


def purge(app, now_ms: int | None = None) -> int:
    """Delete events received longer ago than the retention (0 days keeps everything), a chunk
    per transaction so the label writer never waits long for the database."""
    days = app.config["RETENTION_DAYS"]
    if not days:
        return 0
    cutoff = (_now_ms() if now_ms is None else now_ms) - days * 86400 * 1000
    n = 0
    while True:
        with db.engine_of(app).begin() as conn:
            # By the server's clock: an event acknowledged now lives RETENTION_DAYS from now,
            # whatever time the page's clock gave it.
            ids = select(ev.c.id).where(ev.c.received_at < cutoff).limit(PURGE_CHUNK).scalar_subquery()
            deleted = conn.execute(delete(ev).where(ev.c.id.in_(ids))).rowcount
        n += deleted
        if deleted < PURGE_CHUNK:
            break
        socketio.sleep(0)  # let ingestion in between chunks
    if n:
        app.logger.info("retention: deleted %d label events older than %d days", n, days)
    return n


@bp.post("/labels/purge")
def purge_now():
    """Apply the retention now (it also runs hourly)."""
    return jsonify(deleted=purge(current_app), retention_days=current_app.config["RETENTION_DAYS"])


def start_retention(app) -> None:
    def loop():
        while True:
            try:
                purge(app)
            except Exception:
                app.logger.exception("retention purge failed")
            socketio.sleep(PURGE_EVERY_S)

    socketio.start_background_task(loop)
