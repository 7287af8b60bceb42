"""A `world` model (keypoints + BlazePose's world landmarks) wherever poseio classifies: in-process
(poseio.infer.run on a real photo, a video job on the real video), `posecast poses` and the
inference API of a live server; a backbone without world landmarks is refused with the reason."""
import json
import subprocess
import sys

import numpy as np
import pytest
import requests

from core import dense_model, features
from poseio.classifier import Classifier, Unsupported
from tests.helpers.paths import ROOT
from tests.helpers.server import LiveServer
from tests.helpers.world_model import LABELS, NAME

from .conftest import API_ENV, needs, tokens_cli

TIMEOUT = 180  # the first request may wait for the worker to load its backbone on a loaded machine


def spec_of(folder):
    meta = json.loads((folder / "posecast.json").read_text())
    return {"name": NAME, "version": 1, "dir": str(folder), "features": meta["features"], "labels": meta["labels"],
            "threshold": None, "normalisation": meta["normalisation"], "backbone": meta["backbone"]}


def forward(folder, inputs: np.ndarray) -> np.ndarray:
    """The export's probabilities on core/features.py's world row of one (17, 6) input."""
    model_json = json.loads((folder / "model.json").read_text())
    layers = dense_model.load_layers(model_json, dense_model.read_shards(folder, model_json))
    return dense_model.forward(layers, features.matrix("world", inputs[None]))[0]


def photo_through_blazepose(folder):
    import runtime
    from poseio.images import decode
    from poseio.infer import run

    estimator = runtime.load("blazepose-lite", executor="openvino")
    rgb = decode(needs("images", "pose.jpg").read_bytes(), 10 ** 7)
    people, _ = run(estimator, rgb, 1, 0.0, Classifier(spec_of(folder)))
    return people, estimator.estimate(rgb, 1)


def test_poseio_classifies_with_the_world_landmarks_of_blazepose(world_model):
    import runtime
    from poseio.infer import run

    folder = world_model[1]
    [person], [pose] = photo_through_blazepose(folder)
    inputs = features.pose_inputs("world", pose)
    expected = forward(folder, inputs)
    got = np.array([person["probabilities"][label] for label in LABELS])
    # 1e-4 as the page's agreement: poseio classifies the keypoints it reports, rounded to 0.01 px
    assert np.abs(got - expected).max() <= 1e-4 and person["label"] == LABELS[int(expected.argmax())]
    flat = inputs.copy()
    flat[:, 3:] = 0  # the world landmarks are used: without them the probabilities move
    assert np.abs(forward(folder, flat) - expected).max() > 0.02

    clf = Classifier(spec_of(folder))
    with pytest.raises(Unsupported, match="w3d: world features need BlazePose's world landmarks"):
        run(runtime.load("movenet-lightning", executor="openvino"), np.zeros((64, 64, 3), np.uint8), 1, 0.0, clf)
    with pytest.raises(Unsupported, match="world landmarks"):
        clf.classify([person["keypoints"]])


def test_a_video_job_labels_every_frame_with_a_world_model(world_model, tmp_path):
    from poseio import video_job

    spec = {"out": str(tmp_path), "video": str(needs("videos", "tfjs-pose_1.mp4")), "backbone": "blazepose-lite",
            "model": spec_of(world_model[1]), "max_people": 1, "threshold": 0.0, "name": "dance.mp4"}
    assert video_job.main(spec) == 0
    frames = [json.loads(line) for line in (tmp_path / "poses.jsonl").read_text().splitlines()]
    people = [p for f in frames for p in f["people"]]
    assert len(frames) >= 100 and len(people) >= 0.9 * len(frames)
    assert all(p["label"] in LABELS and abs(sum(p["probabilities"].values()) - 1) < 1e-5 for p in people)
    assert len({p["label"] for p in people}) > 1 or len({round(p["confidence"], 3) for p in people}) > 10


def test_posecast_poses_labels_with_a_world_model_on_blazepose_only(world_model, tmp_path):
    folder, photo = world_model[1], needs("images", "pose.jpg")
    command = [sys.executable, "-m", "server", "poses", str(photo), "--model", str(folder), "--quiet"]
    done = subprocess.run([*command, "--backbone", "blazepose-lite", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    [frame] = [json.loads(line) for line in (tmp_path / "poses.jsonl").read_text().splitlines()]
    [local], _ = photo_through_blazepose(folder)
    assert frame["people"][0]["probabilities"] == pytest.approx(local["probabilities"], abs=1e-4)
    refused = subprocess.run([*command, "--backbone", "movenet-thunder", "--out", str(tmp_path / "no")], cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "w3d: world features need BlazePose's world landmarks" in refused.stderr
    assert not (tmp_path / "no").exists()  # refused before any work


@pytest.fixture(scope="module")
def world_server(tmp_path_factory, world_model):
    needs("images", "pose.jpg")
    server = LiveServer(tmp_path_factory.mktemp("world-api"),
                        env={**API_ENV, "POSECAST_MODELS_DIR": str(world_model[0])}).start(timeout=90)
    made = tokens_cli(server, "create", "world", "--role", "viewer")
    assert made.returncode == 0, made.stderr
    server.bearer = {"Authorization": f"Bearer {made.stdout.strip()}"}
    yield server
    server.stop()


def test_the_inference_api_labels_with_a_world_model(world_server, world_model):
    photo = needs("images", "pose.jpg").read_bytes()
    r = requests.post(f"{world_server.url}/api/v1/infer", params={"model": NAME}, data=photo, timeout=TIMEOUT,
                      headers={**world_server.bearer, "Content-Type": "image/jpeg"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["name"] == NAME and body["backbone"] == "blazepose-lite"  # the model's own
    [person] = body["people"]
    [local], _ = photo_through_blazepose(world_model[1])  # the same photo through poseio in this process
    got = np.array([person["probabilities"][label] for label in LABELS])
    assert np.abs(got - [local["probabilities"][label] for label in LABELS]).max() <= 1e-4
    assert person["label"] == local["label"] in LABELS


def test_the_api_refuses_a_world_model_on_a_backbone_without_world_landmarks(world_server):
    params = {"model": NAME, "backbone": "movenet-lightning"}
    r = requests.post(f"{world_server.url}/api/v1/infer", params=params, data=needs("images", "pose.jpg").read_bytes(),
                      headers={**world_server.bearer, "Content-Type": "image/jpeg"}, timeout=TIMEOUT)
    assert r.status_code == 422 and "world landmarks" in r.json()["error"] and "movenet-lightning" in r.json()["error"]
    with needs("videos", "tfjs-pose_1.mp4").open("rb") as f:  # a video job: refused before it queues
        r = requests.post(f"{world_server.url}/api/v1/jobs", headers=world_server.bearer, data=params, timeout=60,
                          files={"video": ("dance.mp4", f, "video/mp4")})
    assert r.status_code == 422 and "world landmarks" in r.json()["error"]
