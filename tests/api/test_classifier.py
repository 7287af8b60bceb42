"""poseio's numpy classifiers: the default export against the features it was trained on, a real
Teachable Machine export's topology (random weights: TM does not publish them) on PoseNet's
features of a real photo, and models it must refuse."""
import json

import numpy as np
import pytest

from core import features
from poseio.classifier import Classifier, Unsupported
from tests.helpers.paths import ROOT

from .conftest import needs


def spec_of(folder, **over):
    meta = json.loads((folder / "posecast.json").read_text()) if (folder / "posecast.json").exists() else {}
    return {"name": folder.parent.name, "version": 1, "dir": str(folder), "features": meta.get("features"),
            "labels": meta.get("labels"), "threshold": (meta.get("rejection") or {}).get("threshold"),
            "normalisation": meta.get("normalisation"), **over}


def test_the_default_model_gives_probabilities_and_rejects_under_its_threshold():
    clf = Classifier(spec_of(ROOT / "tfjs_models" / "yoga5" / "2"))
    kps = [{"name": n, "x": 100.0 + 10 * i, "y": 50.0 + 20 * i, "score": 0.9} for i, n in enumerate(features.COCO17)]
    [out] = clf.classify([kps])
    assert set(out["probabilities"]) == set(clf.labels) and abs(sum(out["probabilities"].values()) - 1) < 1e-5
    assert out["label"] == (max(out["probabilities"], key=out["probabilities"].get)
                            if out["confidence"] >= clf.threshold else "unknown")


def test_a_teachable_machine_topology_on_posenet_features(tmp_path):
    real = needs("teachable-machine", "yoga-sage__tree")
    model = json.loads((real / "model.json").read_text())
    rng = np.random.default_rng(0)
    blob = b"".join(rng.normal(0, 0.01, int(np.prod(w["shape"]))).astype("<f4").tobytes()
                    for g in model["weightsManifest"] for w in g["weights"])
    for g in model["weightsManifest"]:
        g["paths"] = ["weights.bin"]
    (tmp_path / "model.json").write_text(json.dumps(model))
    (tmp_path / "weights.bin").write_bytes(b"" + blob)
    labels = json.loads((real / "metadata.json").read_text())["labels"]
    clf = Classifier({"name": "tm", "version": 1, "dir": str(tmp_path), "features": "tm", "labels": labels})
    import runtime
    from poseio.images import decode
    from poseio.infer import run

    est = runtime.load("posenet", executor="openvino")
    people, _ = run(est, decode(needs("images", "pose.jpg").read_bytes(), 10 ** 7), 1, 0.0, clf)
    assert people and people[0]["label"] in labels and abs(sum(people[0]["probabilities"].values()) - 1) < 1e-5
    with pytest.raises(Unsupported, match="PoseNet only"):
        run(runtime.load("movenet-lightning", executor="openvino"), np.zeros((64, 64, 3), np.uint8), 1, 0.0, clf)


def test_refused_models(tmp_path):
    folder = ROOT / "tfjs_models" / "yoga5" / "2"
    with pytest.raises(Unsupported, match="feature kind"):
        Classifier(spec_of(folder, features="heatmaps"))
    with pytest.raises(Unsupported, match="another pose feature table"):
        Classifier(spec_of(folder, normalisation={"pose_features": {"angles": []}}))
    with pytest.raises(Unsupported, match="outputs do not match"):
        Classifier(spec_of(folder, labels=["a", "b"]))
