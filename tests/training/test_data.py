import os

import pytest

from training import data


def make_dataset(root, classes):
    """classes: {label: [file names]} with real images linked from the shared data."""
    for label, names in classes.items():
        (root / label).mkdir(parents=True)
        for name in names:
            os.symlink(next((data_root() / "yoga5" / "train" / "tree").iterdir()), root / label / name)
    return root


def data_root():
    from tests.helpers.paths import SHARED_DATA

    return SHARED_DATA


def test_yoga5_classes_and_subjects(shared_data):
    samples = data.from_folder(shared_data / "yoga5" / "train")
    assert len(samples) == 1000
    assert sorted({s.label for s in samples}) == ["chair", "cobra", "dog", "tree", "warrior"]
    assert len({s.group for s in samples}) >= 3
    assert all(s.path.name.startswith(s.group + "_") for s in samples)


def test_take_per_class_spreads_over_subjects(shared_data):
    subset = data.take_per_class(data.from_folder(shared_data / "yoga5" / "train"), 10)
    assert len(subset) == 50
    for label in {s.label for s in subset}:
        assert len({s.group for s in subset if s.label == label}) >= 3


@pytest.mark.parametrize("classes, message", [
    ({"tree": ["a_1.jpg", "a_2.jpg"]}, "at least 2 classes"),
    ({"tree": ["a_1.jpg", "a_2.jpg"], "dog": []}, "at least 2 classes"),
    ({"tree": ["a_1.jpg", "a_2.jpg"], "dog": ["b_1.jpg"]}, "fewer than 2 samples: dog"),
])
def test_unusable_datasets_are_refused(shared_data, tmp_path, classes, message):
    with pytest.raises(data.DatasetError, match=message):
        data.from_folder(make_dataset(tmp_path / "ds", classes))


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(data.DatasetError, match="not a folder"):
        data.from_folder(tmp_path / "nope")
