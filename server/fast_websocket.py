"""eventlet unmasks every websocket frame a browser sends one byte at a time in Python; under the
label stream that was 18 % of the server's CPU (py-spy, bench/ingest.py). This XORs the whole
frame with the repeated mask as one big integer instead: the same bytes, in C."""
from __future__ import annotations


def apply_mask(data, mask, length=None, offset=0) -> bytes:
    """Drop-in for eventlet.websocket.RFC6455WebSocket._apply_mask."""
    if length is None:
        length = len(data)
    data = bytes(data[:length])
    if not data:
        return b""
    key = bytes(mask[(offset + i) % 4] for i in range(4))
    key = (key * (length // 4 + 1))[:length]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(length, "little")


def install() -> None:
    from eventlet import websocket

    websocket.RFC6455WebSocket._apply_mask = staticmethod(apply_mask)
