"""The stream wing's long-lived objects, made once per app by `server.stream.init_app` and handed
to each other there: the dashboard hub, the alert engine and the label writer."""
from __future__ import annotations

from dataclasses import dataclass

KEY = "posecast.stream"


@dataclass
class Stream:
    hub: object  # dashboard_hub.Hub
    alerts: object  # alerts.Engine
    writer: object  # writer.Writer
    buckets: dict  # client_id -> rate_limit.Bucket
    connections: dict  # Socket.IO sid -> the connected page's client, session and counters


def of(app) -> Stream:
    return app.extensions[KEY]
