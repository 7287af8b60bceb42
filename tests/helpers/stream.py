"""Python stand-ins for a live page and a dashboard, over real websockets (python-socketio).

PageClient follows the same protocol as web/js/live/stream.js: numbered events wait in an outbox
and leave it only when the server acknowledges them, so after a reconnect the rest is resent.
"""
from __future__ import annotations

import threading
import time

import socketio


class PageClient:
    def __init__(self, url: str, client_id: str, name: str | None = None, batch_max: int = 200):
        self.client_id = client_id
        self.outbox: list[dict] = []
        self.acked: set[int] = set()
        self.next_seq = 0
        self.lock = threading.Lock()
        self.batch_max = batch_max
        self.errors: list[str] = []
        self.ack_seconds: list[float] = []
        self.connects = 0
        self.sio = socketio.Client(reconnection_delay=0.2, reconnection_delay_max=1.0)
        self.sio.on("connect", self._connected, namespace="/pose")
        self.sio.connect(url, namespaces=["/pose"], transports=["websocket"],
                         auth={"client_id": client_id, "name": name}, wait_timeout=10)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _connected(self):
        self.connects += 1

    def push(self, label: str, confidence: float = 0.9, **fields) -> int:
        with self.lock:
            seq = self.next_seq
            self.next_seq += 1
            self.outbox.append({"seq": seq, "ts": int(time.time() * 1000), "label": label,
                                "confidence": confidence, **fields})
        return seq

    def _pump(self):
        while not self._stop.is_set():
            with self.lock:
                batch = self.outbox[: self.batch_max]
            if not batch or not self.sio.namespaces.get("/pose"):
                time.sleep(0.02)
                continue
            t0 = time.monotonic()
            try:
                ack = self.sio.call("labels", {"events": batch}, namespace="/pose", timeout=5)
            except Exception as exc:  # disconnected or no answer: keep the batch, try again
                self.errors.append(type(exc).__name__)
                time.sleep(0.1)
                continue
            if ack.get("ok"):
                self.ack_seconds.append(time.monotonic() - t0)
                done = {e["seq"] for e in batch}
                with self.lock:
                    self.outbox = [e for e in self.outbox if e["seq"] not in done]
                    self.acked |= done
            elif ack.get("retry"):
                time.sleep(ack.get("retry_after_ms", 200) / 1000)
            else:
                raise AssertionError(f"batch rejected: {ack}")

    def drain(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.outbox:
                    return True
            time.sleep(0.05)
        return False

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sio.disconnect()


class DashboardClient:
    """An operator's dashboard: records every update; `delay` makes it slow to acknowledge."""

    def __init__(self, url: str, cookie: str, delay: float = 0.0):
        self.updates: list[tuple[float, dict]] = []
        self.alerts: list[dict] = []
        self.snapshot = None
        self.delay = delay
        self.sio = socketio.Client()
        self.sio.on("snapshot", self._snapshot, namespace="/dashboard")
        self.sio.on("update", self._update, namespace="/dashboard")
        self.sio.on("alert", self.alerts.append, namespace="/dashboard")
        self.sio.connect(url, namespaces=["/dashboard"], transports=["websocket"], headers={"Cookie": cookie},
                         wait_timeout=10)

    def _snapshot(self, payload):
        self.snapshot = payload

    def _update(self, payload):
        self.updates.append((time.monotonic(), payload))
        if self.delay:
            time.sleep(self.delay)
        return True  # the acknowledgement the server waits for

    def latest(self, client_id: str) -> dict | None:
        for _, u in reversed(self.updates):
            for c in u["clients"]:
                if c["client_id"] == client_id:
                    return c
        return None

    def close(self):
        self.sio.disconnect()
