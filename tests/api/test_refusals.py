"""What /api/v1 refuses, each with a clear 4xx (or 503 when full): bad images, bombs, wrong
content types, no token or a revoked one, a full queue. None of these reaches a worker but the
truncated JPEG (its header is fine; decoding fails in the worker)."""
import struct
import zlib

import requests

from .conftest import needs, tokens_cli

TIMEOUT = 180


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG header declaring width x height pixels, with one tiny compressed row: a
    decompression bomb as far as any decoder that trusts the header is concerned."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def infer(server, headers, data, content_type="image/jpeg", **params):
    return requests.post(f"{server.url}/api/v1/infer", data=data, params=params, timeout=TIMEOUT,
                         headers={**headers, "Content-Type": content_type})


def test_truncated_jpeg(api_server, bearer):
    data = needs("images", "tennis.jpg").read_bytes()
    r = infer(api_server, bearer, data[: len(data) // 3], model="none")
    assert r.status_code == 400 and "truncated" in r.json()["error"]


def test_png_bomb_and_huge_dimension_are_refused_from_the_header(api_server, bearer):
    r = infer(api_server, bearer, png_declaring(100_000, 100_000), "image/png")
    assert r.status_code == 413 and "100000 x 100000" in r.json()["error"]
    r = infer(api_server, bearer, png_declaring(70_000, 2), "image/png")  # few pixels, one absurd side
    assert r.status_code == 413 and "per side" in r.json()["error"]


def test_wrong_content_type_and_not_an_image(api_server, bearer):
    r = infer(api_server, bearer, b"hello", "text/plain")
    assert r.status_code == 415 and "image/jpeg" in r.json()["error"]
    r = infer(api_server, bearer, b"%PDF-1.7 not an image at all", "image/jpeg")
    assert r.status_code == 415 and "not a JPEG, PNG or WebP" in r.json()["error"]
    r = infer(api_server, bearer, b"", "image/png")
    assert r.status_code == 400


def test_bad_parameters(api_server, bearer):
    data = needs("images", "tennis.jpg").read_bytes()
    for params, words in [({"backbone": "yolo"}, "backbone"), ({"max_people": "0"}, "max_people"),
                          ({"threshold": "nan"}, "threshold"), ({"colour": "red"}, "unknown parameter")]:
        r = infer(api_server, bearer, data, **params)
        assert r.status_code == 400 and words in r.json()["error"], (params, r.text)
    assert infer(api_server, bearer, data, model="no-such-model").status_code == 404


def test_too_many_bytes(api_server, bearer):
    r = infer(api_server, bearer, b"\xff" * (21 * 1024 * 1024))
    assert r.status_code == 413


def test_no_token_a_wrong_one_and_a_revoked_one(api_server):
    data = needs("images", "tennis.jpg").read_bytes()
    for path in ("/api/v1/infer", "/api/v1/status", "/api/v1/openapi.json"):
        method = "POST" if path.endswith("infer") else "GET"
        r = requests.request(method, f"{api_server.url}{path}", data=data, timeout=30)
        assert r.status_code == 401 and "Bearer" in r.json()["hint"], (path, r.status_code)
    r = infer(api_server, {"Authorization": "Bearer pct_" + "x" * 43}, data)
    assert r.status_code == 401 and "token" in r.json()["error"]
    made = tokens_cli(api_server, "create", "short-lived")
    assert made.returncode == 0, made.stderr
    good = {"Authorization": f"Bearer {made.stdout.strip()}"}
    assert requests.get(f"{api_server.url}/api/v1/status", headers=good, timeout=30).status_code == 200
    assert tokens_cli(api_server, "revoke", "short-lived").returncode == 0
    r = requests.get(f"{api_server.url}/api/v1/status", headers=good, timeout=30)
    assert r.status_code == 401 and "revoked" in r.json()["error"]
    listed = tokens_cli(api_server, "list").stdout
    assert "short-lived\tviewer" in listed and "revoked" in listed and made.stdout.strip() not in listed


def test_a_worker_that_dies_is_replaced(api_server, bearer):
    import os
    import signal

    data = needs("images", "tennis.jpg").read_bytes()
    assert infer(api_server, bearer, data, model="none").status_code == 200
    before = requests.get(f"{api_server.url}/api/v1/status", headers=bearer, timeout=30).json()
    os.kill(before["pids"][0], signal.SIGKILL)
    r = infer(api_server, bearer, data, model="none")  # the dispatcher sees it gone and starts another
    assert r.status_code == 200, r.text
    after = requests.get(f"{api_server.url}/api/v1/status", headers=bearer, timeout=30).json()
    assert after["restarts"] == before["restarts"] + 1 and after["pids"] != before["pids"]


def test_a_full_queue_is_503_with_retry_after(api_server, bearer):
    # Three images for a queue of two: the third finds it full before any worker can take one.
    files = [("image", (f"{i}.jpg", needs("images", "tennis.jpg").read_bytes(), "image/jpeg")) for i in range(3)]
    r = requests.post(f"{api_server.url}/api/v1/infer", headers=bearer, files=files, timeout=TIMEOUT)
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) >= 1 and "queue is full" in r.json()["error"]
    status = requests.get(f"{api_server.url}/api/v1/status", headers=bearer, timeout=30).json()
    assert status["queue_size"] == 2 and status["workers"] == 1
