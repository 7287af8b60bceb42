"""Length-prefixed messages between the server and its inference workers, over a pipe: each
message is a JSON header and an optional binary body, each preceded by its length (4 bytes, big
endian). A length prefix (not lines) because image bytes may hold any byte."""
from __future__ import annotations

import json
import struct

MAX_HEADER = 1 << 20  # a request or answer's JSON; the image travels in the body
MAX_BODY = 256 << 20
_LEN = struct.Struct(">I")


class Closed(EOFError):
    """The other end closed the pipe (the worker exited, or the server went away)."""


def encode(header: dict, body: bytes = b"") -> bytes:
    raw = json.dumps(header, separators=(",", ":")).encode()
    return _LEN.pack(len(raw)) + raw + _LEN.pack(len(body)) + body


def write(stream, header: dict, body: bytes = b"") -> None:
    stream.write(encode(header, body))
    stream.flush()


def _exactly(stream, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise Closed("the pipe closed mid-message" if chunks or n != 4 else "the pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read(stream) -> tuple[dict, bytes]:
    n = _LEN.unpack(_exactly(stream, 4))[0]
    if n > MAX_HEADER:
        raise ValueError(f"message header of {n} bytes")
    header = json.loads(_exactly(stream, n))
    m = _LEN.unpack(_exactly(stream, 4))[0]
    if m > MAX_BODY:
        raise ValueError(f"message body of {m} bytes")
    return header, _exactly(stream, m) if m else b""
