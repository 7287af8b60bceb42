"""A `pose` model in the live page: the page computes the pose vector and gets the Python
pipeline's probabilities; under the model's rejection threshold it shows "no known pose" and the
label events that reach the log say `unknown`."""
import json
import shutil

import numpy as np
import pytest

from tests.helpers import browser as hb
from tests.helpers.server import LiveServer
from training import export


@pytest.fixture(scope="module")
def server(trained, browser_ready, tmp_path_factory):
    model, classes, report = trained["pose"]
    root = tmp_path_factory.mktemp("models")
    export.export(model, classes, "pose", root / "yoga-pose" / "1", name="yoga-pose", report=report)
    strict = root / "yoga-strict" / "1"
    shutil.copytree(root / "yoga-pose" / "1", strict)
    meta = json.loads((strict / "posecast.json").read_text())
    meta["name"], meta["rejection"]["threshold"] = "yoga-strict", 1.5  # over any probability: rejects all
    (strict / "posecast.json").write_text(json.dumps(meta))
    srv = LiveServer(tmp_path_factory.mktemp("srv"), env={"POSECAST_MODELS_DIR": str(root),
                                                          "POSECAST_DEFAULT_MODEL": "yoga-pose"}).start()
    yield srv
    srv.stop()


def load_png(page, posenet, path, tmp_path):
    import tensorflow as tf

    from training.posenet import load_image

    pixels = load_image(path)
    png = tmp_path / (path.stem + ".png")
    png.write_bytes(tf.io.encode_png(pixels).numpy())  # same pixels on both sides
    page.page.set_input_files("#file", str(png))
    page.wait_for(f"posecast.sourceName === {json.dumps(png.name)} && posecast.classification")
    return pixels


def test_page_computes_pose_features_like_python(server, trained, posenet, playwright_session, shared_data, tmp_path):
    from core.features import pose_vector

    model, classes, _ = trained["pose"]
    images = [sorted((shared_data / "yoga5" / "train" / c).glob("guy1_*"))[0] for c in ("cobra", "tree", "warrior")]
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{server.url}/?source=none&backbone=posenet")
        page.wait_for("posecast.status === 'ready' && posecast.model && posecast.model.name === 'yoga-pose'")
        assert page.state("posecast.model.features") == "pose"
        for path in images:
            pixels = load_png(page, posenet, path, tmp_path)
            result = page.state("posecast.classification")
            expected = model.predict(pose_vector(posenet.run(pixels).keypoints())[None], verbose=0)[0]
            got = np.array([s["p"] for s in result["scores"]])
            print(f"{path.name}: page {result['label']} {result['confidence']:.3f}, max diff {np.abs(got - expected).max():.1e}")
            assert np.abs(got - expected).max() <= 1e-4
            assert result["best"] == classes[int(expected.argmax())]


def test_rejected_poses_show_no_known_pose_and_log_unknown(server, posenet, playwright_session, shared_data,
                                                           tmp_path):
    strict = next(m for m in server.api("GET", "/api/models").json()["models"] if m["name"] == "yoga-strict")
    assert strict["threshold"] == 1.5
    assert server.api("POST", f"/api/models/{strict['id']}/activate").ok
    image = sorted((shared_data / "yoga5" / "train" / "dog").glob("guy2_*"))[0]
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{server.url}/?source=none&backbone=posenet")
        page.wait_for("posecast.status === 'ready' && posecast.model && posecast.model.name === 'yoga-strict'")
        load_png(page, posenet, image, tmp_path)
        result = page.state("posecast.classification")
        assert result["rejected"] is True and result["label"] == "unknown"
        assert page.page.locator("#label").inner_text().startswith("no known pose")
        page.wait_for("posecast.stream.acked > 0", 20)
    events = server.api("GET", "/api/labels?model=yoga-strict").json()["events"]
    assert events and {e["label"] for e in events} == {"unknown"}
