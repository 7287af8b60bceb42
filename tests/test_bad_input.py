"""Bad input is a clear 400, never a 500: numbers too large to convert, JSON nested too deeply to
parse, corrupt or lying zips (which leave nothing behind), broken model exports, odd times."""
import io
import json
import struct
import zipfile

import numpy as np
import pytest

from tests.models.test_tm_import import post as post_model, synthetic
from tests.samples.test_datasets import sample

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
HUGE = 10 ** 300


@pytest.fixture
def dataset(client):
    return client.post("/api/datasets", json={"name": "poses"}).get_json()


@pytest.mark.parametrize("change", [{"width": HUGE}, {"height": -HUGE}, {"width": 2 ** 60}])
def test_huge_integers_in_a_sample_are_a_400(client, dataset, change):
    r = client.post(f"/api/datasets/{dataset['id']}/samples", json=sample(**change))
    assert r.status_code == 400 and "finite number" in r.get_json()["error"]


def test_huge_integer_keypoints_are_a_400(client, dataset):
    body = sample()
    body["keypoints"][0]["x"] = HUGE
    assert client.post(f"/api/datasets/{dataset['id']}/samples", json=body).status_code == 400


@pytest.mark.parametrize("path", ["/api/datasets", "/api/client-log", "/api/alert-rules", "/api/login"])
def test_deeply_nested_json_is_a_400(client, path):
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post(path, data=deep, content_type="application/json")
    assert r.status_code == 400, (r.status_code, r.data[:200])


@pytest.mark.parametrize("query", ["since=%C2%B2", "since=-99999999999999999999999", "until=99999999999999999999",
                                   "since=--5", "limit=%C2%B2", "after_id=99999999999999999999999",
                                   "since=0001-01-01", "label=%00", "client_id=x%00y"])
def test_odd_label_queries_are_a_400(client, query):
    r = client.get(f"/api/labels?{query}")
    assert r.status_code == 400, (query, r.status_code, r.data[:200])


def zip_bytes(entries: dict, compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def lying_header() -> bytes:
    """The headers say 16 bytes; the data is longer."""
    return zip_bytes({"tree/a.jpg": JPEG}).replace(struct.pack("<I", len(JPEG)), struct.pack("<I", 16))


def corrupt_deflate() -> bytes:
    data = bytearray(zip_bytes({"tree/a.jpg": JPEG * 50}, zipfile.ZIP_DEFLATED))
    for i in range(60, 90):
        data[i] ^= 0x55
    return bytes(data)


def bad_name() -> bytes:
    """A name flagged UTF-8 that is not UTF-8."""
    return zip_bytes({"tree/é.jpg": JPEG}).replace("é".encode(), b"\xff\xfe")


@pytest.mark.parametrize("make", [lying_header, corrupt_deflate, bad_name, lambda: b"PK\x03\x04" + b"\0" * 100])
def test_broken_zip_uploads_are_a_400_and_leave_nothing(client, app, dataset, make):
    r = client.post(f"/api/datasets/{dataset['id']}/import", data={"file": (io.BytesIO(make()), "x.zip")},
                    content_type="multipart/form-data")
    assert r.status_code == 400, (r.status_code, r.data[:300])
    uploads = list((app.instance_path and __import__("pathlib").Path(app.instance_path) / "uploads").glob("*"))
    assert uploads == [], uploads


def model_zip(files: dict, rename=None) -> bytes:
    data = zip_bytes(files)
    return rename(data) if rename else data


@pytest.mark.parametrize("files, error", [
    (synthetic(manifest=[]), "lists no weights"),
    (synthetic(manifest=[{"paths": ["weights.bin"], "weights": []}]), "lists no weights"),
    (synthetic(input_shape=[]), "batch_input_shape"),
    (synthetic(input_shape=5), "batch_input_shape"),
    (synthetic(weights=[{"name": "w"}]), "shape"),
    (synthetic(weights=[{"name": "w", "shape": [2.5]}]), "shape"),
    (synthetic(weights=[{"name": "w", "shape": []}]), "weights.bin has"),
    (synthetic(weights=["w"]), "shape"),
    ({**synthetic(), "model.json": b"[" * 100_000}, "must be JSON"),
])
def test_broken_model_exports_are_a_400(client, files, error):
    r = post_model(client, files, name="broken")
    assert r.status_code == 400 and error in r.get_json()["error"], r.get_json()


@pytest.mark.parametrize("make", [
    lambda: zip_bytes({"é/" + k: v for k, v in synthetic().items()}).replace("é".encode(), b"\xff\xfe"),
    lambda: zip_bytes(synthetic()).replace(struct.pack("<I", 8), struct.pack("<I", 4)),
    lambda: b"PK\x05\x06" + b"\0" * 18,
])
def test_broken_model_zips_are_a_400(client, make):
    r = client.post("/api/models/import", data={"zip": (io.BytesIO(make()), "tm.zip"), "name": "broken"},
                    content_type="multipart/form-data")
    assert r.status_code == 400, (r.status_code, r.data[:300])


@pytest.mark.parametrize("method, path", [("get", "/api/datasets/99999999999999999999"),
                                          ("delete", "/api/alert-rules/9223372036854775808"),
                                          ("patch", "/api/samples/1")])
def test_found_by_fuzzing_huge_ids_and_non_object_bodies(client, method, path):
    r = getattr(client, method)(path, json=[1])
    assert 400 <= r.status_code < 500, (path, r.status_code)
