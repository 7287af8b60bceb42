"""The edge node's connection to the server: /pose (label batches, skeletons) and /live (which
model is active), over one Socket.IO websocket, as web/js/live/stream.js does for a page.

A sender thread commits the outbox and sends its oldest events every <= 250 ms as one batch with
an acknowledgement; only an acknowledged batch leaves the outbox. While the server is down the
client reconnects with back-off (0.5 s doubling to 5 s) and then resends everything, oldest first.
A refused device token is fatal: reconnecting would be refused again; so is a token revoked while
connected (the server's `refused`, at its next heartbeat).
"""
from __future__ import annotations

import threading
import time

import socketio

FLUSH_S = 0.25
ACK_TIMEOUT_S = 10.0
SKELETON_EVERY_S = 0.5
CONNECT_TIMEOUT_S = 10.0


class Refused(RuntimeError):
    """The server refused this node (its device token, or its auth payload)."""


class Link:
    def __init__(self, url: str, outbox, name: str, token: str | None, on_model, batch_max: int = 500,
                 log=print):
        self.url, self.outbox, self.name, self.token = url, outbox, name, token
        self.on_model, self.batch_max, self.log = on_model, batch_max, log
        self.stats = {"sent": 0, "acked": 0, "duplicates": 0, "rejected": 0, "last_error": ""}
        self.refused: str | None = None
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._generation = 0  # a batch sent before a disconnect must not settle one sent after
        self._retry_at = 0.0
        self._last_skeleton = 0.0
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=5.0,
                                   request_timeout=ACK_TIMEOUT_S)
        self.sio.on("connect", self._connected, namespace="/pose")
        self.sio.on("disconnect", self._disconnected, namespace="/pose")
        self.sio.on("connect_error", self._connect_error, namespace="/pose")
        self.sio.on("refused", self._refused, namespace="/pose")
        self.sio.on("model_activated", lambda spec: self.on_model(spec), namespace="/live")
        self.sio.on("model_cleared", lambda *_: self.on_model(None), namespace="/live")
        self._thread = threading.Thread(target=self._pump, name="edge-sender", daemon=True)

    def _auth(self) -> dict:
        auth = {"client_id": self.outbox.client_id, "name": self.name}
        if self.token:
            auth["token"] = self.token
        return auth

    def _connected(self):
        self._retry_at = 0.0
        self.connected.set()
        self.log(f"connected to {self.url} as {self.outbox.client_id}")

    def _disconnected(self, *_):
        self._generation += 1
        self.connected.clear()
        if not self._stop.is_set():
            self.log("disconnected; events wait in the outbox until the server is back")

    def _connect_error(self, data=None):
        message = data.get("message") if isinstance(data, dict) else str(data or "")
        self.stats["last_error"] = message
        if message and "token" in message:  # the server's words for an unknown or revoked token
            self.refused = message
            threading.Thread(target=self.sio.disconnect, daemon=True).start()  # stop reconnecting

    def _refused(self, payload=None):
        """The token was revoked while connected: stop (the node exits 3); unsent events stay in the outbox."""
        message = payload.get("message") if isinstance(payload, dict) else None
        self.refused = str(message or "the device token was revoked")
        self.stats["last_error"] = self.refused
        threading.Thread(target=self.sio.disconnect, daemon=True).start()

    def start(self, wait_s: float | None = None, abort: threading.Event | None = None) -> None:
        """Connect (retrying with back-off until wait_s passes, forever with None, or until `abort`
        is set) and start sending. Raises Refused for a refused token, ConnectionError when wait_s
        passes."""
        delay, deadline = 0.5, None if wait_s is None else time.monotonic() + wait_s
        # The sender commits the outbox from now on, connected or not: events labelled while the
        # server is still unreachable are on disk within FLUSH_S, whatever happens next.
        self._thread.start()
        while not (abort and abort.is_set()):
            try:
                self.sio.connect(self.url, namespaces=["/pose", "/live"], transports=["websocket"],
                                 auth=self._auth, wait_timeout=CONNECT_TIMEOUT_S)
                break
            except socketio.exceptions.ConnectionError as exc:
                if self.refused:
                    raise Refused(self.refused) from None
                if deadline is not None and time.monotonic() + delay > deadline:
                    raise ConnectionError(f"cannot reach {self.url}: {exc}") from None
                self.log(f"cannot reach {self.url} ({self.stats['last_error'] or exc}); retrying in {delay:.1f} s")
                if abort is not None and abort.wait(delay):
                    break
                time.sleep(0 if abort is not None else delay)
                delay = min(delay * 2, 10.0)

    def _pump(self) -> None:
        while not self._stop.is_set():
            try:
                self.outbox.commit()  # the next seq is on disk before any batch leaves
                if not self._send_one():
                    self._stop.wait(FLUSH_S)
            except Exception as exc:  # never let the sender die: log, wait, go on
                self.stats["last_error"] = f"{exc.__class__.__name__}: {exc}"
                self._stop.wait(1.0)
        self.outbox.commit()

    def _send_one(self) -> bool:
        """Send the oldest batch and settle it; True when more may be waiting right now."""
        if not self.connected.is_set() or time.monotonic() < self._retry_at:
            return False
        batch = self.outbox.oldest(self.batch_max)
        if not batch:
            return False
        generation = self._generation
        self.stats["sent"] += len(batch)
        ack = self._call({"events": batch}, generation)
        if ack is None or generation != self._generation:
            return False  # resent after the reconnect; the server keeps one copy
        if ack.get("ok"):
            self.outbox.acknowledge([e["seq"] for e in batch])
            self.stats["acked"] += int(ack.get("stored", 0))
            self.stats["duplicates"] += int(ack.get("duplicates", 0))
            self.stats["last_error"] = ""
            return True
        self.stats["last_error"] = str(ack.get("error"))
        if ack.get("retry") is False:  # the server will never take it: drop it, say so
            self.outbox.acknowledge([e["seq"] for e in batch])
            self.stats["rejected"] += len(batch)
            self.log(f"the server rejected {len(batch)} events: {ack.get('error')}")
            return True
        self._retry_at = time.monotonic() + float(ack.get("retry_after_ms", 1000)) / 1000
        return False

    def _call(self, payload: dict, generation: int) -> dict | None:
        """Emit `labels` and wait for its acknowledgement, but give up at once on a disconnect
        (python-socketio's call() would wait out its timeout)."""
        done, box = threading.Event(), []
        try:
            self.sio.emit("labels", payload, namespace="/pose", callback=lambda *a: (box.extend(a), done.set()))
        except socketio.exceptions.SocketIOError as exc:
            self.stats["last_error"] = f"not sent ({exc.__class__.__name__})"
            return None
        deadline = time.monotonic() + ACK_TIMEOUT_S
        while not done.wait(0.05):
            if generation != self._generation or time.monotonic() > deadline or self._stop.is_set():
                self.stats["last_error"] = "no acknowledgement"
                return None
        return box[0] if box and isinstance(box[0], dict) else None

    def skeleton(self, payload: dict) -> None:
        """At most two a second, never queued: the dashboard's live view of the first person."""
        now = time.monotonic()
        if not self.connected.is_set() or now - self._last_skeleton < SKELETON_EVERY_S:
            return
        self._last_skeleton = now
        try:
            self.sio.emit("skeleton", payload, namespace="/pose")
        except socketio.exceptions.SocketIOError:
            pass

    def drain(self, timeout_s: float) -> bool:
        """Wait (up to timeout_s) until the server has acknowledged everything."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.outbox.depth() == 0:
                return True
            if self.refused:
                return False
            time.sleep(0.05)
        return self.outbox.depth() == 0

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(ACK_TIMEOUT_S + 1)
        self.sio.disconnect()
