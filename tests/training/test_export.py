"""Exports speak the formats people use: Teachable Machine's pose format and ml5's, and load in
TF.js 4.22 (in Chromium) with Keras's probabilities."""
import json

import numpy as np
import pytest

from tests.helpers import browser as hb
from tests.helpers.paths import shared
from tests.helpers.server import LiveServer
from core import dense_model
from core.tables import POSE_FEATURES
from training import export, exported, features

REAL_TM = ["straighten-up__posture", "yoga-sage__diamond", "yoga-sage__easy", "yoga-sage__goddess",
           "yoga-sage__tree", "yoga-sage__triangle"]

PREDICT_JS = """async ([url, rows]) => {
  const model = await tf.loadLayersModel(url);
  const out = model.predict(tf.tensor2d(rows));
  const probs = await out.array();
  out.dispose();
  return probs;
}"""


def layer_summary(model_json: dict) -> list[tuple]:
    topology = model_json["modelTopology"]
    config = topology.get("model_config", topology)["config"]
    layers = [layer for layer in config["layers"] if layer["class_name"] != "InputLayer"]
    return [(l["class_name"], l["config"].get("units"), l["config"].get("activation"),
             l["config"].get("use_bias"), l["config"].get("rate")) for l in layers]


def weight_shapes(model_json: dict) -> list[list[int]]:
    return [w["shape"] for group in model_json["weightsManifest"] for w in group["weights"]]


@pytest.fixture(scope="module")
def exports(trained, tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {kind: export.export(model, classes, kind, root / f"yoga-{kind}" / "1", name=f"yoga-{kind}", report=report)
            for kind, (model, classes, report) in trained.items()}, root


@pytest.mark.parametrize("real", REAL_TM)
def test_tm_export_matches_real_teachable_machine_exports(exports, shared_data, real):
    ours = exports[0]["tm"]
    real_dir = shared("teachable-machine", real)
    real_model = json.loads((real_dir / "model.json").read_text())
    real_meta = json.loads((real_dir / "metadata.json").read_text())
    our_model = json.loads((ours / "model.json").read_text())
    our_meta = json.loads((ours / "metadata.json").read_text())

    n_real, n_ours = len(real_meta["labels"]), len(our_meta["labels"])
    assert layer_summary(real_model) == [("Dense", 100, "relu", True, None), ("Dropout", None, None, None, 0.5),
                                         ("Dense", n_real, "softmax", False, None)]
    assert layer_summary(our_model) == [("Dense", 100, "relu", True, None), ("Dropout", None, None, None, 0.5),
                                        ("Dense", n_ours, "softmax", False, None)]
    assert weight_shapes(our_model)[:2] == weight_shapes(real_model)[:2] == [[14739, 100], [100]]
    assert weight_shapes(our_model)[2] == [100, n_ours] and weight_shapes(real_model)[2] == [100, n_real]
    assert set(our_meta) == set(real_meta)
    assert our_meta["packageName"] == real_meta["packageName"] == "@teachablemachine/pose"
    assert our_meta["modelSettings"] == real_meta["modelSettings"]
    assert (ours / "weights.bin").stat().st_size == 4 * sum(int(np.prod(s)) for s in weight_shapes(our_model))


@pytest.mark.parametrize("kind", ["pose", "keypoints"])
def test_ml5_export_set(exports, kind):
    folder = exports[0][kind]
    assert sorted(p.name for p in folder.iterdir()) == [
        "model.json", "model.weights.bin", "model_meta.json", "posecast.json", "report.json"]
    meta = json.loads((folder / "model_meta.json").read_text())
    assert meta["inputUnits"] == [features.size_of(kind)] and meta["outputUnits"] == 5
    ours = json.loads((folder / "posecast.json").read_text())
    assert ours["features"] == kind and ours["normalisation"]["names"][0] == "nose"
    assert 0 < ours["rejection"]["threshold"] < 1 and ours["metrics"]["method"] == "leave-one-subject-out"
    if kind == "pose":  # the model carries the table it was trained with
        assert ours["normalisation"]["pose_features"] == POSE_FEATURES
    # float16 weights: half of Teachable Machine's float32 bytes
    model_json = json.loads((folder / "model.json").read_text())
    assert ours["weights"] == "float16"
    assert all(w["quantization"] == {"dtype": "float16"} for g in model_json["weightsManifest"] for w in g["weights"])
    assert (folder / "model.weights.bin").stat().st_size == 2 * sum(int(np.prod(s)) for s in weight_shapes(model_json))


def test_quantised_weights_decode_as_tfjs_decodes_them():
    """uint8/uint16: q * scale + min (tfjs-core io_utils.decodeWeight); float16 as is."""
    manifest = [{"paths": ["w.bin"], "weights": [
        {"name": "a", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "min": -1.0, "scale": 0.01}},
        {"name": "b", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint16", "min": 0.5, "scale": 0.25}},
        {"name": "c", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}},
        {"name": "d", "shape": [1], "dtype": "float32"}]}]
    blob = (bytes([0, 100, 200]) + np.array([0, 4], "<u2").tobytes() + np.array([0.1, -2], "<f2").tobytes()
            + np.array([3.5], "<f4").tobytes())
    got = dense_model.parse_weights({"weightsManifest": manifest}, [blob])
    assert np.allclose(got["a"], [-1, 0, 1]) and np.allclose(got["b"], [0.5, 1.5])
    assert np.array_equal(got["c"], np.array([0.1, -2], np.float16).astype(np.float32)) and got["d"].tolist() == [3.5]
    with pytest.raises(dense_model.Unsupported, match="shorter"):
        dense_model.parse_weights({"weightsManifest": manifest}, [blob[:-1]])
    manifest[0]["weights"][0]["quantization"] = {"dtype": "int4"}
    with pytest.raises(dense_model.Unsupported, match="unknown quantisation"):
        dense_model.parse_weights({"weightsManifest": manifest}, [blob])


