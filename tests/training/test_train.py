"""The pipeline trains for real and must generalise to subjects it never saw: leave-one-subject-out
cross-validation, then the model trained on every sample."""
import numpy as np
import pytest

from training import evaluate, features, train
from training.data import DatasetError

# Mean leave-one-subject-out accuracy floors on 40 images per class (5 classes, chance 0.2) with
# the tests' epochs (conftest.TEST_EPOCHS); the README lists the figures measured on the full set.
# Measured here: pose 0.74, keypoints 0.82, tm 0.57 (tm: 0.48 at 20 and at 60 epochs, which made
# its old floor of 0.55 flaky): each floor is well above chance and >= 0.13 under the lowest measured.
FLOORS = {"pose": 0.6, "keypoints": 0.65, "tm": 0.35}


def test_folds_leave_one_subject_out(yoga_subset):
    labels, groups = [s.label for s in yoga_subset], [s.group for s in yoga_subset]
    folds = evaluate.folds(labels, groups)
    assert [name for name, _ in folds] == sorted(set(groups))
    for name, val in folds:
        assert {groups[i] for i in val} == {name}
    assert sorted(np.concatenate([v for _, v in folds])) == list(range(len(labels)))


def test_many_groups_make_grouped_k_folds():
    labels = ["a", "b"] * 50
    groups = [f"s{i // 2}" for i in range(100)]  # 50 groups of 2
    folds = evaluate.folds(labels, groups)
    assert len(folds) == evaluate.K_FOLDS
    for _, val in folds:
        assert {labels[i] for i in val} == {"a", "b"}
        others = {groups[i] for i in set(range(100)) - set(val)}
        assert not {groups[i] for i in val} & others


def test_rejection_threshold_keeps_most_correct_labels():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    probs = rng.dirichlet([1, 1, 1], 400) * 0.3
    probs[np.arange(400), y] += 0.7  # confident and right
    wrong = np.arange(40)
    probs[wrong] = [0.4, 0.35, 0.25]  # unsure
    y[wrong] = 2
    r = evaluate.rejection(y, probs)
    assert r["correct_kept"] >= evaluate.KEEP_CORRECT - 0.01
    assert r["wrong_rejected"] == 1.0 and r["threshold"] > 0.4


# on PoseNet's keypoints (the `trained` fixture); `world` needs BlazePose: test_world_features.py
@pytest.mark.parametrize("kind", [k for k in features.KINDS if k not in features.WORLD_KINDS])
def test_accuracy_on_held_out_subjects(trained, kind):
    model, classes, report = trained[kind]
    val = report["validation"]
    print(f"{kind}: leave-one-subject-out accuracy {val['accuracy']:.3f} (worst {val['worst_fold']} "
          f"{val['worst_accuracy']:.3f}), per class {val['per_class']}, rejection {val['rejection']}")
    assert classes == ["chair", "cobra", "dog", "tree", "warrior"]
    assert val["method"] == "leave-one-subject-out" and set(val["per_fold"]) == set(report["validation_groups"])
    assert val["accuracy"] >= FLOORS[kind]
    assert val["worst_accuracy"] == min(val["per_fold"].values())
    confusion = np.array(val["confusion"])
    assert confusion.shape == (5, 5)
    assert confusion.sum() + sum(val["no_pose"].values()) == sum(report["counts"]["validation"].values())
    assert len(report["history"]["loss"]) == report["epochs"]
    assert 0 < val["rejection"]["threshold"] < 1
    assert model.count_params() > 0  # the final model, trained on every sample


def test_mistakes_most_confident_first():
    from training.evaluate import mistakes

    y = np.array([0, 1, 1, 0])
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7]])
    assert mistakes(y, probs, ["a", "b"]) == [{"index": 3, "true": "a", "said": "b", "confidence": 0.7},
                                              {"index": 1, "true": "b", "said": "a", "confidence": 0.6}]


def test_samples_where_nobody_was_found_count_wrong_whatever_the_model_says():
    # Rows 1 and 3 had no person: the model's output for an all-unseen row is a guess (right for
    # row 1 by luck), so folds, classes and the matrix must not credit it.
    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    found = np.array([True, False, True, False])
    s = evaluate.summary(y, probs, [("a", np.array([0, 1])), ("b", np.array([2, 3]))], ["x", "y"], ["a", "a", "b", "b"],
                         found)
    assert s["accuracy"] == 0.5 and s["per_fold"] == {"a": 0.5, "b": 0.5}
    assert s["per_class"] == {"x": 0.5, "y": 0.5} and s["confusion"] == [[1, 0], [0, 1]]
    assert s["no_pose"] == {"x": 1, "y": 1}
    said = {m["index"]: m["said"] for m in evaluate.mistakes(y, probs, ["x", "y"], found)}
    assert said == {1: "no pose", 3: "no pose"}
    assert evaluate.summary(y, probs, [("a", np.array([0, 1])), ("b", np.array([2, 3]))], ["x", "y"],
                            ["a", "a", "b", "b"])["accuracy"] == 0.75  # without the mask: credited


def test_keypoint_vector_is_position_and_scale_invariant():
    from training.posenet import PART_NAMES

    base = [{"name": n, "x": 100 + 7 * i, "y": 50 + 13 * (i % 5), "score": 0.9} for i, n in enumerate(PART_NAMES)]
    moved = [{**k, "x": 3 * k["x"] + 40, "y": 3 * k["y"] - 20} for k in base]
    assert np.allclose(features.keypoint_vector(base), features.keypoint_vector(moved), atol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_are_refused(bad):
    x = np.ones((6, 17, 3))
    x[2, 3, 0] = bad
    with pytest.raises(DatasetError, match="NaN"):
        train.train(x, ["a", "b"] * 3, ["g1", "g2", "g3"] * 2, "keypoints", epochs=1)


def test_single_class_is_refused():
    with pytest.raises(DatasetError, match="2 classes"):
        train.train(np.ones((4, 17, 3)), ["a"] * 4, ["g"] * 4, "keypoints", epochs=1)


def test_unknown_chiral_class_is_refused():
    with pytest.raises(DatasetError, match="chiral"):
        train.train(np.ones((6, 17, 3)), ["a", "b"] * 3, ["g1", "g2", "g3"] * 2, "pose", epochs=1, chiral=["c"])
