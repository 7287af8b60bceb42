"""Several keypoint MLPs merged into one Sequential (training/model.py merge) give the softmax of
their mean logits, and the merged model exports, runs in numpy and loads in TF.js and ml5 as one
model does."""
import json

import numpy as np
import pytest

from core import dense_model
from tests.helpers import browser as hb
from tests.helpers.server import LiveServer
from training import export, model as model_lib, train
from training.data import DatasetError

LABELS = ["chair", "cobra", "dog", "tree", "warrior"]


def member_logits(m, x):
    k1, b1, k2, b2, k3, b3 = m.get_weights()
    return np.maximum(np.maximum(x @ k1 + b1, 0) @ k2 + b2, 0) @ k3 + b3


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    """(members, merged, its export folder, rows): 3 members fitted a little on random rows."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 51)).astype(np.float32)
    y = np.eye(5)[rng.integers(0, 5, 64)]
    members = []
    for seed in range(3):
        m = model_lib.build("keypoints", 51, 5, seed=seed)
        m.fit(x, y, epochs=3, verbose=0)
        members.append(m)
    merged = model_lib.merge(members, "keypoints", 51, 5)
    root = tmp_path_factory.mktemp("models")
    folder = export.export(merged, LABELS, "keypoints", root / "ens" / "1", name="ens", report={}, backbone="posenet")
    return members, merged, folder, x


def test_merged_members_give_the_softmax_of_their_mean_logits(ensemble):
    members, merged, folder, x = ensemble
    logits = np.mean([member_logits(m, x) for m in members], axis=0)
    want = np.exp(logits - logits.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    got = merged.predict(x, verbose=0)
    assert np.abs(got - want).max() < 1e-5
    # not the mean of the members' probabilities (another ensemble), nor any one member
    assert np.abs(got - np.mean([m.predict(x, verbose=0) for m in members], axis=0)).max() > 1e-3
    assert all(np.abs(got - m.predict(x, verbose=0)).max() > 1e-3 for m in members)

    # the export stores float16 weights: exactly Keras's rounded, probabilities within 2e-3
    model_json = json.loads((folder / "model.json").read_text())
    layers = dense_model.load_layers(model_json, dense_model.read_shards(folder, model_json))
    assert [layer.kernel.shape for layer in layers] == [(51, 384), (384, 192), (192, 5)]
    rounded = [w.astype(np.float16).astype(np.float32) for w in merged.get_weights()]
    assert all(np.array_equal(a, b) for a, b in zip(rounded, [w for l in layers for w in (l.kernel, l.bias)]))
    assert 0 < np.abs(dense_model.forward(layers, x) - got).max() < 2e-3


def test_merged_export_loads_in_tfjs_and_ml5(ensemble, browser_ready, playwright_session, tmp_path):
    _, merged, folder, x = ensemble
    rows = x[:4]
    server = LiveServer(tmp_path, env={"POSECAST_MODELS_DIR": str(folder.parents[1])}).start()
    try:
        with hb.chromium(playwright_session) as browser:
            page = hb.open_page(browser, f"{server.url}/?source=none&backbone=movenet-lightning")
            page.wait_for("posecast.status === 'ready' && window.ml5", 90)
            got = hb.load_in_tfjs_and_ml5(page, "/models/ens/1/", rows)
    finally:
        server.stop()
    model_json = json.loads((folder / "model.json").read_text())
    ours = dense_model.forward(dense_model.load_layers(model_json, dense_model.read_shards(folder, model_json)), rows)
    assert np.abs(np.array(got["probs"]) - ours).max() < 1e-5  # the page decodes float16 as numpy does
    assert np.abs(ours - merged.predict(rows, verbose=0)).max() < 2e-3
    for p, results in zip(ours, got["ml5"]):
        by_label = {r["label"]: r["confidence"] for r in results}
        assert np.allclose([by_label[c] for c in LABELS], p, atol=1e-5)


def test_train_cross_validates_and_exports_the_merged_ensemble():
    rng = np.random.default_rng(1)
    centres = rng.uniform(50, 250, (3, 17, 2))  # one pose per class, seen by 3 subjects with noise
    y = np.repeat(np.arange(3), 30)
    kps = np.concatenate([centres[y] + rng.normal(0, 4, (90, 17, 2)), np.ones((90, 17, 1))], axis=2)
    labels, groups = [f"c{i}" for i in y], [f"s{i % 3}" for i in range(90)]
    model, classes, report = train.train(kps, labels, groups, "keypoints", epochs=3, ensemble=2)
    assert report["ensemble"] == 2 and report["validation"]["method"] == "leave-one-subject-out"
    assert [layer.units for layer in model.layers if hasattr(layer, "units")] == [256, 128, 3]
    with pytest.raises(DatasetError, match="ensemble"):
        train.train(kps, labels, groups, "keypoints", epochs=1, ensemble=0)
