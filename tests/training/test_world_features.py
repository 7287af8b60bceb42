"""The `world` features (core/features.py world_matrix: `keypoints` plus 3-D joint angles and the
body frame from BlazePose's world landmarks): the page's web/js/common/features.js computes the
same 3-D part (run with node), mirroring is a signed permutation of them, a camera moved around
the person changes none of the 3-D part, training merges one member per view and learns what
only depth tells apart, the export records the kind and its views, and backbones without world
landmarks are refused."""
import json
import shutil
import subprocess

import numpy as np
import pytest

from core import features
from core.tables import COCO17, TABLES_FILE
from tests.helpers.paths import ROOT
from training import export, exported, train
from training.augment import MIRROR, mirror, mirror_columns
from training.data import DatasetError

NODE_SCRIPT = """
import { readFileSync } from 'node:fs';
import { makeWorldVector } from '%s';
const tables = JSON.parse(readFileSync('%s', 'utf8'));
const worldVector = makeWorldVector(tables.world_features, tables.layouts.coco17.keypoints);
const poses = JSON.parse(readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(poses.map((keypoints3D) => worldVector({ keypoints: [], keypoints3D }))));
"""
THREE_D = slice(features.WORLD_BLOCKS["angles"].start, features.WORLD_FEATURES_N)
I = {n: i for i, n in enumerate(COCO17)}


def random_poses(n=40, seed=3) -> np.ndarray:
    """(n, 17, 6) random keypoints and world landmarks, plus edge cases: every world point in one
    place, both hips at one point, a zero-length forearm, a torso along the hips' line."""
    rng = np.random.default_rng(seed)
    kps = np.concatenate([rng.uniform(0, 640, (n, 17, 2)), rng.uniform(0, 1, (n, 17, 1)),
                          rng.normal(0, 0.4, (n, 17, 3))], axis=2)
    kps[0, :, 3:] = 0.1
    kps[1, I["right_hip"], 3:] = kps[1, I["left_hip"], 3:]
    kps[2, I["left_wrist"], 3:] = kps[2, I["left_elbow"], 3:]
    kps[3, [I["left_shoulder"], I["right_shoulder"]], 3:] = kps[3, [I["left_hip"], I["right_hip"]], 3:] * 2
    return kps


@pytest.mark.skipif(not shutil.which("node"), reason="node is installed by make setup")
def test_page_and_python_compute_the_same_world_vector(tmp_path):
    kps = random_poses()
    script = tmp_path / "run.mjs"
    script.write_text(NODE_SCRIPT % ((ROOT / "web" / "js" / "common" / "features.js").as_uri(), TABLES_FILE))
    poses = [[{"name": n, "x": float(x), "y": float(y), "z": float(z)} for n, (x, y, z) in zip(COCO17, row[:, 3:])]
             for row in kps]
    out = subprocess.run(["node", str(script)], input=json.dumps(poses), capture_output=True, text=True,
                         check=True, timeout=60)
    page = np.array(json.loads(out.stdout))
    python = features.world_matrix(kps)[:, THREE_D]
    print(f"max |page - python| over {len(kps)} poses: {np.abs(page - python).max():.1e}")
    assert page.shape == python.shape == (len(kps), features.WORLD_FEATURES_N - features.KEYPOINT_FEATURES)
    assert np.abs(page - python).max() <= 1e-5
    assert np.abs(python[0]).max() == 0  # nothing has a length: every 3-D feature reads "not seen"


def test_the_vector_is_keypoints_then_the_3d_part_and_a_pose_reads_as_the_matrix():
    kps = random_poses()
    rows = features.matrix("world", kps)
    assert rows.shape == (len(kps), features.size_of("world")) == (len(kps), 112)
    assert np.array_equal(rows[:, features.WORLD_BLOCKS["keypoints"]], features.keypoint_matrix(kps[..., :3]))
    # one pose as runtime/ gives it: 33 BlazePose keypoints with their world landmarks in the same order
    from core.tables import BLAZEPOSE33

    order = [COCO17.index(n) if n in COCO17 else 0 for n in BLAZEPOSE33]
    pose = type("Pose", (), {"keypoints": [{"name": n, "x": kps[5, i, 0], "y": kps[5, i, 1], "score": kps[5, i, 2]}
                                           for n, i in zip(BLAZEPOSE33, order)],
                             "extra": {"world": kps[5, order, 3:].tolist()}})()
    assert np.array_equal(features.matrix("world", features.pose_inputs("world", pose)[None])[0], rows[5])
    with pytest.raises(ValueError, match="world landmarks"):
        features.matrix("world", kps[..., :3])


def test_mirroring_is_a_signed_permutation_and_keeps_the_angles():
    kps = random_poses()[4:]
    own, seen = features.matrix("world", kps), features.matrix("world", mirror(kps))
    source, sign = mirror_columns("world")  # raises if a column of the mirror image is none of the pose's
    assert np.abs(own[:, source] * sign - seen).max() < 1e-5
    angles = features.WORLD_BLOCKS["angles"]
    # left and right swap; a mirror image bends every joint as much
    assert np.abs(np.sort(own[:, angles], 1) - np.sort(seen[:, angles], 1)).max() < 1e-5
    # A mirror image, not the same body with left and right renamed: in the body's frame a point
    # in front of the body (z) stays in front and the side (x) flips. Without negating the world x
    # the frame's z would flip instead (a hand in front would be behind the back).
    body = features.WORLD_BLOCKS["body"].start
    n = len(COCO17)
    bx, bz = own[:, body:body + n], own[:, body + 2 * n:body + 3 * n]
    assert np.abs(seen[:, body:body + n] + bx[:, MIRROR]).max() < 1e-5
    assert np.abs(seen[:, body + 2 * n:body + 3 * n] - bz[:, MIRROR]).max() < 1e-5


