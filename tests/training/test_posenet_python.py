"""PoseNet run in Python from the browser's own TF.js files must match the browser."""
import base64
import json
import math

import numpy as np
import pytest

from tests.helpers import browser as hb
from tests.helpers.metrics import pck
from tests.helpers.paths import shared

from training.posenet import TM_FEATURES, load_image

IMAGES = ["images/pose.jpg", "images/tennis_standing.jpg", "images/yoga.jpg"]

# Same pixels in, same features out. Offsets are in input pixels (values up to about +-30), so
# this is ~1e-4 relative; measured up to 1.1e-3 (float32 kernels differ between TF and TF.js).
FEATURE_TOLERANCE = 5e-3
# From the JPEG itself the browser's decoder and TensorFlow's differ by a level here and there:
# most keypoints move by a pixel or two of PoseNet's 257 px input; a flat heatmap peak may hop to
# the neighbouring cell.
KEYPOINT_TOLERANCE_INPUT_PX = 2.0

BROWSER_JS = """async (dataUrl) => {
  const { loadBackbone } = await import('/js/common/backbones.js');
  const detector = await loadBackbone('posenet');
  const img = new Image();
  img.src = dataUrl;
  await img.decode();
  img.width = img.naturalWidth; img.height = img.naturalHeight;
  return Array.from(await detector.tmFeatures(img));
}"""


@pytest.mark.parametrize("name", IMAGES)
def test_features_have_teachable_machine_shape(posenet, shared_data, name):
    out = posenet.run(load_image(shared(name)))
    features = out.tm_features()
    assert features.shape == (TM_FEATURES,) == (14739,)
    assert np.isfinite(features).all()
    assert 0 <= out.heatmap_scores.min() and out.heatmap_scores.max() <= 1


def test_keypoints_on_pose_jpg_match_reference(posenet, shared_data):
    ref = json.loads(shared("keypoints", "pose_jpg_blazepose_expected.json").read_text())
    subset = ref["coco17_subset"]
    subset = json.loads(subset.replace("'", '"')) if isinstance(subset, str) else subset
    flat = []
    for name in ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                 "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
                 "left_knee", "right_knee", "left_ankle", "right_ankle"):
        flat += [*subset[name], 2]
    keypoints = posenet.run(load_image(shared("images", "pose.jpg"))).keypoints()
    score = pck([{"keypoints": keypoints}], [{"keypoints": flat}])
    print(f"PoseNet (Python) vs BlazePose reference on pose.jpg: PCK@0.2 {score.value:.2f}")
    assert score.value >= 0.7


def browser_features(playwright_session, live_server, data_urls):
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{live_server.url}/?source=none")
        page.wait_for("posecast.status === 'ready'")
        return [np.array(page.page.evaluate(BROWSER_JS, url), dtype=np.float32) for url in data_urls]


def data_url(mime, data):
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def test_python_features_equal_the_browsers_on_the_same_pixels(posenet, playwright_session, live_server, shared_data):
    import tensorflow as tf

    images = [load_image(shared(name)) for name in IMAGES]
    pngs = [data_url("image/png", tf.io.encode_png(img).numpy()) for img in images]  # lossless
    for name, image, features in zip(IMAGES, images, browser_features(playwright_session, live_server, pngs)):
        diff = np.abs(features - posenet.run(image).tm_features())
        print(f"{name} as PNG: TM features max abs diff {diff.max():.1e}")
        assert features.shape == (TM_FEATURES,)
        assert diff.max() <= FEATURE_TOLERANCE


def page_keypoints(playwright_session, live_server, files):
    """The live page's own single-person PoseNet keypoints for each image file, picked by hand."""
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{live_server.url}/?source=none&backbone=posenet&multi=0")
        page.wait_for("posecast.status === 'ready'")
        out = []
        for path in files:
            page.page.set_input_files("#file", str(path))
            page.wait_for(f"posecast.sourceName === {json.dumps(path.name)} && posecast.estimates >= 1")
            out.append(page.state("posecast.poses")[0]["keypoints"])
        return out


def test_python_keypoints_equal_the_pages(posenet, playwright_session, live_server, shared_data, tmp_path):
    import tensorflow as tf

    images = [load_image(shared(name)) for name in IMAGES]
    pngs = []
    for name, image in zip(IMAGES, images):
        pngs.append(tmp_path / (shared(name).stem + ".png"))
        pngs[-1].write_bytes(tf.io.encode_png(image).numpy())
    for name, image, theirs in zip(IMAGES, images, page_keypoints(playwright_session, live_server, pngs)):
        ours = posenet.run(image).keypoints()
        worst = max(math.dist((a["x"], a["y"]), (b["x"], b["y"])) for a, b in zip(ours, theirs))
        print(f"{name} as PNG: worst keypoint distance to the page's {worst:.3f} px")
        assert [k["name"] for k in ours] == [k["name"] for k in theirs]
        assert worst <= 0.5


def test_keypoints_agree_with_the_page_from_jpeg(posenet, playwright_session, live_server, shared_data):
    files = [shared(name) for name in IMAGES]
    close = []
    for name, theirs in zip(IMAGES, page_keypoints(playwright_session, live_server, files)):
        out = posenet.run(load_image(shared(name)))
        dists = [math.dist((a["x"], a["y"]), (b["x"], b["y"])) / out.scale_x
                 for a, b in zip(out.keypoints(), theirs) if a["score"] >= 0.3]
        print(f"{name} as JPEG: keypoint distances in input px: median {sorted(dists)[len(dists) // 2]:.2f}, "
              f"worst {max(dists):.2f}")
        close += [d <= KEYPOINT_TOLERANCE_INPUT_PX for d in dists]
        assert max(dists) <= 1.5 * 16  # never more than a cell and a half
    assert sum(close) / len(close) >= 0.9
