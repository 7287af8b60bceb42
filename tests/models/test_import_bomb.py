"""A model-import zip bomb (60 entries x 60 MB of zeros in a 3.6 MB upload) is refused with a 400,
and while it is handled the server keeps answering (decompression is bounded and off the event
loop). Against a live eventlet server."""
import io
import struct
import threading
import time
import zlib

import pytest
import requests

from tests.helpers.server import LiveServer


def bomb(entries: int, size: int, declared: int | None = None) -> bytes:
    """A zip of `entries` deflated members of `size` zero bytes each, all named .../model.json;
    `declared`: the size the headers claim (a lying central directory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = packer.compress(b"\0" * size) + packer.flush()
    crc = zlib.crc32(b"\0" * size)
    claim = size if declared is None else declared
    out, central = io.BytesIO(), []
    for i in range(entries):
        name = f"{i}/model.json".encode()
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(comp), claim, len(name), 0))
        out.write(name + comp)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(comp), claim,
                                   len(name), 0, 0, 0, 0, 0, offset) + name)
    directory = b"".join(central)
    start = out.tell()
    out.write(directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(directory), start, 0))
    return out.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("bomb")).start()
    yield live
    live.stop()


@pytest.mark.parametrize("declared", [None, 1000], ids=["honest-headers", "lying-headers"])
def test_a_zip_bomb_is_refused_and_the_server_keeps_answering(server, declared):
    data = bomb(60, 60 * 1024 * 1024, declared)
    assert len(data) < 5 * 1024 * 1024
    session = server.session()
    result = {}

    def upload():
        t0 = time.monotonic()
        result["response"] = session.post(f"{server.url}/api/models/import", timeout=120,
                                          files={"zip": ("tm.zip", data)}, data={"name": "bomb"})
        result["seconds"] = time.monotonic() - t0

    worker = threading.Thread(target=upload)
    worker.start()
    slowest = 0.0
    while worker.is_alive():
        t0 = time.monotonic()
        assert requests.get(f"{server.url}/api/health", timeout=30).status_code == 200
        slowest = max(slowest, time.monotonic() - t0)
        time.sleep(0.05)
    worker.join()
    r = result["response"]
    assert r.status_code == 400, r.text[:300]
    assert slowest < 2.0, f"/api/health took {slowest:.1f} s during the import"
    assert result["seconds"] < 10, result
