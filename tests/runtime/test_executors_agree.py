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


@pytest.mark.parametrize("executor", ["tensorflow", "openvino"])
def test_only_the_outputs_asked_for_come_back_unchanged(weights_ready, image, executor):
    """BlazePose's landmark models skip their segmentation and world landmarks (runtime/blazepose.py):
    what is left must be what the whole model gives."""
    if executor == "openvino":
        pytest.importorskip("openvino", reason="the edge extra installs openvino (make setup)")
    import numpy as np

    from runtime.blazepose_ops import Rect, letterbox, warp
    from runtime.estimator import weights
    from runtime.executors import make_executor
    from runtime.graph import signature_outputs

    model, shape, keys = weights("blazepose-lite"), (1, 256, 256, 3), ("ld_3d", "output_poseflag")
    pixels = image("images/pose.jpg")
    h, w = pixels.shape[:2]
    x = (warp(pixels, letterbox(Rect(w / 2, h / 2, w, h), 256)[0], 256) / 255).astype(np.float32)[None]
    whole = dict(zip(signature_outputs(model), make_executor(executor, model, shape)(x)))
    some = make_executor(executor, model, shape, outputs=keys)(x)
    assert len(some) == 2 and len(whole) == 5
    for got, name in zip(some, signature_outputs(model, keys)):
        assert np.array_equal(got, whole[name]), name
