"""Training extracts keypoints with any backbone of the pose runtime, and a model records the one it
learned from (a dataset recorded with one backbone trains on that one only)."""
import numpy as np
import pytest

from training import features


@pytest.fixture(scope="module")
def few(yoga_subset):
    return yoga_subset[::40]  # one image per class


def test_any_backbone_gives_coco17_keypoints(few, posenet):
    est = features.load_backbone("movenet-lightning")
    x = features.extract(few, "pose", est)
    assert x.shape == (len(few), 17, 3) and np.isfinite(x).all()
    assert ((x[..., 2] >= 0) & (x[..., 2] <= 1)).all() and (x[..., 2] >= 0.2).mean() > 0.5
    with pytest.raises(ValueError, match="PoseNet only"):
        features.extract(few, "tm", est)


def test_the_most_confident_person_is_kept_and_none_found_is_all_masked():
    from runtime import Pose

    def pose(score, x):
        return Pose(score, [{"name": n, "x": x, "y": 1.0, "score": score} for n in features.KEYPOINT_SPEC["names"]])

    assert features.keypoints_of([pose(0.3, 5.0), pose(0.9, 7.0)])[0].tolist() == [7.0, 1.0, 0.9]
    assert not features.keypoints_of([]).any()


def test_executor_is_openvino_when_installed():
    pytest.importorskip("openvino")
    assert features.default_executor("posenet") == "openvino"
    assert features.default_executor("blazepose-heavy") == "openvino"  # TensorFlow before the worker processes


def test_the_extractor_gives_what_one_by_one_gives(few, posenet_estimator):
    """Worker processes (features.extractor) give the keypoints and Teachable Machine features of
    the one-by-one path, in the samples' order."""
    here = features.extract_all(few, posenet_estimator)
    with features.extractor("posenet", workers=2) as pool:
        there = features.extract_all(few[::-1], pool)  # another order: the rows must follow it
    for kind, x in here.items():
        np.testing.assert_allclose(there[kind][::-1], x, atol=1e-3, err_msg=kind)
    with pytest.raises(ValueError, match="unknown backbone 'posenet-xl'"):
        features.extractor("posenet-xl")


def test_a_dataset_trains_on_the_one_backbone_it_was_recorded_with():
    from core.samples import recorded_backbone

    assert recorded_backbone({"movenet-thunder"}, None) == "movenet-thunder"
    assert recorded_backbone({"movenet-thunder"}, "movenet-thunder") == "movenet-thunder"
    assert recorded_backbone(set(), "posenet") == "posenet"
    with pytest.raises(ValueError, match="recorded with movenet-thunder, not posenet"):
        recorded_backbone({"movenet-thunder"}, "posenet")
    with pytest.raises(ValueError, match="mixes samples of movenet-lightning, posenet"):
        recorded_backbone({"posenet", "movenet-lightning"}, None)
