"""The committed default model (the newest tfjs_models/yoga5 version): trained on the default
training backbone with its evaluation recorded, and loadable as a TF.js layers model and by
ml5.neuralNetwork with the same probabilities."""
import json

import numpy as np
import pytest

from core.features import TRAIN_BACKBONE, input_columns, matrix
from core.tables import COCO17
from tests.helpers import browser as hb
from tests.helpers.paths import ROOT

YOGA5 = ROOT / "tfjs_models" / "yoga5"
DEFAULT = max((p for p in YOGA5.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))


def test_default_model_records_its_backbone_and_evaluation():
    meta = json.loads((DEFAULT / "posecast.json").read_text())
    report = json.loads((DEFAULT / "report.json").read_text())
    from server.models.train_command import default_features

    # what `posecast train FOLDER` gives by default (an image folder: world features, README)
    assert (meta["backbone"], meta["features"]) == (TRAIN_BACKBONE, default_features(None, None))
    val = report["validation"]
    assert val["method"] == "leave-one-subject-out" and len(val["per_fold"]) == 6
    assert sum(report["counts"]["train"].values()) == 1000
    # README, Training: yoga5/9 (world features: 2-D keypoints, 3-D angles, body frame, one member
    # each; the 2-D and body-frame members also see a turned camera) 0.977, worst subject 0.911 (girl3's
    # chairs from above); yoga5/8 (no turn) 0.974, 0.930; yoga5/6-7 (keypoints, 3 models of 120 epochs merged) 0.971, 0.906; yoga5/5 (one model of 60) 0.943, 0.754; yoga5/4 without the
    # fallback 0.929, 0.70; yoga5/3 on Thunder 0.892, 0.62. An image with nobody found counts wrong.
    assert val["accuracy"] >= 0.97 and val["worst_accuracy"] >= 0.9
    assert min(val["per_class"].values()) >= 0.93  # issue 10: no class under 93 %
    assert report["ensemble"] == 3 and len(np.array(val["confusion"])) == 5


def synthetic_poses(n: int) -> np.ndarray:
    """n random poses as the default model's input rows (its feature kind; world kinds also get
    random world landmarks, metres around the hips)."""
    rng = np.random.default_rng(0)
    kind = json.loads((DEFAULT / "posecast.json").read_text())["features"]
    columns = [rng.uniform(50, 250, (n, len(COCO17))), rng.uniform(20, 300, (n, len(COCO17))),
               rng.uniform(0.1, 1, (n, len(COCO17)))]
    columns += [rng.uniform(-0.8, 0.8, (n, len(COCO17))) for _ in range(input_columns(kind) - 3)]
    return matrix(kind, np.stack(columns, axis=2))


def test_default_model_loads_in_tfjs_and_ml5(live_server, playwright_session):
    rows = synthetic_poses(4)
    labels = json.loads((DEFAULT / "posecast.json").read_text())["labels"]
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{live_server.url}/?source=none&backbone=movenet-lightning")
        page.wait_for("posecast.status === 'ready' && window.ml5", 90)
        got = hb.load_in_tfjs_and_ml5(page, f"/models/yoga5/{DEFAULT.name}/", rows)
    probs = np.array(got["probs"])
    assert probs.shape == (4, len(labels)) and np.allclose(probs.sum(1), 1, atol=1e-5)
    for p, results in zip(probs, got["ml5"]):
        by_label = {r["label"]: r["confidence"] for r in results}
        assert set(by_label) == set(labels)
        assert np.allclose([by_label[c] for c in labels], p, atol=1e-5)


def test_live_page_runs_the_default_model_on_its_backbone(browser_ready, playwright_session, y4m, tmp_path):
    from tests.helpers.server import LiveServer

    server = LiveServer(tmp_path, env={"POSECAST_DEFAULT_MODEL": "yoga5"}).start()  # the real default
    try:
        _live_page_runs_the_default_model(server, playwright_session, y4m)
    finally:
        server.stop()


def _live_page_runs_the_default_model(live_server, playwright_session, y4m):
    with hb.chromium(playwright_session, camera=y4m("videos/tfjs-pose_1.mp4")) as browser:
        page = hb.open_page(browser, f"{live_server.url}/")
        page.wait_for(f"posecast.model && posecast.model.version === {int(DEFAULT.name)} && posecast.classification", 90)
        assert page.state("posecast.backbone") == TRAIN_BACKBONE
        assert page.state("posecast.model.backbone") == TRAIN_BACKBONE
        assert page.errors == [] and page.outside_loopback() == []


# Real photos of people doing none of yoga5's poses (tennis, skiing, sitting on a bench, a bus, a
# portrait...; images/README): the default model should say `unknown` (top probability under its
# rejection threshold) or find nobody, not force a yoga class. Measured with yoga5/5 (BlazePose heavy
# with the still-image fallback) and yoga5/4 (without): 16 of these 26 (0.62; yoga5/3 on Thunder: 9,
# 0.35). Models trained like yoga5/5 with seeds 0-3 refused 16, 12, 8 and 14 (README, Training).
# pose.jpg (warrior II, not yoga5's warrior III) and yoga.jpg (a tree, which it must name) are left
# out of the count.
NOT_A_CLASS_FLOOR = 0.5


def test_default_model_rejects_poses_that_are_none_of_its_classes(shared_data):
    import training  # noqa: F401  (tf_keras environment first)
    from training import evaluate_folder, exported
    from training.posenet import load_image

    model = exported.load(DEFAULT)
    poses = evaluate_folder.Poses(model)

    def said(path):
        _, row = poses(load_image(path))
        if row is None:
            return evaluate_folder.NO_POSE
        probs = model.predict(row[None])[0]
        return model.labels[probs.argmax()] if probs.max() >= model.threshold else evaluate_folder.REJECTED

    others = sorted(p for p in (shared_data / "images").iterdir()
                    if p.suffix in (".jpg", ".png") and p.name not in ("pose.jpg", "yoga.jpg"))
    labels = {p.name: said(p) for p in others}
    refused = sum(v in (evaluate_folder.REJECTED, evaluate_folder.NO_POSE) for v in labels.values())
    assert len(others) == 26 and refused / len(others) >= NOT_A_CLASS_FLOOR, labels
    assert said(shared_data / "images" / "yoga.jpg") == "tree"
