"""A `world` model on the live page: activating it switches the page to BlazePose heavy, BlazePose's
keypoints3D reach the classifier (backbones.js -> classify.js -> classifier.js), and the page's
probabilities are what Python computes from the page's pose (core/features.py world_matrix, the
exported weights in numpy), and what the edge node's classifier gives for the same person."""
import json

import numpy as np
import pytest

from tests.helpers import browser as hb
from tests.helpers.server import LiveServer
from tests.helpers.world_model import LABELS, export_world_model


@pytest.fixture(scope="module")
def world_model(tmp_path_factory):
    """A `world` export on BlazePose heavy (the page's) with random weights (tests/helpers/world_model.py)."""
    root = tmp_path_factory.mktemp("models")
    return root, export_world_model(root, backbone="blazepose-heavy")


@pytest.fixture(scope="module")
def server(browser_ready, world_model, tmp_path_factory):
    srv = LiveServer(tmp_path_factory.mktemp("srv"), env={"POSECAST_MODELS_DIR": str(world_model[0])}).start()
    yield srv
    srv.stop()


def test_page_classifies_with_keypoints3d_as_python_does(server, world_model, playwright_session, shared_data,
                                                         tmp_path):
    """BlazePose's own agreement, page against runtime/, is tests/runtime/test_page_agreement.py's
    (keypoints 0.14 px, world landmarks 0.01 mm); here the page's pose itself goes through Python."""
    import tensorflow as tf

    from core import dense_model, features
    from training.posenet import load_image

    from edge.classifier import Classifier as EdgeClassifier
    from edge.pipeline import Person

    folder = world_model[1]
    model_json = json.loads((folder / "model.json").read_text())
    layers = dense_model.load_layers(model_json, dense_model.read_shards(folder, model_json))
    images = [sorted((shared_data / "yoga5" / "train" / c).glob("guy2_*"))[0] for c in ("cobra", "tree", "chair")]
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{server.url}/?source=none")
        page.wait_for("posecast.status === 'ready'")
        model = next(m for m in server.api("GET", "/api/models").json()["models"] if m["name"] == "w3d")
        assert model["features"] == "world" and model["backbone"] == "blazepose-heavy"
        edge = EdgeClassifier(model, model_json, dense_model.read_shards(folder, model_json))
        assert server.api("POST", f"/api/models/{model['id']}/activate").ok  # the page follows its backbone
        page.wait_for("posecast.status === 'ready' && posecast.backbone === 'blazepose-heavy'"
                      " && posecast.model && posecast.model.name === 'w3d'", 60)
        for path in images:
            png = tmp_path / (path.stem + ".png")
            png.write_bytes(tf.io.encode_png(load_image(path)).numpy())
            page.page.set_input_files("#file", str(png))
            page.wait_for(f"posecast.sourceName === {json.dumps(png.name)} && posecast.classification", 60)
            result = page.state("posecast.classification")
            [pose] = page.state("posecast.poses")
            assert len(pose["keypoints3D"]) == len(pose["keypoints"]) == 33
            row = features.matrix("world", features.world_array(pose["keypoints"], pose["keypoints3D"])[None])
            expected = dense_model.forward(layers, row)[0]
            flat = row.copy()
            flat[:, features.WORLD_BLOCKS["keypoints"].stop:] = 0
            assert np.abs(dense_model.forward(layers, flat)[0] - expected).max() > 0.02  # the 3-D part counts
            got = np.array([s["p"] for s in result["scores"]])
            print(f"{path.name}: page says {result['label']} {result['confidence']:.3f}, "
                  f"max diff to Python {np.abs(got - expected).max():.1e}")
            assert np.abs(got - expected).max() <= 1e-4
            assert result["best"] == LABELS[int(expected.argmax())]
            # the edge node's classifier on the page's person (keypoints3D as its world landmarks)
            [edge_result] = edge.classify([Person(1, 1.0, pose["keypoints"], pose["keypoints3D"])])
            assert abs(edge_result["confidence"] - got.max()) <= 1e-4 and edge_result["label"] == result["label"]