def test_a_camera_moved_around_the_person_changes_no_3d_feature():
    kps = random_poses()[4:]
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))  # a rotation, not a reflection
    turned = kps.copy()
    turned[..., 3:] = kps[..., 3:] @ q.T * 1.3  # seen from elsewhere, and a taller person
    assert np.abs(features.world_matrix(turned)[:, THREE_D] - features.world_matrix(kps)[:, THREE_D]).max() < 1e-4


def depth_only_poses(n_per_class=24, subjects=("a", "b", "c")):
    """Two classes whose image keypoints are alike and whose difference is depth alone: knees bent
    toward the camera or straight (world z), as girl2's cobras filmed from her feet differ from a
    tree (README, the sixth study)."""
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.3, (17, 3)) * [1, 1, 0.2]
    kps, labels, groups = [], [], []
    for c, label in enumerate(("bent", "straight")):
        for i in range(n_per_class):
            w = base + rng.normal(0, 0.03, (17, 3))
            if label == "bent":
                w[[I["left_knee"], I["right_knee"]], 2] += 0.4
            xy = w[:, :2] * 200 + 320 + rng.normal(0, 2, (17, 2))
            kps.append(np.concatenate([xy, np.full((17, 1), 0.9), w], axis=1))
            labels.append(label)
            groups.append(subjects[i % len(subjects)])
    return np.array(kps), labels, groups


def test_world_models_learn_what_only_depth_tells_and_merge_one_member_per_view():
    kps, labels, groups = depth_only_poses()
    y = np.array([("bent", "straight").index(label) for label in labels])
    held = np.array([g == "c" for g in groups])  # a subject the models never saw
    opts = dict(epochs=20, batch_size=16, seed=0)
    flat, _ = train.fit("keypoints", kps[~held, :, :3], y[~held], 2, members=1, aug=train.DEFAULT_AUGMENT, **opts)
    model, _ = train.fit("world", kps[~held], y[~held], 2, members=3, aug=train.default_augment("world"), **opts)
    accuracy = {kind: float((train.predict(m, kind, x[held]).argmax(1) == y[held]).mean())
                for kind, m, x in (("keypoints", flat, kps[..., :3]), ("world", model, kps))}
    print(accuracy)
    assert accuracy["world"] >= 0.9
    assert accuracy["keypoints"] <= 0.75  # the 2-D keypoints alone cannot tell them apart

    # member i looks at view i: its first-layer weights are zero on every other column
    k1 = model.get_weights()[0]
    assert k1.shape == (112, 3 * 128)
    blocks = features.WORLD_BLOCKS
    for i, view in enumerate(features.VIEWS["world"]):
        units = k1[:, i * 128:(i + 1) * 128]
        assert all(np.abs(units[blocks[b]]).max() > 0 for b in view)
        assert all(np.abs(units[blocks[b]]).max() == 0 for b in blocks if b not in view)


def test_the_export_records_the_kind_and_runs_as_trained(tmp_path):
    kps, labels, _ = depth_only_poses(n_per_class=9)
    y = np.array([("bent", "straight").index(label) for label in labels])
    model, _ = train.fit("world", kps, y, 2, aug=train.DEFAULT_AUGMENT, epochs=2, batch_size=16, seed=0, members=3)
    out = export.export(model, ["bent", "straight"], "world", tmp_path / "w" / "1", name="w",
                        report={"ensemble": 3}, backbone="blazepose-heavy")
    meta = json.loads((out / "posecast.json").read_text())
    assert (meta["features"], meta["inputs"], meta["backbone"]) == ("world", 112, "blazepose-heavy")
    assert meta["normalisation"]["world_features"]["angles"] and meta["normalisation"]["views"] == \
        [list(v) for v in features.VIEWS["world"]]
    back = exported.load(out)
    assert back.kind == "world"
    assert np.abs(back.predict(back.rows(kps)) - model.predict(features.matrix("world", kps), verbose=0)).max() < 2e-3


def test_without_world_landmarks_the_kind_is_refused():
    assert "world landmarks" in features.backbone_problem("world", "movenet-thunder")
    assert features.backbone_problem("world", "blazepose-heavy") is None
    assert features.backbone_problem("keypoints", "movenet-thunder") is None
    kps, labels, groups = depth_only_poses(n_per_class=6)
    with pytest.raises(DatasetError, match="BlazePose"):
        train.train(kps[..., :3], labels, groups, "world", epochs=1, ensemble=3)
    with pytest.raises(DatasetError, match="multiple of 3"):
        train.train(kps, labels, groups, "world", epochs=1, ensemble=2)


def test_the_servers_own_inference_refuses_a_world_model_without_world_landmarks(tmp_path):
    from poseio.classifier import Classifier, Unsupported

    kps, labels, _ = depth_only_poses(n_per_class=3)
    y = np.array([("bent", "straight").index(label) for label in labels])
    model, _ = train.fit("world", kps, y, 2, aug=train.DEFAULT_AUGMENT, epochs=1, batch_size=16, seed=0, members=3)
    out = export.export(model, ["bent", "straight"], "world", tmp_path / "w" / "1", name="w", report={},
                        backbone="blazepose-heavy")
    head = Classifier({"name": "w", "version": "1", "dir": str(out), "features": "world", "labels": ["bent", "straight"],
                       "threshold": None})
    with pytest.raises(Unsupported, match="world landmarks"):
        head.classify([[{"name": n, "x": 1.0, "y": 2.0, "score": 0.9} for n in COCO17]])
