"""What operators see live: the state of every client, and its coalesced fan-out to dashboards.

Ingestion only changes in-memory state and marks clients dirty. A ticker (every
POSECAST_DASHBOARD_TICK_MS) sends each dashboard one `update` with what changed since the last
one it acknowledged; a dashboard that has not acknowledged yet is skipped, and what changed keeps
accumulating for it. So each dashboard has at most one update in flight, whatever the label rate:
a slow dashboard costs memory bounded by the number of clients and never slows ingestion.
"""
from __future__ import annotations

import collections
import threading
import time

from core.clock import now_ms as _ms

from ..contract import ALERT, ALERT_ACKNOWLEDGED, DASHBOARD, DASHBOARD_SKELETON, UPDATE
from ..sockets import socketio

FORGET_AFTER_MS = 10 * 60 * 1000  # disconnected clients leave the live grid after this
INFLIGHT_TIMEOUT_S = 10.0
DASHBOARDS_ROOM = "dashboards"


def watch_room(client_id: str) -> str:
    return f"watch:{client_id}"


def new_state(client_id: str) -> dict:
    """A client as dashboards see it (web/contract.json, /dashboard update)."""
    return {"client_id": client_id, "kind": "page", "name": None, "connected": False, "connections": 0,
            "session_id": None, "label": None, "confidence": None, "model": None, "model_version": None,
            "backbone": None, "person": None, "fps": None, "ts": None, "seq": None, "last_seen": _ms(), "events": 0}


def _locked(method):
    def wrapper(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)
    wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
    return wrapper


