"""The stream wing's long-lived objects, made once per app by `server.stream.init_app` and handed
to each other there: the dashboard hub, the alert engine, the label writer and the rate limit
(per process, or shared through Redis in a cluster)."""
from __future__ import annotations

from dataclasses import dataclass

KEY = "posecast.stream"


@dataclass
class Stream:
    hub: object  # dashboard_hub.Hub, or shared_hub.SharedHub in a cluster
    alerts: object  # alerts.Engine, or shared_alerts.SharedEngine
    writer: object  # writer.Writer
    limiter: object  # rate_limit.Limiter, or rate_limit.SharedLimiter
    connections: dict  # Socket.IO sid -> the connected page's client, session and counters


def of(app) -> Stream:
    return app.extensions[KEY]
