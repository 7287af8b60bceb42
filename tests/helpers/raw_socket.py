"""A hostile Socket.IO client: one Engine.IO websocket with packets written by hand, so tests can
send what no well-behaved client library would (forged lifecycle events, garbage, bad binary)."""
from __future__ import annotations

import json
import time


class RawSocket:
    def __init__(self, url: str, headers: list[str] | None = None):
        import websocket

        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(ws_url, timeout=5, origin=url, header=headers or [])
        opened = self.ws.recv()
        assert opened.startswith("0{"), opened
        self.next_id = 100

    def send(self, text) -> None:
        if isinstance(text, bytes):
            self.ws.send_binary(text)
        else:
            self.ws.send(text)

    def recv_until(self, prefix: str, timeout: float = 5.0) -> str | None:
        """The next text frame starting with `prefix` (answering pings), or None on timeout/close."""
        import websocket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                frame = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                return None
            except (websocket.WebSocketConnectionClosedException, OSError):
                return None
            if frame == "2":
                self.ws.send("3")
            elif isinstance(frame, str) and frame.startswith(prefix):
                return frame
        return None

    def connect(self, namespace: str, auth: dict) -> str | None:
        """A CONNECT packet; returns the server's answer ('40...' connected, '44...' refused)."""
        self.send(f"40{namespace},{json.dumps(auth)}")
        return self.recv_until("4", timeout=5)

    def call(self, namespace: str, *args, raw: str | None = None, timeout: float = 5.0):
        """An EVENT with an ack id; returns the decoded ack arguments (or None if none came)."""
        self.next_id += 1
        body = raw if raw is not None else json.dumps(list(args))
        self.send(f"42{namespace},{self.next_id}{body}")
        frame = self.recv_until(f"43{namespace},{self.next_id}", timeout)
        return None if frame is None else json.loads(frame[len(f"43{namespace},{self.next_id}"):])

    @property
    def open(self) -> bool:
        return self.ws.connected

    def close(self) -> None:
        self.ws.close()