class Hub:
    def __init__(self, app):
        self.app = app
        self.clients: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.watching: dict[str, str] = {}  # dashboard sid -> the client whose skeleton it watches
        self.watched = frozenset()  # their client ids, replaced whole: read without the lock
        self.total = 0
        self.history = collections.deque()  # (monotonic time, total) over the last seconds
        self.started = False
        self.lock = threading.Lock()  # a green lock under eventlet; real threads in threading mode

    # --- changes, from ingestion and connects --------------------------------------------------
    def _mark(self, client_id: str) -> None:
        for d in list(self.dashboards.values()):
            d["dirty"].add(client_id)

    def _state(self, client_id: str) -> dict:
        state = self.clients.get(client_id)
        if state is None:
            state = self.clients[client_id] = new_state(client_id)
        return state

    @_locked
    def connected(self, client_id: str, name: str | None, session_id: int, kind: str = "page") -> None:
        self._ensure_ticker()
        s = self._state(client_id)
        s["connections"] += 1
        s.update(connected=True, session_id=session_id, last_seen=_ms(), kind=kind)
        if name:
            s["name"] = name
        self._mark(client_id)

    @_locked
    def disconnected(self, client_id: str, session_id: int) -> None:
        s = self._state(client_id)
        s["connections"] = max(0, s["connections"] - 1)
        s.update(connected=s["connections"] > 0, last_seen=_ms())
        self._mark(client_id)

    @_locked
    def renamed(self, client_id: str, name: str | None) -> None:
        self._state(client_id)["name"] = name
        self._mark(client_id)

    @_locked
    def observe(self, rows: list[dict]) -> None:
        """Newly stored events: each client's latest label, and counts per label for the charts."""
        if not rows:
            return
        self.total += len(rows)
        self._count(collections.Counter(r["label"] for r in rows))
        for r in rows:
            s = self._state(r["client_id"])
            s["events"] += 1
            s["last_seen"] = max(s["last_seen"], r["received_at"])
            if s["ts"] is None or (r["ts"], r["seq"]) >= (s["ts"], s["seq"]):
                s.update({k: r[k] for k in ("label", "confidence", "model", "model_version", "backbone",
                                            "person", "fps", "ts", "seq")})
        for client_id in {r["client_id"] for r in rows}:
            self._mark(client_id)

    def _count(self, counts: collections.Counter) -> None:
        for d in list(self.dashboards.values()):
            d["counts"].update(counts)

    def _refresh(self) -> None:
        """Bring `clients` up to date before it is read (a cluster's hub merges processes here)."""

    @_locked
    def is_connected(self, client_id: str) -> bool:
        self._refresh()
        return bool(self.clients.get(client_id, {}).get("connected"))

    def skeleton(self, client_id: str, pose: dict) -> None:
        if self._watched(client_id):  # pages send two a second each: most are watched by nobody
            socketio.emit(DASHBOARD_SKELETON, {"client_id": client_id, **pose}, to=watch_room(client_id),
                          namespace=DASHBOARD)

    def _watched(self, client_id: str) -> bool:
        return client_id in self.watched

    @_locked
    def watch(self, sid: str, client_id: str | None) -> str | None:
        """Dashboard `sid` now watches `client_id` (None: nobody); returns whom it watched before."""
        previous = self.watching.pop(sid, None)
        if client_id:
            self.watching[sid] = client_id
        self.watched = frozenset(self.watching.values())
        return previous

    def alert(self, alert: dict) -> None:
        socketio.emit(ALERT, alert, to=DASHBOARDS_ROOM, namespace=DASHBOARD)

    def alert_acknowledged(self, alert: dict) -> None:
        socketio.emit(ALERT_ACKNOWLEDGED, alert, to=DASHBOARDS_ROOM, namespace=DASHBOARD)

    # --- dashboards ------------------------------------------------------------------------------
    @_locked
    def add_dashboard(self, sid: str) -> dict:
        self._ensure_ticker()
        self.dashboards[sid] = {"dirty": set(), "counts": collections.Counter(), "inflight": None, "rates_at": 0.0}
        self._refresh()
        return {"clients": [dict(s) for s in self.clients.values()], "rates": self._rates(), "now": _ms()}

    @_locked
    def remove_dashboard(self, sid: str) -> None:
        self.dashboards.pop(sid, None)
        if self.watching.pop(sid, None):
            self.watched = frozenset(self.watching.values())

    @_locked
    def rates(self) -> dict:
        self._refresh()
        return self._rates()

    def _rates(self) -> dict:
        return {"events_per_s": round(self._events_per_s(), 1), "events_total": self.total,
                "clients_connected": sum(1 for s in self.clients.values() if s["connected"]),
                "dashboards": len(self.dashboards)}

    def _events_per_s(self) -> float:
        """Events stored by this process per second, over the last second or so."""
        now = time.monotonic()
        self.history.append((now, self.total))
        while len(self.history) > 2 and now - self.history[1][0] >= 1.0:
            self.history.popleft()
        t0, n0 = self.history[0]
        return (self.total - n0) / (now - t0) if now - t0 > 0.05 else 0.0

    def _ensure_ticker(self) -> None:
        if not self.started:
            self.started = True
            socketio.start_background_task(self._tick_forever)

    def _tick_forever(self) -> None:
        interval = self.app.config["DASHBOARD_TICK_MS"] / 1000
        while True:
            socketio.sleep(interval)
            try:
                self.tick()
            except Exception:  # a broken tick must not end live updates
                self.app.logger.exception("dashboard tick failed")

    def tick(self) -> None:
        with self.lock:
            outgoing = self._collect()
        for sid, payload in outgoing:
            # Our own dashboards only: never through the message queue to other processes.
            socketio.emit(UPDATE, payload, to=sid, namespace=DASHBOARD, callback=lambda *_, sid=sid: self._acked(sid),
                          ignore_queue=True)

    def _collect(self) -> list[tuple[str, dict]]:
        now = time.monotonic()
        self._forget_old()
        self._refresh()
        rates = self._rates()
        outgoing = []
        for sid, d in list(self.dashboards.items()):
            if d["inflight"] is not None and now - d["inflight"] < INFLIGHT_TIMEOUT_S:
                continue
            if not d["dirty"] and not d["counts"] and now - d["rates_at"] < 1.0:
                continue
            payload = {"clients": [dict(self.clients[c]) for c in d["dirty"] if c in self.clients],
                       "gone": [c for c in d["dirty"] if c not in self.clients],
                       "counts": dict(d["counts"]), "rates": rates, "now": _ms()}
            d.update(dirty=set(), counts=collections.Counter(), inflight=now, rates_at=now)
            outgoing.append((sid, payload))
        return outgoing

    @_locked
    def _acked(self, sid: str) -> None:
        d = self.dashboards.get(sid)
        if d is not None:
            d["inflight"] = None

    def _forget_old(self) -> None:
        cutoff = _ms() - FORGET_AFTER_MS
        for cid in [c for c, s in self.clients.items() if not s["connected"] and s["last_seen"] < cutoff]:
            del self.clients[cid]
            self._mark(cid)

