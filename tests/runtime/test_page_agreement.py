"""Python's runtime and the page agree on the same pixels, for every backbone.

The page runs its own loader (web/js/common/backbones.js) on a lossless PNG of the photo with
estimateStill(), what the trainer does with an uploaded photo: after a reset the first frame, then
the second, refined on the crop around the person; Python's estimate() does the same two passes.
BlazePose also gets a photo where its detector finds nobody (girl3 from above), so both sides take
the still-image fallback (MoveNet Thunder seeds the ROI). Keypoints both see with score >= 0.3 are
compared.
Measured here: every such keypoint within 0.01 % of the image's longer side (0.1 px) for
PoseNet (single and multi), MoveNet Lightning, Thunder and MultiPose, same pose counts; BlazePose
(detector, rotated ROI, landmarks, then the ROI from those landmarks) lite worst 0.003 px, full
0.014 px, heavy 0.136 px (0.03 % of the image), one pose on each photo on both sides. BlazePose's
world landmarks (extra["world"], the page's keypoints3D): within 0.01 mm.
"""
import base64
import math

import pytest

from tests.helpers import browser as hb

from .conftest import CASES, IDS, images_for
from .match import pair

MIN_SCORE = 0.3
TOLERANCE = 0.03  # of the image's longer side
# The page's still-image estimate, as {score, keypoints} per pose.
PAGE_JS = """async ([backbone, multi, dataUrl]) => {
  const { loadBackbone } = await import('/js/common/backbones.js');
  window.__detectors = window.__detectors || {};
  const key = backbone + (multi ? '-multi' : '');
  const detector = window.__detectors[key] || (window.__detectors[key] = await loadBackbone(backbone, { multi }));
  const img = new Image();
  img.src = dataUrl;
  await img.decode();
  img.width = img.naturalWidth; img.height = img.naturalHeight;
  return JSON.parse(JSON.stringify(await detector.estimateStill(img)));
}"""


@pytest.fixture(scope="module")
def page_run(playwright_session, live_server, image):
    """page_run(js, backbone, multi, image name, turns=0) -> what `js` returns for the image (a lossless
    PNG of it, turned by np.rot90 `turns` times) in one page shared by the module's tests, each result
    computed when first asked for (so a -k selection loads only its backbones)."""
    import numpy as np
    import tensorflow as tf

    out = {}
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{live_server.url}/?source=none")
        page.wait_for("posecast.status === 'ready'")

        def get(js: str, backbone: str, multi: bool, name: str, turns: int = 0):
            key = (js, backbone, multi, name, turns)
            if key not in out:
                pixels = np.ascontiguousarray(np.rot90(image(name), turns))
                png = base64.b64encode(tf.io.encode_png(pixels).numpy()).decode()
                out[key] = page.page.evaluate(js, [backbone, multi, f"data:image/png;base64,{png}"])
                assert not page.errors, page.errors
            return out[key]

        yield get


@pytest.fixture(scope="module")
def page_poses(page_run):
    """page_poses(backbone, max_people, image name) -> the page's poses (its still-image estimate)."""
    return lambda backbone, max_people, name: page_run(PAGE_JS, backbone, max_people > 1, name)


@pytest.mark.browser
@pytest.mark.parametrize("backbone,max_people", CASES, ids=IDS)
def test_python_agrees_with_the_page(estimator, image, page_poses, backbone, max_people):
    est = estimator(backbone, "tensorflow")
    close, dists, counts, worst_px = 0, [], [], 0.0
    for name in images_for(max_people, backbone):
        pixels = image(name)
        size = max(pixels.shape[:2])
        ours, theirs = est.estimate(pixels, max_people), page_poses(backbone, max_people, name)
        counts.append((len(ours), len(theirs)))
        for a, b in pair(ours, theirs, MIN_SCORE):
            for p, q in zip(a, b):
                assert p["name"] == q["name"]
                if p["score"] >= MIN_SCORE and q["score"] >= MIN_SCORE:
                    px = math.dist((p["x"], p["y"]), (q["x"], q["y"]))
                    worst_px = max(worst_px, px)
                    dists.append(px / size)
                    close += dists[-1] <= TOLERANCE
    dists.sort()
    print(f"{backbone} x{max_people}: {len(dists)} keypoints, {close / len(dists):.1%} within "
          f"{TOLERANCE:.0%}; median {dists[len(dists) // 2]:.3%}, worst {dists[-1]:.3%} of the image "
          f"({worst_px:.3f} px); "
          f"poses (python, page) per image {counts}")
    assert all(a == b for a, b in counts) or max_people > 1
    assert close / len(dists) >= 0.95
    assert dists[-1] <= 0.01  # measured 0.0001: the same pixels give the same model inputs


# pose-detection's own BlazePose (the page's backbones.js keeps only the 2-D keypoints) on a still
# image as the page estimates one: after a reset, the first frame, then the refined second.
WORLD_JS = """async ([backbone, multi, dataUrl]) => {
  if (!globalThis.poseDetection) await import('/assets/lib/pose-detection.min.js');
  const lib = globalThis.poseDetection;
  const net = await lib.createDetector(lib.SupportedModels.BlazePose, {
    runtime: 'tfjs', modelType: backbone.split('-')[1], enableSmoothing: true,
    detectorModelUrl: '/assets/pose/blazepose-detector.json', landmarkModelUrl: `/assets/pose/${backbone}.json` });
  const img = new Image();
  img.src = dataUrl;
  await img.decode();
  img.width = img.naturalWidth; img.height = img.naturalHeight;
  net.reset();
  let poses = await net.estimatePoses(img);
  if (poses.length) poses = await net.estimatePoses(img);
  net.dispose();
  return JSON.parse(JSON.stringify(poses.map((p) => p.keypoints3D)));
}"""
WORLD_TOLERANCE_M = 0.01


@pytest.mark.browser
def test_world_landmarks_agree_with_the_pages_keypoints3d(estimator, image, page_run):
    """runtime/blazepose.py extra["world"] against pose-detection's keypoints3D on the same pixels
    (photos where the detector finds the person: the library alone has no still-image fallback), one
    of them turned a quarter, so that the ROI's rotation (which turns the world landmarks into the
    image's axes) is large. Measured: 0.00-0.01 mm apart, the same model inputs."""
    import numpy as np

    est = estimator("blazepose-heavy", "tensorflow")
    for name, turns in (("images/pose.jpg", 0), ("images/yoga.jpg", 0), ("images/pose.jpg", 1)):
        [ours] = est.estimate(np.ascontiguousarray(np.rot90(image(name), turns)))
        [theirs] = page_run(WORLD_JS, "blazepose-heavy", False, name, turns)
        assert [k["name"] for k in theirs] == [k["name"] for k in ours.keypoints]
        page = np.array([[k["x"], k["y"], k["z"]] for k in theirs])
        off = np.linalg.norm(np.array(ours.extra["world"]) - page, axis=1)
        print(f"{name} turned {turns}/4: world landmarks {np.median(off) * 1000:.2f} mm apart at the median, worst {off.max() * 1000:.2f} mm")
        assert off.max() <= WORLD_TOLERANCE_M