@pytest.fixture(scope="module")
def models_server(exports, shared_data, browser_ready, tmp_path_factory):
    """A live server whose model folder holds our exports and the real TM exports (their weights.bin
    is not published, so one of the right size is written)."""
    _, root = exports
    rng = np.random.default_rng(0)
    for real in REAL_TM:
        folder = root / "real" / real
        folder.mkdir(parents=True)
        model_json = json.loads(shared("teachable-machine", real, "model.json").read_text())
        (folder / "model.json").write_text(json.dumps(model_json))
        (folder / "metadata.json").write_bytes(shared("teachable-machine", real, "metadata.json").read_bytes())
        sizes = [int(np.prod(s)) for s in weight_shapes(model_json)]
        (folder / "weights.bin").write_bytes(rng.normal(0, 0.05, sum(sizes)).astype(np.float32).tobytes())
    server = LiveServer(tmp_path_factory.mktemp("srv"), env={"POSECAST_MODELS_DIR": str(root)}).start()
    yield server
    server.stop()


def test_exports_load_in_tfjs_with_keras_probabilities(trained, exports, yoga_features, models_server, playwright_session):
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{models_server.url}/?source=none")
        page.wait_for("posecast.status === 'ready'")
        for kind, (model, _, _) in trained.items():
            rows = yoga_features[kind][::25]
            rows = rows if kind == "tm" else features.matrix(kind, rows)
            keras_probs = model.predict(rows, verbose=0)
            tfjs_probs = np.array(page.page.evaluate(PREDICT_JS, [f"/models/yoga-{kind}/1/model.json", rows.tolist()]))
            ours = exported.load(exports[1] / f"yoga-{kind}" / "1").predict(rows)
            print(f"{kind}: TF.js vs numpy {np.abs(tfjs_probs - ours).max():.1e}, vs Keras {np.abs(tfjs_probs - keras_probs).max():.1e}")
            assert tfjs_probs.shape == keras_probs.shape
            assert np.abs(tfjs_probs - ours).max() <= 1e-5  # TF.js and Python read the same weights
            # keypoint kinds store float16 weights; Teachable Machine's format float32
            assert np.abs(tfjs_probs - keras_probs).max() <= (1e-5 if kind == "tm" else 2e-3)


def test_real_teachable_machine_exports_load(models_server, yoga_features, playwright_session):
    rows = yoga_features["tm"][:3].tolist()
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{models_server.url}/?source=none")
        page.wait_for("posecast.status === 'ready'")
        for real in REAL_TM:
            probs = np.array(page.page.evaluate(PREDICT_JS, [f"/models/real/{real}/model.json", rows]))
            labels = json.loads(shared("teachable-machine", real, "metadata.json").read_text())["labels"]
            assert probs.shape == (3, len(labels))
            assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
