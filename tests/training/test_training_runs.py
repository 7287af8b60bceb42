"""From samples to an active model in every open page, through the real server: samples posted
over REST, training in a subprocess, progress over Socket.IO, the new model pushed to /live."""
import base64
import json
import shutil
import threading
import time

import pytest
import socketio

from core.features import DEFAULT_KIND
from tests.helpers.paths import ROOT
from tests.helpers.server import LiveServer
from training import train


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    shutil.copytree(ROOT / "tfjs_models" / "yoga5" / "1", models / "yoga5" / "1")
    srv = LiveServer(tmp_path_factory.mktemp("srv"), env={"POSECAST_MODELS_DIR": str(models)}).start()
    yield srv
    srv.stop()


def call(server, method, path, body=None):
    r = server.api(method, path, json=body)
    return r.status_code, (r.json() if r.content else None)


class Listener:
    """A real Socket.IO client (websocket) on the /trainer and /live namespaces."""

    def __init__(self, server):
        self.events = []
        self.done = threading.Event()
        self.client = socketio.Client()
        self.client.on("train_progress", self._progress, namespace="/trainer")
        self.client.on("model_activated", lambda data: self.events.append(("model_activated", data)), namespace="/live")
        self.client.connect(server.url, namespaces=["/trainer", "/live"], transports=["websocket"],
                            headers={"Cookie": server.cookie()})

    def _progress(self, data):
        self.events.append(("train_progress", data))
        if data["event"] in ("done", "error"):
            self.done.set()

    def of(self, name, event=None):
        return [d for n, d in self.events if n == name and (event is None or d.get("event") == event)]


@pytest.fixture(scope="module")
def dataset(server, posenet, yoga_subset):
    status, ds = call(server, "POST", "/api/datasets", {"name": "studio"})
    assert status == 201
    from training.posenet import load_image

    for s in [s for s in yoga_subset if s.label in ("cobra", "tree")][::2]:
        out = posenet.run(load_image(s.path))
        status, _ = call(server, "POST", f"/api/datasets/{ds['id']}/samples", {
            "label": s.label, "backbone": "posenet", "width": 300, "height": 300,
            "keypoints": out.keypoints(), "tm": base64.b64encode(out.tm_features().astype("<f4").tobytes()).decode()})
        assert status == 201
    return ds


def test_train_from_samples_and_push_the_model_to_live_pages(server, dataset):
    listener = Listener(server)
    try:
        time.sleep(0.5)
        assert listener.of("model_activated")[0]["name"] == "yoga5"  # sent on connect
        # The page's "Best accuracy" shape (several models merged), with few epochs to stay quick.
        status, run = call(server, "POST", f"/api/datasets/{dataset['id']}/train", {"epochs": 6, "ensemble": 2})
        assert status == 202
        assert call(server, "POST", f"/api/datasets/{dataset['id']}/train", {})[0] == 409  # one at a time
        assert listener.done.wait(180), listener.events[-3:]
        deadline = time.monotonic() + 30
        while listener.of("model_activated")[-1]["name"] != "studio" and time.monotonic() < deadline:
            time.sleep(0.2)
        # Every fold's epochs (each recorded sample is its own group: 5 folds of whole groups), then
        # the final model's on all samples (no validation); each stage trains both members, 2 x 6.
        epochs = listener.of("train_progress", "epoch")
        assert [(e["fold"], e["folds"], e["epoch"], e["epochs"]) for e in epochs] == \
            [(f, 5, e, 12) for f in (1, 2, 3, 4, 5, None) for e in range(1, 13)]
        assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[59])
        assert "val_accuracy" not in epochs[-1]
        assert listener.of("train_progress", "done")[0]["validation"]["accuracy"] >= 0.75
        pushed = listener.of("model_activated")[-1]
        assert pushed["name"] == "studio" and pushed["labels"] == ["cobra", "tree"]
        assert pushed["backbone"] == "posenet"  # the dataset's: live pages switch to it
    finally:
        listener.client.disconnect()
    status, record = call(server, "GET", f"/api/runs/{run['id']}")
    assert record["status"] == "done" and record["params"] == {"features": DEFAULT_KIND, "backbone": "posenet", "epochs": 6,
                                                     "ensemble": 2, "name": "studio"}
    model = next(m for m in call(server, "GET", "/api/models")[1]["models"] if m["id"] == record["model_id"])
    # the trainer's model table shows it; the recipe is the default one
    assert model["training"] == {"ensemble": 2, "epochs": 6, "recipe": {**train.default_recipe(2).as_dict(), "mirror": False}}
    assert [layer["config"]["units"] for layer in call(server, "GET", model["url"])[1]["modelTopology"]["model_config"]
            ["config"]["layers"] if "units" in layer["config"]] == [256, 128, 2]  # the two members, merged
    assert record["duration_s"] > 0 and sum(record["counts"]["train"].values()) > 0
    assert call(server, "GET", "/api/models/active")[1]["id"] == record["model_id"]
    # The run records its out-of-fold mistakes by sample id, for the trainer page's report.
    samples = {s["id"]: s["label"] for s in call(server, "GET", f"/api/datasets/{dataset['id']}")[1]["samples"]}
    mistakes = record["metrics"]["mistakes"]
    assert sum(map(sum, record["metrics"]["confusion"])) - sum(record["metrics"]["confusion"][i][i] for i in (0, 1)) \
        == len(mistakes)
    assert all(samples[m["sample_id"]] == m["true"] != m["said"] for m in mistakes)
    assert record["metrics"]["labels"] == ["cobra", "tree"]
    assert call(server, "GET", pushed["url"])[0] == 200


