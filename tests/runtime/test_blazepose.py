"""BlazePose in Python against upstream's own expectation, and its video state.

pose.jpg's expected landmarks come from tfjs-models' BlazePose test (MediaPipe runtime), whose
tolerance is 15 px; measured here (TensorFlow executor, still-image estimate): lite mean 4.9 /
worst 8.4 px, full 3.2 / 5.8 px, heavy 3.0 / 9.0 px.
"""
import json
import math

import pytest

from tests.helpers.paths import shared

UPSTREAM_TOLERANCE_PX = 15
MODELS = ["blazepose-lite", "blazepose-full", "blazepose-heavy"]


def test_anchors_match_the_detector_output():
    from runtime.blazepose_ops import ssd_anchors

    anchors = ssd_anchors()
    assert anchors.shape == (2254, 2)  # the detector's 2254 boxes, one per anchor
    assert anchors.min() > 0 and anchors.max() < 1


@pytest.mark.parametrize("backbone", MODELS)
def test_pose_jpg_matches_upstream_expected_landmarks(estimator, image, backbone):
    ref = json.loads(shared("keypoints", "pose_jpg_blazepose_expected.json").read_text())
    [pose] = estimator(backbone, "tensorflow").estimate(image("images/pose.jpg"))
    assert [k["name"] for k in pose.keypoints] == ref["keypoint_names_blazepose33"]
    dists = [math.dist((k["x"], k["y"]), xy) for k, xy in zip(pose.keypoints, ref["keypoints_xy_px"])]
    print(f"{backbone}: pose.jpg vs upstream mean {sum(dists) / len(dists):.1f} px, worst {max(dists):.1f} px")
    assert max(dists) <= UPSTREAM_TOLERANCE_PX
    assert pose.score > 0.9 and len(pose.extra["presence"]) == 33


def test_track_carries_the_roi_and_reset_forgets_it(estimator, image):
    est = estimator("blazepose-lite", "tensorflow")
    pixels = image("images/pose.jpg")
    est.reset()
    first = est.track(pixels)
    roi_after_first = est._roi
    second = est.track(pixels)  # runs on the ROI from the first frame's landmarks, no detector
    assert second[0].extra["roi"] == roi_after_first
    # estimate() = reset, first frame, then the refined pass: the same as two tracked frames
    assert [k["x"] for k in est.estimate(pixels)[0].keypoints] == [k["x"] for k in second[0].keypoints]
    est.reset()
    assert est._roi is None
    assert est.track(pixels[:64, :64].copy()) == []  # no person: nothing, and no ROI kept
    assert est._roi is None
