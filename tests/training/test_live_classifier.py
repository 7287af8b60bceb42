"""The live page classifies with the active model exactly as the Python pipeline does, and swaps
models pushed by the server without a reload."""
import json
import shutil

import numpy as np
import pytest

from tests.helpers import browser as hb
from tests.helpers.paths import ROOT
from tests.helpers.server import LiveServer

DEFAULT = ROOT / "tfjs_models" / "yoga5" / "1"


@pytest.fixture(scope="module")
def server(browser_ready, tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(DEFAULT, root / "yoga5" / "1")
    shutil.copytree(DEFAULT, root / "yoga5-copy" / "1")
    # the same model, as if trained on Lightning's keypoints: activating it switches pages' backbone
    lightning = shutil.copytree(DEFAULT, root / "yoga5-lightning" / "1")
    meta = json.loads((lightning / "posecast.json").read_text())
    (lightning / "posecast.json").write_text(json.dumps({**meta, "backbone": "movenet-lightning"}))
    srv = LiveServer(tmp_path_factory.mktemp("srv"), env={"POSECAST_MODELS_DIR": str(root)}).start()
    yield srv
    srv.stop()


def posecast_state(page):
    return page.state()


def api(server, method, path):
    r = server.api(method, path)
    assert r.ok, r.text
    return r.json()


def test_page_probabilities_equal_the_python_pipeline(server, posenet, playwright_session, shared_data, tmp_path):
    import tensorflow as tf
    import tensorflowjs as tfjs

    from training.features import keypoint_vector
    from training.posenet import load_image

    keras_model = tfjs.converters.load_keras_model(str(DEFAULT / "model.json"))
    labels = json.loads((DEFAULT / "posecast.json").read_text())["labels"]
    images = [sorted((shared_data / "yoga5" / "train" / c).glob("guy2_*"))[0] for c in ("cobra", "tree", "chair")]
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{server.url}/?source=none&backbone=posenet")
        page.wait_for("posecast.status === 'ready' && posecast.model && posecast.model.name === 'yoga5'")
        assert page.page.locator("#bars li").count() == len(labels)
        for path in images:
            pixels = load_image(path)
            png = tmp_path / (path.stem + ".png")
            png.write_bytes(tf.io.encode_png(pixels).numpy())  # same pixels on both sides
            page.page.set_input_files("#file", str(png))
            page.wait_for(f"posecast.sourceName === {json.dumps(png.name)} && posecast.classification")
            result = page.state("posecast.classification")
            expected = keras_model.predict(keypoint_vector(posenet.run(pixels).keypoints())[None], verbose=0)[0]
            got = np.array([s["p"] for s in result["scores"]])
            print(f"{path.name}: page says {result['label']} {result['confidence']:.3f}, "
                  f"max diff to Python {np.abs(got - expected).max():.1e}")
            assert result["label"] == labels[int(expected.argmax())]
            assert np.abs(got - expected).max() <= 1e-4
            assert page.page.locator("#label").inner_text().startswith(result["label"])


def test_activation_swaps_the_model_without_reload(server, playwright_session, y4m):
    with hb.chromium(playwright_session, camera=y4m("videos/tfjs-pose_1.mp4")) as browser:
        page = hb.open_page(browser, f"{server.url}/?backbone=movenet-lightning")
        page.wait_for("posecast.model && posecast.classification && posecast.estimates > 5")
        page.page.evaluate("() => { window.__sameDocument = true; }")
        copy = next(m for m in api(server, "GET", "/api/models")["models"] if m["name"] == "yoga5-copy")
        api(server, "POST", f"/api/models/{copy['id']}/activate")
        page.wait_for("posecast.model && posecast.model.name === 'yoga5-copy' && posecast.classification", 20)
        assert page.page.evaluate("() => window.__sameDocument") is True
        assert "yoga5-copy v1" in page.page.locator("#model-name").inner_text()
        api(server, "POST", "/api/models/rollback")
        page.wait_for("posecast.model && posecast.model.name === 'yoga5'", 20)
        assert page.outside_loopback() == []


def test_activating_a_model_switches_the_page_to_its_backbone(server, playwright_session, y4m):
    """Training and live use the same keypoints: a page follows the active model's backbone and says
    so; a page whose address names a backbone keeps it and says what the model was trained on."""
    with hb.chromium(playwright_session, camera=y4m("videos/tfjs-pose_1.mp4")) as browser:
        page = hb.open_page(browser, f"{server.url}/")
        pinned = hb.open_page(browser, f"{server.url}/?backbone=posenet")
        for p in (page, pinned):
            p.wait_for("posecast.model && posecast.backbone === 'posenet' && posecast.estimates > 2")
        other = next(m for m in api(server, "GET", "/api/models")["models"] if m["name"] == "yoga5-lightning")
        assert other["backbone"] == "movenet-lightning"
        api(server, "POST", f"/api/models/{other['id']}/activate")
        page.wait_for("posecast.backbone === 'movenet-lightning' && posecast.status === 'ready'"
                      " && posecast.message.includes('switched')", 30)
        page.wait_for("posecast.model && posecast.model.name === 'yoga5-lightning' && posecast.estimates > 2", 20)
        assert "yoga5-lightning v1 runs on MoveNet Lightning: switched." in page.page.evaluate("() => posecast.message")
        assert page.page.locator("#controls select[name=backbone]").input_value() == "movenet-lightning"
        pinned.wait_for("posecast.model && posecast.model.name === 'yoga5-lightning'", 20)
        assert pinned.page.evaluate("() => posecast.backbone") == "posenet"
        assert "trained on MoveNet Lightning keypoints" in pinned.page.evaluate("() => posecast.message")
        # a page opened now starts on the model's backbone at once (no PoseNet load first)
        fresh = hb.open_page(browser, f"{server.url}/")
        fresh.wait_for("posecast.status === 'ready' && posecast.model && posecast.estimates > 2", 30)
        assert fresh.page.evaluate("() => posecast.backbone") == "movenet-lightning"
        assert not any("/assets/pose/posenet" in u for u in fresh.requests)
        api(server, "POST", "/api/models/rollback")  # back to yoga5 (PoseNet): the page follows
        page.wait_for("posecast.backbone === 'posenet' && posecast.message.includes('yoga5 v1 runs on PoseNet')"
                      " && posecast.message.includes('switched')", 30)
        assert posecast_state(page)["model"]["name"] == "yoga5"
        assert page.outside_loopback() == [] and pinned.outside_loopback() == []
