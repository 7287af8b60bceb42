import json
import subprocess
import sys

from tests.helpers.paths import ROOT


def posecast(*args, timeout=600, instance=None, env=None):
    import os

    env = {**os.environ, **({"POSECAST_INSTANCE_PATH": str(instance)} if instance else {}), **(env or {})}
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_train_command_exports_a_versioned_model(shared_data, tmp_path):
    args = ["train", str(shared_data / "yoga5" / "train"), "--per-class", "12", "--epochs", "4",
            "--name", "yoga-cli", "--models-dir", str(tmp_path)]
    first = posecast(*args, "--backbone", "movenet-lightning", instance=tmp_path / "instance")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "validation accuracy" in first.stdout
    # keypoint features train 3 models merged by default: the progress bar counts their epochs
    assert "[##############################] 12/12" in first.stderr  # and reached the end
    report = json.loads((tmp_path / "yoga-cli" / "1" / "report.json").read_text())
    assert (report["ensemble"], report["epochs"]) == (3, 4)
    assert report["counts"]["train"] and report["validation_groups"]
    assert (tmp_path / "yoga-cli" / "1" / "model_meta.json").exists()
    # the export records the backbone it learned from (live pages switch to it)
    assert json.loads((tmp_path / "yoga-cli" / "1" / "posecast.json").read_text())["backbone"] == "movenet-lightning"
    second = posecast(*args, "--features", "tm", instance=tmp_path / "instance")
    assert second.returncode == 0, second.stderr[-2000:]
    assert (tmp_path / "yoga-cli" / "2" / "metadata.json").exists()
    assert json.loads((tmp_path / "yoga-cli" / "2" / "report.json").read_text())["ensemble"] == 1  # tm: one model
    assert json.loads((tmp_path / "yoga-cli" / "2" / "posecast.json").read_text())["backbone"] == "posenet"
    import sqlite3

    with sqlite3.connect(tmp_path / "instance" / "posecast.db") as db:
        rows = db.execute("SELECT status, params, duration_s FROM training_runs").fetchall()
    assert len(rows) == 2 and all(r[0] == "done" and r[2] > 0 for r in rows)  # every run is recorded
    assert [json.loads(r[1])["backbone"] for r in rows] == ["movenet-lightning", "posenet"]


def test_train_command_defaults_to_world_features_where_they_can_be_had():
    from server.models.train_command import default_features

    assert default_features(None, None) == "world"  # an image folder, BlazePose heavy, 3 members
    assert default_features("blazepose-lite", 6) == "world"
    assert default_features("movenet-thunder", None) == "keypoints"  # no world landmarks
    assert default_features(None, 1) == "keypoints"  # world members come in threes
    # a recorded dataset whose samples (some of them) keep no world landmarks
    assert default_features("blazepose-heavy", None, world_landmarks=False) == "keypoints"


def test_train_command_refuses_bad_input_clearly(tmp_path):
    (tmp_path / "only" / "tree").mkdir(parents=True)
    result = posecast("train", str(tmp_path / "only"), "--models-dir", str(tmp_path / "m"), instance=tmp_path / "i")
    assert result.returncode == 2
    assert "at least 2 classes" in result.stderr
    result = posecast("train", str(tmp_path / "only"), "--name", "../escape", instance=tmp_path / "i")
    assert result.returncode == 2 and "invalid model name" in result.stderr
    (tmp_path / "only" / "cobra").mkdir()
    for label in ("tree", "cobra"):
        for i in range(2):
            (tmp_path / "only" / label / f"s{i}_{label}.jpg").write_bytes(b"")
    result = posecast("train", str(tmp_path / "only"), "--features", "tm", "--backbone", "movenet-thunder",
                      instance=tmp_path / "i")
    assert result.returncode == 2 and "tm features come from PoseNet only" in result.stderr
    for features, n, error in (("keypoints", "0", "--ensemble must be a whole number from 1 to 10"),
                               ("tm", "3", "--ensemble 3: must be 1")):  # a merged ensemble is for keypoint kinds only
        result = posecast("train", str(tmp_path / "only"), "--features", features, "--ensemble", n,
                          instance=tmp_path / "i")
        assert result.returncode == 2 and error in result.stderr
    result = posecast("train", "--dataset", "recorded", "--features", "world", instance=tmp_path / "i")
    assert result.returncode == 2 and "no dataset named 'recorded'" in result.stderr
    assert not (tmp_path / "m").exists()


def test_train_a_recorded_dataset_and_activate_it_on_the_running_server(tmp_path, posenet, yoga_subset):
    import base64

    from tests.helpers.server import LiveServer
    from training.posenet import load_image

    instance, models = tmp_path / "instance", tmp_path / "models"
    server = LiveServer(tmp_path, env={"POSECAST_INSTANCE_PATH": str(instance),
                                       "POSECAST_MODELS_DIR": str(models)}).start()

    def call(method, path, body=None):
        r = server.api(method, path, json=body)
        assert r.ok, r.text
        return r.json()

    try:
        ds = call("POST", "/api/datasets", {"name": "recorded"})
        for s in [s for s in yoga_subset if s.label in ("chair", "cobra")][::4]:
            out = posenet.run(load_image(s.path))
            call("POST", f"/api/datasets/{ds['id']}/samples", {
                "label": s.label, "backbone": "posenet", "width": 300, "height": 300, "keypoints": out.keypoints(),
                "tm": base64.b64encode(out.tm_features().astype("<f4").tobytes()).decode()})
        result = posecast("train", "--dataset", "recorded", "--epochs", "10", "--models-dir", str(models),
                          "--activate", server.url, instance=instance,
                          env=dict(zip(("POSECAST_USER", "POSECAST_PASSWORD"), server.add_user("coach", "trainer"))))
        assert result.returncode == 0, result.stderr[-2000:]
        assert "every open live page now runs it" in result.stdout
        active = call("GET", "/api/models/active")
        assert (active["name"], active["labels"]) == ("recorded", ["chair", "cobra"])
        assert call("GET", "/api/runs")["runs"][0]["params"]["source"] == "recorded"
        assert call("GET", "/api/runs")["runs"][0]["params"]["features"] == "keypoints"  # PoseNet: no world landmarks
        world = posecast("train", "--dataset", "recorded", "--features", "world", instance=instance)
        assert world.returncode == 2 and "recorded with posenet: world features need BlazePose's" in world.stderr
    finally:
        server.stop()
    missing = posecast("train", "--dataset", "nope", instance=instance)
    assert missing.returncode == 2 and "no dataset named 'nope'" in missing.stderr