def test_tm_training_and_a_failed_run_is_recorded(server, dataset):
    listener = Listener(server)
    try:
        status, run = call(server, "POST", f"/api/datasets/{dataset['id']}/train",
                           {"features": "tm", "epochs": 5, "name": "studio-tm"})
        assert status == 202 and run["params"]["ensemble"] == 1 and listener.done.wait(180)  # one model by default
        assert listener.of("train_progress", "done")
    finally:
        listener.client.disconnect()
    time.sleep(1)  # the run is recorded right after its last event
    # A sample without TM features makes a tm run fail, and the failure is recorded.
    status, _ = call(server, "POST", f"/api/datasets/{dataset['id']}/samples", sample("tree", "posenet"))
    assert status == 201
    listener = Listener(server)
    try:
        status, run = call(server, "POST", f"/api/datasets/{dataset['id']}/train", {"features": "tm", "epochs": 2})
        assert status == 202 and listener.done.wait(120)
        assert "no Teachable Machine features" in listener.of("train_progress", "error")[0]["message"]
    finally:
        listener.client.disconnect()
    time.sleep(1)
    assert call(server, "GET", f"/api/runs/{run['id']}")[1]["status"] == "failed"


def sample(label: str, backbone: str) -> dict:
    names = json.loads((ROOT / "tfjs_models/yoga5/1/posecast.json").read_text())["normalisation"]["names"]
    return {"label": label, "backbone": backbone, "width": 40, "height": 40,
            "keypoints": [{"name": n, "x": 1.0 + i, "y": 2.0 * i, "score": 0.5} for i, n in enumerate(names)]}


def test_a_run_uses_the_backbone_its_samples_were_recorded_with(server):
    """A model learns one backbone's keypoints: another backbone than the samples', or a dataset
    that mixes backbones, is refused before anything runs."""
    status, ds = call(server, "POST", "/api/datasets", {"name": "lightning"})
    for label in ("cobra", "cobra", "tree", "tree"):
        assert call(server, "POST", f"/api/datasets/{ds['id']}/samples", sample(label, "movenet-lightning"))[0] == 201
    status, body = call(server, "POST", f"/api/datasets/{ds['id']}/train", {"backbone": "movenet-thunder"})
    assert status == 400 and "recorded with movenet-lightning" in body["error"]
    for bad in ("nope", ["posenet"], {"a": 1}, 3):
        assert call(server, "POST", f"/api/datasets/{ds['id']}/train", {"backbone": bad})[0] == 400
    assert call(server, "POST", f"/api/datasets/{ds['id']}/samples", sample("tree", "posenet"))[0] == 201
    status, body = call(server, "POST", f"/api/datasets/{ds['id']}/train", {})
    assert status == 400 and "mixes samples of movenet-lightning, posenet" in body["error"]


