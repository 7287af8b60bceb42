"""Every check of what arrives on /pose (web/contract.json): the connect payload, label batches,
display names and skeletons. A failed check raises Invalid; the handlers turn it into an error
acknowledgement or a refused connection."""
from __future__ import annotations

import re

from core.checks import Invalid, check_int, check_number, check_text, fields, is_text
from core.clock import now_ms

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")  # server/devices.py makes them
EARLIEST_TS = 1_577_836_800_000  # 2020-01-01: older is a broken clock
FUTURE_SLACK_MS = 24 * 3600 * 1000
MAX_SEQ = 2 ** 53 - 1  # what a JavaScript number holds exactly

# field -> (required, check(value) -> cleaned value or raise Invalid)
REQUIRED = ("seq", "ts", "label", "confidence")
OPTIONAL = ("model", "model_version", "backbone", "person", "fps")
_FIELDS, _REQUIRED = frozenset(REQUIRED + OPTIONAL), frozenset(REQUIRED)
_NUMBER = (float, int)  # compared with `type(v) in`: bool, a subclass of int, is not one


def validate_client(auth) -> dict:
    """The /pose connect payload: {client_id, name?, token?} (token: an edge node's device token)."""
    if not isinstance(auth, dict):
        raise Invalid("connect with auth {client_id: string, name?: string, token?: string}")
    fields(auth, optional=("client_id", "name", "token"))
    cid = auth.get("client_id")
    if not isinstance(cid, str) or not CLIENT_ID.fullmatch(cid):
        raise Invalid("client_id must be 8-64 letters, digits, '_' or '-'")
    name = auth.get("name") or None
    token = auth.get("token")
    if token is not None and (not isinstance(token, str) or not TOKEN.fullmatch(token)):
        raise Invalid("a device token is 16-128 letters, digits, '_' or '-'")
    return {"client_id": cid, "name": check_text(name, "name", allow_none=True), "token": token}


def validate_event(e, now: int, i: int) -> dict:
    where = f"events[{i}]"
    if not isinstance(e, dict):
        raise Invalid(f"{where} must be an object")
    fields(e, REQUIRED, OPTIONAL, where)
    model_version = e.get("model_version")
    fps = e.get("fps")
    return {
        "seq": check_int(e["seq"], f"{where}.seq", 0, MAX_SEQ),
        "ts": check_int(e["ts"], f"{where}.ts (ms since the epoch)", EARLIEST_TS, now + FUTURE_SLACK_MS),
        "label": check_text(e["label"], f"{where}.label"),
        "confidence": check_number(e["confidence"], f"{where}.confidence", 0, 1),
        "model": check_text(e.get("model"), f"{where}.model", allow_none=True),
        "model_version": None if model_version is None else check_int(model_version, f"{where}.model_version", 0, 10**9),
        "backbone": check_text(e.get("backbone"), f"{where}.backbone", allow_none=True),
        "person": check_int(e.get("person", 0), f"{where}.person", 0, 2**31 - 1),
        "fps": None if fps is None else check_number(fps, f"{where}.fps", 0, 1000),
    }


def _valid_event(e, ts_max: int) -> dict | None:
    """validate_event's result for an event that passes every check, in one pass of plain
    comparisons (a third of the cost at 1,000 connections); None for anything else, which
    validate_event then checks one field at a time to say what is wrong. Exact types only (a
    bool is no number here either); anything unusual goes the slow way, to the same result."""
    if type(e) is not dict or not e.keys() <= _FIELDS or not _REQUIRED <= e.keys():
        return None
    seq, ts, label, conf = e["seq"], e["ts"], e["label"], e["confidence"]
    model, version, backbone = e.get("model"), e.get("model_version"), e.get("backbone")
    person, fps = e.get("person", 0), e.get("fps")
    if (type(seq) is not int or not 0 <= seq <= MAX_SEQ or type(ts) is not int or not EARLIEST_TS <= ts <= ts_max
            or type(conf) not in _NUMBER or not 0 <= conf <= 1  # NaN fails the comparison
            or type(person) is not int or not 0 <= person <= 2**31 - 1
            or not (version is None or type(version) is int and 0 <= version <= 10**9)
            or not (fps is None or type(fps) in _NUMBER and 0 <= fps <= 1000)
            or not is_text(label) or not (model is None or is_text(model))
            or not (backbone is None or is_text(backbone))):
        return None
    return {"seq": seq, "ts": ts, "label": label, "confidence": float(conf), "model": model,
            "model_version": version, "backbone": backbone, "person": person, "fps": None if fps is None else float(fps)}


def validate_batch(payload, max_events: int, now: int | None = None) -> list[dict]:
    """A `labels` payload {events: [...]} -> cleaned events; any bad event rejects the whole batch."""
    now = now_ms() if now is None else now
    if not isinstance(payload, dict) or set(payload) != {"events"}:
        raise Invalid("expected {events: [...]}")
    batch = payload["events"]
    if not isinstance(batch, list) or not batch:
        raise Invalid("events must be a non-empty list")
    if len(batch) > max_events:
        raise Invalid(f"at most {max_events} events per batch")
    ts_max = now + FUTURE_SLACK_MS
    clean = [_valid_event(e, ts_max) or validate_event(e, now, i) for i, e in enumerate(batch)]
    if len({e["seq"] for e in clean}) != len(clean):
        raise Invalid("a batch may not repeat a seq")
    return clean


def validate_name(payload) -> str | None:
    """A `set_name` payload: {name: string | null}."""
    if not isinstance(payload, dict) or set(payload) != {"name"}:
        raise Invalid("expected {name: string | null}")
    return check_text(payload["name"] or None, "name", allow_none=True)


def validate_skeleton(payload) -> dict:
    """{person, width, height, keypoints: [[x, y, score], ...]} (17 or 33 points)."""
    if not isinstance(payload, dict) or set(payload) != {"person", "width", "height", "keypoints"}:
        raise Invalid("expected {person, width, height, keypoints}")
    person = check_int(payload["person"], "person", 0, 2**31 - 1)
    width = check_number(payload["width"], "width", 1, 10000)
    height = check_number(payload["height"], "height", 1, 10000)
    kps = payload["keypoints"]
    if not isinstance(kps, list) or not 1 <= len(kps) <= 33:
        raise Invalid("keypoints must be a list of 1-33 [x, y, score]")
    points = []
    for i, p in enumerate(kps):
        if not isinstance(p, list) or len(p) != 3:
            raise Invalid("each keypoint must be [x, y, score]")
        points.append([round(check_number(v, f"keypoints[{i}]"), 2) for v in p])
    return {"person": person, "width": width, "height": height, "keypoints": points}
