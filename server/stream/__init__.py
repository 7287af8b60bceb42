"""The stream wing: label events from live pages (and edge nodes) into the label log, and from
there to dashboards and alerts.

    /pose (ingest.py, checks in pose_checks.py) -> writer.py (group commit into label_log.py)
        -> observers: dashboard_hub.py (coalesced fan-out to /dashboard, dashboard.py)
                      alerts.py (rules, raised alerts)
    REST: history.py (query, export, clients, stats, retention), alerts.py (rules, alerts)

Nothing is imported at package import: `posecast serve` must monkey-patch before Flask loads.
"""
from __future__ import annotations


def init_app(app) -> None:
    """Load the wing (tables, routes, Socket.IO handlers) and make the hub, the alert engine, the
    writer and the rate limit, handed to each other here: kept in this process, or shared with
    every other process through Redis when POSECAST_MESSAGE_QUEUE is set."""
    from . import alerts, dashboard, history, ingest, services  # noqa: F401 (Socket.IO handlers)
    from .dashboard_hub import Hub
    from .rate_limit import Limiter, SharedLimiter
    from .writer import Writer

    rate = (app.config["RATE_EVENTS_PER_S"], app.config["RATE_BURST"])
    if app.config.get("MESSAGE_QUEUE"):
        from .redis_link import Link
        from .shared_alerts import SharedEngine
        from .shared_hub import SharedHub

        link = Link(app.config["MESSAGE_QUEUE"], app.config["MESSAGE_QUEUE_CHANNEL"])
        hub = SharedHub(app, link)
        engine = SharedEngine(app, on_alert=hub.alert, link=link)
        limiter = SharedLimiter(link, *rate)
    else:
        hub = Hub(app)
        engine = alerts.Engine(app, on_alert=hub.alert)
        limiter = Limiter(*rate)
    writer = Writer(app, observers=[hub.observe, engine.evaluate])
    app.extensions[services.KEY] = services.Stream(hub=hub, alerts=engine, writer=writer, limiter=limiter,
                                                   connections={})
    app.register_blueprint(history.bp)
    app.register_blueprint(alerts.bp)


def start(app) -> None:
    """With the tables there: indexes added since the database was made; sessions left open by
    a crash end."""
    from .. import db
    from . import label_log

    with db.engine_of(app).begin() as conn:
        label_log.ensure_indexes(conn)
        closed = label_log.close_orphan_sessions(conn)
    if closed:
        app.logger.info("closed %d client session(s) left open by an earlier stop", closed)
