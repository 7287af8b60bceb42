"""OpenVINO and TensorFlow give the same keypoints on the same pixels, for every backbone.

Both run the one GraphDef rebuilt from the page's model.json, with the same pre- and
post-processing; OpenVINO compiles it in f32. Measured on these photos: at most 0.03 px apart
(MoveNet; PoseNet is identical) and scores within 1e-5; BlazePose (detector and landmark model
both on the executor) lite 0.002 px, full 0.004 px, heavy 0.023 px, scores within 1.3e-4. The
tolerance below is generous.
"""
import math

import pytest

from .conftest import CASES, IDS, images_for

MAX_PX = 2.0  # at image scale (photos of 513-1000 px)
MAX_SCORE = 0.02


@pytest.mark.parametrize("backbone,max_people", CASES, ids=IDS)
def test_openvino_equals_tensorflow(estimator, image, backbone, max_people):
    tf_est, ov_est = estimator(backbone, "tensorflow"), estimator(backbone, "openvino")
    worst_px = worst_score = 0.0
    for name in images_for(max_people, backbone):
        pixels = image(name)
        ours, theirs = tf_est.estimate(pixels, max_people), ov_est.estimate(pixels, max_people)
        assert len(ours) == len(theirs), name
        for a, b in zip(ours, theirs):
            assert [k["name"] for k in a.keypoints] == [k["name"] for k in b.keypoints]
            worst_score = max(worst_score, abs(a.score - b.score),
                              *(abs(p["score"] - q["score"]) for p, q in zip(a.keypoints, b.keypoints)))
            worst_px = max(worst_px, *(math.dist((p["x"], p["y"]), (q["x"], q["y"]))
                                       for p, q in zip(a.keypoints, b.keypoints)))
    print(f"{backbone} x{max_people}: OpenVINO vs TensorFlow worst {worst_px:.3f} px, score {worst_score:.1e}")
    assert worst_px <= MAX_PX
    assert worst_score <= MAX_SCORE
