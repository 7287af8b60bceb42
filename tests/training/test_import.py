"""A zip of class folders uploaded to the server becomes samples (keypoints from the dataset's
backbone, TM features with PoseNet, thumbnails), all or nothing."""
import io
import threading
import zipfile

import pytest
import socketio

from core.features import TRAIN_BACKBONE
from tests.helpers.server import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LiveServer(tmp_path_factory.mktemp("srv")).start()
    yield srv
    srv.stop()


def upload(server, dataset_id, entries, backbone=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    done = threading.Event()
    events = []
    client = socketio.Client()

    def on_progress(data):
        events.append(data)
        if data["event"] in ("done", "error"):
            done.set()

    client.on("import_progress", on_progress, namespace="/trainer")
    client.connect(server.url, namespaces=["/trainer"], transports=["websocket"], headers={"Cookie": server.cookie()})
    try:
        r = server.api("POST", f"/api/datasets/{dataset_id}/import", files={"file": ("set.zip", buf.getvalue())},
                       data={"backbone": backbone} if backbone else None)
        assert r.status_code == 202, r.text
        assert done.wait(120)
    finally:
        client.disconnect()
    return r.json(), events


def yoga_entries(shared_data, labels=("tree", "cobra"), n=6) -> dict:
    return {f"yoga/{label}/{path.name}": path.read_bytes()
            for label in labels for path in sorted((shared_data / "yoga5" / "train" / label).glob("*.jpg"))[:n]}


def test_zip_import_all_or_nothing(server, shared_data):
    ds = server.api("POST", "/api/datasets", json={"name": "zipped"}).json()
    entries = yoga_entries(shared_data)
    reply, events = upload(server, ds["id"], entries, backbone="posenet")
    assert reply["images"] == 12 and reply["backbone"] == "posenet"
    assert events[-1]["event"] == "done" and events[-1]["counts"] == {"cobra": 6, "tree": 6}
    detail = server.api("GET", f"/api/datasets/{ds['id']}").json()
    assert detail["counts"] == {"cobra": 6, "tree": 6}
    assert all(s["tm"] and s["thumbnail"] and s["backbone"] == "posenet" for s in detail["samples"])
    r = server.api("GET", detail["samples"][0]["thumbnail"])
    assert r.headers["Content-Type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"

    # One undecodable file among good ones: an error naming it, and nothing of the zip is stored.
    # No backbone asked: the dataset's own (PoseNet) runs.
    entries["yoga/tree/broken.jpg"] = b"this is not a jpeg"
    reply, events = upload(server, ds["id"], entries)
    assert reply["backbone"] == "posenet"
    assert events[-1]["event"] == "error"
    assert "broken.jpg is not an image" in events[-1]["message"]
    assert server.api("GET", f"/api/datasets/{ds['id']}").json()["counts"] == {"cobra": 6, "tree": 6}


def test_zip_import_uses_the_default_backbone_and_keeps_a_dataset_on_one(server, shared_data):
    """An empty dataset imports with training's default backbone (no TM features then); its
    keypoints are that backbone's (the explore view sees the people); another backbone than the
    dataset's is refused before anything runs."""
    ds = server.api("POST", "/api/datasets", json={"name": "zipped-default"}).json()
    reply, events = upload(server, ds["id"], yoga_entries(shared_data, n=3))
    assert reply["backbone"] == TRAIN_BACKBONE
    assert events[-1]["event"] == "done" and events[-1]["counts"] == {"cobra": 3, "tree": 3}
    detail = server.api("GET", f"/api/datasets/{ds['id']}").json()
    assert all(s["backbone"] == TRAIN_BACKBONE and not s["tm"] and s["thumbnail"] for s in detail["samples"])
    seen = [p["seen"] for p in server.api("GET", f"/api/datasets/{ds['id']}/explore").json()["points"]]
    assert len(seen) == 6 and min(seen) >= 12, seen  # MoveNet sees these people whole (17 keypoints)
    # BlazePose's world landmarks are kept too: the dataset gives `world` training the inputs
    # `posecast train FOLDER` extracts from the same images.
    assert all(s["world"] for s in detail["samples"])
    assert_world_inputs_as_from_a_folder(server, ds["id"], shared_data, n=3)

    r = server.api("POST", f"/api/datasets/{ds['id']}/import", files={"file": ("set.zip", b"PK")},
                   data={"backbone": "posenet"})
    assert r.status_code == 400 and f"recorded with {TRAIN_BACKBONE}, not posenet" in r.json()["error"]
    r = server.api("POST", f"/api/datasets/{ds['id']}/import", files={"file": ("set.zip", b"PK")},
                   data={"backbone": "nope"})
    assert r.status_code == 400 and "backbone must be one of" in r.json()["error"]
    assert server.api("GET", f"/api/datasets/{ds['id']}").json()["counts"] == {"cobra": 3, "tree": 3}


def assert_world_inputs_as_from_a_folder(server, dataset_id, shared_data, n):
    """The dataset's `world` inputs equal the extraction of a folder of the zip's images (imported
    in sorted order: cobra, then tree)."""
    import numpy as np

    from server.models.train_job import load
    from training import data, features

    instance = server.env["POSECAST_INSTANCE_PATH"]
    x, labels, _, _ = load(f"sqlite:///{instance}/posecast.db", dataset_id, "world", instance)
    images = [data.Sample(path, label, path.name.split("_")[0]) for label in ("cobra", "tree")
              for path in sorted((shared_data / "yoga5" / "train" / label).glob("*.jpg"))[:n]]
    with features.extractor(TRAIN_BACKBONE) as pool:
        folder = features.extract(images, "world", pool)
    assert labels == [s.label for s in images]
    assert np.array_equal(x, folder)
