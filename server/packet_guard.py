"""What a Socket.IO client may send, checked before python-socketio dispatches it.

- Lifecycle names (`connect`, `disconnect`) are the server's own: an EVENT packet named after one
  would otherwise run the connect or disconnect handler (ending a session while the socket stays
  up, or switching a connection's client id). Only CONNECT/DISCONNECT packets reach them.
- An event of web/contract.json takes exactly one argument; anything else gets an error
  acknowledgement instead of a handler's TypeError.
- Packets that do not decode (bad JSON, huge integers, deep nesting) and binary packets (the
  contract has none; a bad attachment placeholder used to poison every later message) are dropped.

Each refusal costs the connection a strike: the first is logged as one line, later ones at most
once per WARN_EVERY_S; after MAX_STRIKES the connection is closed. No traceback for bad input.
"""
from __future__ import annotations

import logging
import re
import time

from socketio import packet

from .contract import contract

log = logging.getLogger("posecast.sockets")
RESERVED = frozenset({"connect", "disconnect", "connect_error"})
MAX_STRIKES = 20
WARN_EVERY_S = 10.0
BINARY_TYPES = ("5", "6")  # Socket.IO BINARY_EVENT, BINARY_ACK
# An EVENT packet's header: type 2, namespace, ack id; read without decoding the JSON after it.
EVENT_HEADER = re.compile(r"2(/[^,]{0,100},)?([0-9]{1,15})")


class Guard:
    def __init__(self, server):
        self.server = server
        self.strikes: dict[str, list] = {}  # eio sid -> [count, last warning (monotonic), unlogged]
        self._message = server._handle_eio_message
        self._event = server._handle_event
        self._disconnect = server._handle_eio_disconnect

    def install(self) -> None:
        server = self.server
        server._handle_eio_message = self.on_message
        server._handle_event = self.on_event
        server._handle_eio_disconnect = self.on_disconnect
        server.eio.on("message", self.on_message)
        server.eio.on("disconnect", self.on_disconnect)

    def on_message(self, eio_sid, data):
        if not isinstance(data, str) or data.startswith(BINARY_TYPES):
            self.server._binary_packet.pop(eio_sid, None)
            return self.strike(eio_sid, "binary packet (the contract has none)")
        try:
            return self._message(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            error = f"undecodable packet ({exc.__class__.__name__})"
            header = EVENT_HEADER.match(data)
            if header:  # the sender waits for an answer: tell it
                self.error_ack(eio_sid, (header.group(1) or "/,")[:-1] or "/", int(header.group(2)), error)
            return self.strike(eio_sid, error)

    def on_event(self, eio_sid, namespace, id, data):
        namespace = namespace or "/"
        name = data[0] if isinstance(data, list) and data else None
        events = contract()["namespaces"].get(namespace, {}).get("client_to_server", {})
        if not isinstance(name, str) or name in RESERVED:
            error = f"{name!r} is not an event a client may send" if isinstance(name, str) else "no event name"
        elif name not in events:
            error = f"unknown event {name!r} on {namespace}"
        elif len(data) != 2:
            error = f"{name} takes exactly one argument, got {len(data) - 1}"
        else:
            return self._event(eio_sid, namespace, id, data)
        if id is not None:
            self.error_ack(eio_sid, namespace, id, error)
        self.strike(eio_sid, error[:120])

    def error_ack(self, eio_sid, namespace: str, id: int, error: str) -> None:
        if self.server.manager.sid_from_eio_sid(eio_sid, namespace):
            self.server._send_packet(eio_sid, self.server.packet_class(
                packet.ACK, namespace=namespace, id=id, data=[{"ok": False, "error": error, "retry": False}]))

    def on_disconnect(self, eio_sid, *args):
        self.strikes.pop(eio_sid, None)
        return self._disconnect(eio_sid, *args)

    def strike(self, eio_sid, why: str) -> None:
        entry = self.strikes.setdefault(eio_sid, [0, -WARN_EVERY_S, 0])
        entry[0] += 1
        now = time.monotonic()
        if entry[0] > MAX_STRIKES:
            log.warning("socket %s: closed after %d refused packets (last: %s)", eio_sid, entry[0] - 1, why)
            self.strikes.pop(eio_sid, None)
            self.server.eio.disconnect(eio_sid)
        elif now - entry[1] >= WARN_EVERY_S:
            more = f" (+{entry[2]} more since)" if entry[2] else ""
            log.warning("socket %s: refused %s%s", eio_sid, why, more)
            entry[1], entry[2] = now, 0
        else:
            entry[2] += 1


def install(server) -> Guard:
    guard = Guard(server)
    guard.install()
    return guard
