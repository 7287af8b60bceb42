"""The Socket.IO event contract, read from web/contract.json (the single written copy)."""
from __future__ import annotations

import json
from functools import lru_cache

from core.paths import WEB_DIR

CONTRACT_FILE = WEB_DIR / "contract.json"


@lru_cache(maxsize=1)
def contract() -> dict:
    return json.loads(CONTRACT_FILE.read_text())


def event(namespace: str, name: str) -> str:
    """The event's name, checked against the contract so a typo fails loudly."""
    spec = contract()["namespaces"][namespace]
    if name not in spec["server_to_client"] and name not in spec["client_to_server"]:
        raise KeyError(f"{name!r} is not an event of {namespace} in web/contract.json")
    return name


LIVE = "/live"
MODEL_ACTIVATED = event(LIVE, "model_activated")
MODEL_CLEARED = event(LIVE, "model_cleared")
TRAINER = "/trainer"
TRAIN_PROGRESS = event(TRAINER, "train_progress")
IMPORT_PROGRESS = event(TRAINER, "import_progress")
POSE = "/pose"
LABELS = event(POSE, "labels")
SET_NAME = event(POSE, "set_name")
SKELETON = event(POSE, "skeleton")
REFUSED = event(POSE, "refused")
DASHBOARD = "/dashboard"
SNAPSHOT = event(DASHBOARD, "snapshot")
UPDATE = event(DASHBOARD, "update")
ALERT = event(DASHBOARD, "alert")
ALERT_ACKNOWLEDGED = event(DASHBOARD, "alert_acknowledged")
DASHBOARD_SKELETON = event(DASHBOARD, "skeleton")
WATCH = event(DASHBOARD, "watch")
JOBS = "/jobs"
JOB_PROGRESS = event(JOBS, "job_progress")