@pytest.fixture(scope="module")
def blazepose(shared_data):
    """The pose runtime's BlazePose lite, as `posecast train --backbone blazepose-lite` extracts."""
    from training import features

    if not (ROOT / "assets" / "pose").is_dir():
        pytest.skip("assets/ not built (make test builds it)")
    return features.load_backbone("blazepose-lite")


def test_a_recorded_dataset_with_world_landmarks_trains_a_world_model(server, blazepose, yoga_subset):
    """Samples posted as the trainer page sends them (the keypoints and keypoints3D of BlazePose's
    pose) give training exactly the inputs `posecast train FOLDER` builds from the same poses, the
    run defaults to `world` (members in threes), and the export is a world model on that backbone."""
    import numpy as np

    from server.models.train_job import load
    from training import features
    from training.posenet import load_image

    status, ds = call(server, "POST", "/api/datasets", {"name": "studio3d"})
    picked = [s for s in yoga_subset if s.label in ("cobra", "tree")][::8]
    folder_rows = []
    for s in picked:
        poses = blazepose.estimate(load_image(s.path))
        folder_rows.append(features.keypoints_of(poses, world=True))  # what extraction from a folder keeps
        if not poses:
            continue  # the page stores no sample where it sees nobody
        pose = max(poses, key=lambda p: p.score)
        status, body = call(server, "POST", f"/api/datasets/{ds['id']}/samples", {
            "label": s.label, "backbone": "blazepose-lite", "width": 300, "height": 300,
            "keypoints": [{k: p[k] for k in ("name", "x", "y", "score")} for p in pose.keypoints],
            "keypoints3D": [{"name": p["name"], "x": x, "y": y, "z": z}
                            for p, (x, y, z) in zip(pose.keypoints, pose.extra["world"])]})
        assert status == 201, body
    seen = [i for i, row in enumerate(folder_rows) if row[:, 2].any()]
    assert len(seen) >= 8
    instance = server.env["POSECAST_INSTANCE_PATH"]
    x, labels, _, backbone = load(f"sqlite:///{instance}/posecast.db", ds["id"], "world", instance)
    assert backbone == "blazepose-lite" and x.shape == (len(seen), 17, 6)
    assert np.array_equal(x, np.stack([folder_rows[i] for i in seen]))
    assert np.array_equal(features.matrix("world", x), features.matrix("world", np.stack(folder_rows))[seen])
    assert labels == [picked[i].label for i in seen]

    listener = Listener(server)
    try:  # no features asked: world, since every sample keeps its world landmarks
        status, run = call(server, "POST", f"/api/datasets/{ds['id']}/train", {"epochs": 2, "ensemble": 3})
        assert status == 202 and run["params"]["features"] == "world", run
        assert listener.done.wait(240), listener.events[-3:]
        assert listener.of("train_progress", "done"), listener.of("train_progress", "error")
    finally:
        listener.client.disconnect()
    time.sleep(1)  # the run is recorded right after its last event
    record = call(server, "GET", f"/api/runs/{run['id']}")[1]
    model = next(m for m in call(server, "GET", "/api/models")[1]["models"] if m["id"] == record["model_id"])
    assert (model["features"], model["backbone"]) == ("world", "blazepose-lite")

    # One sample without them (recorded before they were kept): world is refused with the count.
    status, _ = call(server, "POST", f"/api/datasets/{ds['id']}/samples", {
        "label": "tree", "backbone": "blazepose-lite", "width": 300, "height": 300,
        "keypoints": [{k: p[k] for k in ("name", "x", "y", "score")} for p in pose.keypoints]})
    assert status == 201
    status, body = call(server, "POST", f"/api/datasets/{ds['id']}/train", {"features": "world", "ensemble": 3})
    assert status == 400 and f"1 of {len(seen) + 1} sample(s) have none" in body["error"]
    with pytest.raises(ValueError, match=f"1 of {len(seen) + 1} sample"):
        load(f"sqlite:///{instance}/posecast.db", ds["id"], "world", instance)
