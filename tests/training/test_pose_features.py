"""The `pose` feature vector: the page's web/js/common/features.js computes what core/features.py
computes, on the same keypoints (run with node: the module has no browser dependency); what it
is invariant to; and the training augmentation around it."""
import json
import shutil
import subprocess

import numpy as np
import pytest

from core import features
from core.tables import COCO17, POSE_FEATURES, TABLES_FILE
from tests.helpers.paths import ROOT
from training.augment import Augment, augment, mirror

NODE_SCRIPT = """
import { readFileSync } from 'node:fs';
import { makePoseVector } from '%s';
const tables = JSON.parse(readFileSync('%s', 'utf8'));
const poseVector = makePoseVector(tables.pose_features, tables.layouts.coco17.keypoints);
const poses = JSON.parse(readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(poses.map((keypoints) => poseVector({ keypoints }))));
"""


def poses_for_agreement() -> np.ndarray:
    """Random poses with low scores here and there, plus the edge cases: nothing seen, no hips,
    no shoulders, every point in one place, a score exactly at the threshold."""
    rng = np.random.default_rng(7)
    kps = np.zeros((40, len(COCO17), 3))
    kps[..., :2] = rng.uniform(-50, 700, (40, len(COCO17), 2))
    kps[..., 2] = rng.uniform(0, 1, (40, len(COCO17)))
    kps[0, :, 2] = 0.05
    kps[1, [COCO17.index("left_hip"), COCO17.index("right_hip")], 2] = 0.1
    kps[2, [COCO17.index("left_shoulder")], 2] = 0.0
    kps[3, :, :2] = 123.0
    kps[4, :, 2] = POSE_FEATURES["min_score"]
    return kps


def as_dicts(kps: np.ndarray) -> list[list[dict]]:
    return [[{"name": n, "x": float(x), "y": float(y), "score": float(s)} for n, (x, y, s) in zip(COCO17, row)]
            for row in kps]


@pytest.mark.skipif(not shutil.which("node"), reason="node is installed by make setup")
def test_page_and_python_compute_the_same_pose_vector(tmp_path):
    kps = poses_for_agreement()
    script = tmp_path / "run.mjs"
    script.write_text(NODE_SCRIPT % ((ROOT / "web" / "js" / "common" / "features.js").as_uri(), TABLES_FILE))
    out = subprocess.run(["node", str(script)], input=json.dumps(as_dicts(kps)), capture_output=True, text=True,
                         check=True, timeout=60)
    page = np.array(json.loads(out.stdout))
    python = features.pose_matrix(kps)
    print(f"max |page - python| over {len(kps)} poses: {np.abs(page - python).max():.1e}")
    assert page.shape == python.shape == (len(kps), features.size_of("pose"))
    assert np.abs(page - python).max() <= 1e-5


def test_pose_vector_of_dicts_matches_the_matrix():
    kps = poses_for_agreement()[:3]
    assert np.array_equal(np.stack([features.pose_vector(d) for d in as_dicts(kps)]), features.pose_matrix(kps))


def test_angles_and_distances_do_not_depend_on_place_size_or_rotation():
    kps = poses_for_agreement()[5:15]
    turn = np.radians(33)
    moved = kps.copy()
    x, y = kps[..., 0], kps[..., 1]
    moved[..., 0] = 2.5 * (np.cos(turn) * x - np.sin(turn) * y) + 40
    moved[..., 1] = 2.5 * (np.sin(turn) * x + np.cos(turn) * y) - 90
    a, b = features.pose_matrix(kps), features.pose_matrix(moved)
    for block in ("visibility", "angles", "distances"):
        s = features.POSE_BLOCKS[block]
        assert np.allclose(a[:, s], b[:, s], atol=1e-5), block


def test_low_scores_are_masked_not_trusted():
    kps = poses_for_agreement()[5:6].copy()
    wrist = COCO17.index("left_wrist")
    kps[0, wrist, 2] = 0.01
    far = kps.copy()
    far[0, wrist, :2] = [5000, -5000]  # a wild guess the detector does not trust changes nothing
    assert np.array_equal(features.pose_matrix(kps), features.pose_matrix(far))
    assert features.pose_matrix(kps)[0, features.POSE_BLOCKS["visibility"]][wrist] == 0


def test_mirroring_swaps_left_and_right():
    kps = poses_for_agreement()[5:8]
    twice = mirror(mirror(kps))
    assert np.array_equal(twice, kps)
    once = mirror(kps)
    left, right = COCO17.index("left_knee"), COCO17.index("right_knee")
    assert np.array_equal(once[:, left, 0], -kps[:, right, 0]) and np.array_equal(once[:, left, 1], kps[:, right, 1])


def test_augmentation_adds_copies_and_skips_mirroring_chiral_classes():
    kps = np.tile(poses_for_agreement()[5:6], (20, 1, 1))
    kps[..., 2] = 0.9
    y = np.array([0] * 10 + [1] * 10)
    only_mirror = Augment(copies=3, rotate_deg=0, stretch=0, jitter=0, drop=0)
    out, out_y = augment(kps, y, only_mirror, chiral=np.array([False, True]), seed=1)
    assert out.shape == (80, len(COCO17), 3) and list(out_y) == list(y) * 4
    flipped = [not np.allclose(k, kps[0]) for k in out]
    assert not any(f for f, label in zip(flipped, out_y) if label == 1)  # the chiral class never mirrors
    assert any(f for f, label in zip(flipped, out_y) if label == 0)
    dropped, _ = augment(kps, y, Augment(copies=1, drop=0.5), seed=2)
    assert 0.3 < (dropped[20:, :, 2] == 0).mean() < 0.7
