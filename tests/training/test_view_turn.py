"""The camera-view augmentation of `world` inputs (training/augment.py turned): a pose's 2-D keypoints
are lifted with its world landmarks' depth, turned as a camera moved higher, lower or around the
person would see it and projected; the world landmarks turn with them, so no 3-D feature changes,
and a mirror image turns the other way round."""
from dataclasses import replace

import numpy as np

from core import features
from core.tables import COCO17
from training import train
from training.augment import NONE, Augment, augment, mirror, turned

THREE_D = slice(features.WORLD_BLOCKS["angles"].start, features.WORLD_FEATURES_N)
PX_PER_M = 150.0


def bodies(n=12, seed=4) -> tuple[np.ndarray, np.ndarray]:
    """(n, 17, 6) poses whose 2-D keypoints are exactly an orthographic camera's view of their world
    landmarks (PX_PER_M pixels a metre, image axes as BlazePose's), and those 3-D points in pixels."""
    rng = np.random.default_rng(seed)
    world = rng.normal(0, 0.4, (n, len(COCO17), 3))
    xy = world[..., :2] * PX_PER_M + rng.uniform(200, 400, (n, 1, 2))
    return np.concatenate([xy, np.full((n, len(COCO17), 1), 0.9), world], axis=2), world * PX_PER_M


def rotation(pitch: float, yaw: float) -> np.ndarray:
    """A camera raised by `pitch` (about the image's x axis), then moved around by `yaw` (its y axis)."""
    cp, sp, cy, sy = np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    return np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]) @ np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])


def test_a_turned_pose_is_the_projection_of_its_3d_points_turned():
    kps, points = bodies()
    pitch, yaw = np.radians(30.0), np.radians(-50.0)
    out = turned(kps, np.full(len(kps), pitch), np.full(len(kps), yaw))
    centre = kps[..., :2].mean(1)
    expected = (points - points.mean(1, keepdims=True)) @ rotation(pitch, yaw).T
    assert np.abs(out[..., :2] - (expected[..., :2] + centre[:, None])).max() < 1e-9
    assert np.abs(out[..., 3:] - kps[..., 3:] @ rotation(pitch, yaw).T).max() < 1e-12
    assert np.array_equal(out[..., 2], kps[..., 2])  # scores as they were
    # no turn, no change; and a pose without world landmarks (no depth) is only foreshortened
    assert np.abs(turned(kps, np.zeros(len(kps)), np.zeros(len(kps))) - kps).max() < 1e-9
    flat = kps.copy()
    flat[..., 3:] = 0.0
    side = turned(flat, np.zeros(len(kps)), np.full(len(kps), yaw))
    assert np.abs(side[..., 0] - (centre[:, :1] + (kps[..., 0] - centre[:, :1]) * np.cos(yaw))).max() < 1e-9
    assert np.abs(side[..., 1] - kps[..., 1]).max() < 1e-9


def test_a_turned_pose_keeps_every_3d_feature_and_its_mirror_image_turns_the_other_way():
    kps, _ = bodies()
    rng = np.random.default_rng(1)
    kps[..., 2] = rng.uniform(0, 1, kps.shape[:2])  # some keypoints unseen: they turn all the same
    pitch, yaw = rng.uniform(-0.6, 0.6, len(kps)), rng.uniform(-0.7, 0.7, len(kps))
    out = turned(kps, pitch, yaw)
    own, seen = features.world_matrix(kps), features.world_matrix(out)
    assert np.abs(seen[:, THREE_D] - own[:, THREE_D]).max() < 1e-5
    assert np.abs(seen[:, features.WORLD_BLOCKS["keypoints"]] - own[:, features.WORLD_BLOCKS["keypoints"]]).max() > 0.1
    # a mirror (x negated) turns a camera moved to the left into one moved to the right
    assert np.abs(mirror(out) - turned(mirror(kps), pitch, -yaw)).max() < 1e-9


def test_augmentation_turns_world_inputs_only_and_keeps_every_other_draw():
    kps, _ = bodies()
    y = np.arange(len(kps)) % 2
    plain = Augment(copies=3)
    view = Augment(copies=3, view_pitch_deg=35.0, view_yaw_deg=40.0)
    a, ya = augment(kps, y, plain, seed=7)
    b, yb = augment(kps, y, view, seed=7)
    assert np.array_equal(ya, yb) and np.array_equal(a[:len(kps)], b[:len(kps)])  # the originals stay
    copies = slice(len(kps), None)
    assert np.array_equal(a[copies, :, 2], b[copies, :, 2])  # the same keypoints dropped
    # the same mirror draws and the same bodies (their 3-D features), seen from other cameras
    a3, b3 = features.world_matrix(a[copies])[:, THREE_D], features.world_matrix(b[copies])[:, THREE_D]
    assert np.abs(a3 - b3).max() < 1e-5
    assert np.abs(a[copies, :, :2] - b[copies, :, :2]).max(axis=(1, 2)).min() > 0.5
    # 2-D inputs have no depth to turn: the view does nothing to them
    assert np.array_equal(augment(kps[..., :3], y, plain, seed=7)[0], augment(kps[..., :3], y, view, seed=7)[0])
    assert np.array_equal(augment(kps, y, NONE)[0], kps)


def test_world_training_turns_the_camera_by_default_and_other_kinds_do_not():
    world = train.default_augment("world")
    assert world.view_pitch_deg > 0 and world.view_yaw_deg > 0
    assert world == replace(train.DEFAULT_AUGMENT, view_pitch_deg=world.view_pitch_deg,
                            view_yaw_deg=world.view_yaw_deg)  # and everything else as the others'
    # members K and B see the camera turned, A (the angles') keeps it; nothing else differs
    members = [train.member_augment("world", world, i) for i in range(6)]
    assert [m.view_pitch_deg > 0 and m.view_yaw_deg > 0 for m in members] == [True, False, True] * 2
    assert all(replace(m, view_pitch_deg=0, view_yaw_deg=0) == replace(world, view_pitch_deg=0, view_yaw_deg=0)
               for m in members)
    for kind in ("keypoints", "pose"):
        assert train.default_augment(kind) == train.DEFAULT_AUGMENT
        assert train.member_augment(kind, world, 1) == world
        assert train.turned_views(kind, world) == {}
    assert train.turned_views("world", world) == {"turned_views": [["keypoints"], ["keypoints", "angles", "body"]]}
    assert train.turned_views("world", train.DEFAULT_AUGMENT) == {}  # told not to turn: the report says none
    assert train.DEFAULT_AUGMENT.view_pitch_deg == train.DEFAULT_AUGMENT.view_yaw_deg == 0
