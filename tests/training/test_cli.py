import json
import subprocess
import sys

from tests.helpers.paths import ROOT


def posecast(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_train_command_exports_a_versioned_model(shared_data, tmp_path):
    args = ["train", str(shared_data / "yoga5" / "train"), "--per-class", "12", "--epochs", "8",
            "--name", "yoga-cli", "--models-dir", str(tmp_path)]
    first = posecast(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "validation accuracy" in first.stdout
    assert "[##############################] 8/8" in first.stderr  # the progress bar reached the end
    report = json.loads((tmp_path / "yoga-cli" / "1" / "report.json").read_text())
    assert report["counts"]["train"] and report["validation_groups"]
    assert (tmp_path / "yoga-cli" / "1" / "model_meta.json").exists()
    second = posecast(*args, "--features", "tm")
    assert second.returncode == 0, second.stderr[-2000:]
    assert (tmp_path / "yoga-cli" / "2" / "metadata.json").exists()


def test_train_command_refuses_bad_input_clearly(tmp_path):
    (tmp_path / "only" / "tree").mkdir(parents=True)
    result = posecast("train", str(tmp_path / "only"), "--models-dir", str(tmp_path / "m"))
    assert result.returncode == 2
    assert "at least 2 classes" in result.stderr
    result = posecast("train", str(tmp_path / "only"), "--name", "../escape")
    assert result.returncode == 2 and "invalid model name" in result.stderr
    assert not (tmp_path / "m").exists()
