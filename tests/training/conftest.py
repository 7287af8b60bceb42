import pytest

pytest.importorskip("tensorflow", reason="the training stack is installed by make test")

from tests.helpers.paths import ROOT  # noqa: E402


@pytest.fixture(scope="session")
def posenet():
    from training.posenet import PoseNet

    model = ROOT / "assets" / "pose" / "posenet.json"
    if not model.exists():
        pytest.skip("assets/ not built (make test builds it)")
    return PoseNet(model)


@pytest.fixture(scope="session")
def posenet_estimator(posenet):
    """The pose runtime's PoseNet (what training extracts with), on the executor training picks."""
    from training import features

    return features.load_backbone("posenet")


@pytest.fixture(scope="session")
def yoga_subset(shared_data):
    """40 images per class, spread over the subjects: enough to learn, quick to extract."""
    from training import data

    return data.take_per_class(data.from_folder(shared_data / "yoga5" / "train"), 40)


@pytest.fixture(scope="session")
def yoga_features(posenet_estimator, yoga_subset):
    from training import features

    return features.extract_all(yoga_subset, posenet_estimator)


# Fewer epochs than a real run's 60: the tests check that each kind learns what generalises to
# people it never saw (floors in test_train.py), not the last point of accuracy; this keeps the
# session's leave-one-subject-out training (6 folds + the final model per kind) short.
TEST_EPOCHS = {"pose": 30, "keypoints": 30, "tm": 10}


@pytest.fixture(scope="session")
def trained(yoga_subset, yoga_features):
    """kind -> (model, classes, report), trained for real on the subset."""
    from training import train

    labels = [s.label for s in yoga_subset]
    groups = [s.group for s in yoga_subset]
    return {kind: train.train(x, labels, groups, kind, epochs=TEST_EPOCHS[kind]) for kind, x in yoga_features.items()}
