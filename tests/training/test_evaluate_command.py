"""`posecast evaluate MODEL FOLDER`: the default model end to end from pixels on a few yoga5 images,
the export run in numpy, the summary, the mistakes CSV and the contact sheet."""
import csv
import html
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.paths import ROOT
from tests.training.test_cli import posecast

YOGA5 = ROOT / "tfjs_models" / "yoga5"


def test_numpy_forward_pass_matches_tfjs_loader():
    import training  # noqa: F401  (the environment tensorflowjs needs, before it loads)
    import tensorflowjs as tfjs

    from training import exported

    for folder in sorted(YOGA5.glob("[0-9]*")):
        model = exported.load(folder)
        keras = tfjs.converters.load_keras_model(str(folder / "model.json"))
        x = np.random.default_rng(0).normal(size=(16, keras.input_shape[1])).astype(np.float32)
        np.testing.assert_allclose(model.predict(x), keras.predict(x, verbose=0), atol=1e-5)
        meta = json.loads((folder / "posecast.json").read_text())
        assert model.backbone == meta.get("backbone", "posenet") and model.labels == meta["labels"]


def test_model_names_resolve_to_export_folders(tmp_path):
    from server.models.evaluate_command import resolve

    newest = max(int(p.name) for p in YOGA5.glob("[0-9]*"))
    assert resolve("yoga5", ROOT / "tfjs_models") == YOGA5 / str(newest)
    assert resolve("yoga5/1", ROOT / "tfjs_models") == YOGA5 / "1"
    assert resolve(str(YOGA5 / "1"), tmp_path) == YOGA5 / "1"
    for bad, says in (("yoga5/99", "no version 99"), ("nope", "no model 'nope'"), ("../x", "neither"),
                      ("yoga5/x", "neither")):
        with pytest.raises(ValueError, match=says):
            resolve(bad, ROOT / "tfjs_models")


def test_summary_counts_no_pose_and_rejections_as_wrong():
    from training.evaluate_folder import NO_POSE, REJECTED, Result, format_summary, summary

    def r(true, said):
        return Result(Path(f"{true}.jpg"), true, said, None, 0.5, None, 10, 10)

    s = summary([r("a", "a"), r("a", "b"), r("b", NO_POSE), r("b", REJECTED), r("b", "b"), r("c", "a")], ["a", "b"])
    assert s["accuracy"] == pytest.approx(2 / 6) and (s["no_pose"], s["rejected"]) == (1, 1)
    assert s["columns"] == ["a", "b", REJECTED, NO_POSE] and s["rows"] == ["a", "b", "c"]
    assert s["confusion"] == [[1, 1, 0, 0], [0, 1, 1, 1], [1, 0, 0, 0]]
    assert s["per_class"]["b"] == {"images": 3, "right": 1, "accuracy": pytest.approx(1 / 3)}
    assert s["unknown_classes"] == ["c"] and "not classes of the model: c" in format_summary(s)


def test_evaluate_command_end_to_end(shared_data, tmp_path):
    """3 images of each yoga5 class plus a class the model does not know; the newest yoga5."""
    folder = tmp_path / "photos"
    for d in sorted((shared_data / "yoga5" / "train").iterdir()):
        (folder / d.name).mkdir(parents=True)
        for image in sorted(d.iterdir())[::60][:3]:
            shutil.copy(image, folder / d.name)
    (folder / "<lotus>").mkdir()
    shutil.copy(shared_data / "images" / "yoga.jpg", folder / "<lotus>")
    out = tmp_path / "out"
    result = posecast("evaluate", "yoga5", str(folder), "--out", str(out), timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "confusion matrix (rows: true class" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["images"] == 16 and summary["per_class"]["<lotus>"] == {"images": 1, "right": 0, "accuracy": 0.0}
    assert f"accuracy {summary['accuracy']:.3f} ({summary['right']}/16 images" in result.stdout
    assert sum(map(sum, summary["confusion"])) == 16
    with open(out / "mistakes.csv") as f:
        mistakes = list(csv.DictReader(f))
    assert len(mistakes) == 16 - summary["right"] >= 1
    assert {m["true"] for m in mistakes} >= {"<lotus>"}
    sheet = (out / "contact_sheet.html").read_text()
    assert sheet.count("<figure ") == len(mistakes) and sheet.count("data:image/jpeg;base64,") == len(mistakes)
    assert html.escape("<lotus>") in sheet and "<lotus>" not in sheet  # labels are escaped
    assert "<line " in sheet and "keypoints seen" in sheet  # skeletons drawn over the thumbnails
    assert "http" not in sheet.replace("http://www.w3.org", "")  # self-contained


def test_evaluate_command_refuses_bad_input(tmp_path):
    result = posecast("evaluate", "no-such-model", str(tmp_path), timeout=120)
    assert result.returncode == 2 and "no model 'no-such-model'" in result.stderr
    result = posecast("evaluate", "yoga5", str(tmp_path / "missing"), timeout=120)
    assert result.returncode == 2 and "is not a folder" in result.stderr
