"""Real Teachable Machine pose exports import into the registry (their weights.bin is not
published, so one of the right size is written)."""
import io
import json
import zipfile

import numpy as np
import pytest

from tests.helpers.paths import SHARED_DATA

REAL = ["straighten-up__posture", "yoga-sage__diamond", "yoga-sage__tree"]


def tm_files(real):
    folder = SHARED_DATA / "teachable-machine" / real
    if not folder.is_dir():
        pytest.skip(f"real Teachable Machine exports not found at {folder}")
    model = json.loads((folder / "model.json").read_text())
    size = sum(int(np.prod(w["shape"])) for g in model["weightsManifest"] for w in g["weights"])
    return {"model.json": (folder / "model.json").read_bytes(), "metadata.json": (folder / "metadata.json").read_bytes(),
            "weights.bin": np.zeros(size, "<f4").tobytes()}


def post(client, files, name=None):
    data = {k: (io.BytesIO(v), k) for k, v in files.items()}
    if name:
        data["name"] = name
    return client.post("/api/models/import", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("real", REAL)
def test_real_exports_import(client, app, real):
    files = tm_files(real)
    r = post(client, files, name=real.replace("__", "-"))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["features"] == "tm"
    assert body["labels"] == json.loads(files["metadata.json"])["labels"]
    assert client.get(body["url"]).status_code == 200
    assert client.post(f"/api/models/{body['id']}/activate").status_code == 200


def test_the_zip_teachable_machine_downloads(client):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in tm_files("yoga-sage__tree").items():
            z.writestr(name, data)
    r = client.post("/api/models/import", data={"zip": (io.BytesIO(buf.getvalue()), "tm.zip"), "name": "tree"},
                    content_type="multipart/form-data")
    assert r.status_code == 201 and r.get_json()["name"] == "tree"


def corrupt(change):
    files = tm_files("yoga-sage__tree")
    change(files)
    return files


@pytest.mark.parametrize("files, error", [
    (lambda: {k: v for k, v in tm_files("yoga-sage__tree").items() if k != "weights.bin"}, "missing weights.bin"),
    (lambda: corrupt(lambda f: f.update({"weights.bin": f["weights.bin"][:-4]})), "weights.bin has"),
    (lambda: corrupt(lambda f: f.update({"metadata.json": b'{"packageName": "other", "labels": ["a", "b"]}'})),
     "packageName"),
    (lambda: corrupt(lambda f: f.update({"metadata.json": b"not json"})), "must be JSON"),
    (lambda: corrupt(lambda f: f.update({"model.json": b'{"modelTopology": {}}'})), "layers model"),
])
def test_bad_exports_are_refused_and_nothing_is_stored(client, app, files, error):
    r = post(client, files())
    assert r.status_code == 400 and error in r.get_json()["error"]
    assert [m["name"] for m in client.get("/api/models").get_json()["models"]] == []


def test_bad_name(client):
    assert post(client, tm_files("yoga-sage__tree"), name="../x").status_code == 400


def synthetic(labels=("a", "b"), input_shape=(None, 14739), weights=None, manifest=None) -> dict[str, bytes]:
    """A small Teachable Machine-like export: one weight of shape [len(labels)]."""
    weights = weights if weights is not None else [{"name": "w", "shape": [len(labels)], "dtype": "float32"}]
    model = {"modelTopology": {"config": {"layers": [{"config": {"batch_input_shape": input_shape}}]}},
             "weightsManifest": manifest if manifest is not None else [{"paths": ["weights.bin"], "weights": weights}]}
    meta = {"packageName": "@teachablemachine/pose", "labels": list(labels)}
    return {"model.json": json.dumps(model).encode(), "metadata.json": json.dumps(meta).encode(),
            "weights.bin": np.zeros(len(labels), "<f4").tobytes()}


def test_a_synthetic_export_imports(client):
    r = post(client, synthetic(), name="tiny")
    assert r.status_code == 201, r.get_json()


@pytest.mark.parametrize("labels", [("a", "\ud800"), ("a", "a\nb"), ("a", "a"), ("a", ""), ("a", " b")], ids=repr)
def test_labels_that_label_streaming_would_refuse_are_refused(client, labels):
    r = post(client, synthetic(labels), name="bad-labels")
    assert r.status_code == 400 and "metadata.json labels" in r.get_json()["error"], r.get_json()
    assert client.get("/api/models").get_json()["models"] == []
