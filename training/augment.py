"""Training-time augmentation of keypoints (before the feature vector is computed), so the model
sees each pose as other people, cameras and detectors would give it: mirrored (left and right
keypoints swapped; skipped for classes declared chiral, whose mirror image is another pose), turned
a little, stretched, jittered, and with keypoints dropped as a detector drops them; poses with
world landmarks also as a camera moved higher, lower or around the person would see them (turned)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from core.features import input_columns, matrix
from core.tables import COCO17, POSE_FEATURES

_INDEX = {n: i for i, n in enumerate(COCO17)}
# Where each keypoint goes in a mirrored pose.
MIRROR = np.arange(len(COCO17))
for _left, _right in POSE_FEATURES["mirror"]:
    MIRROR[_INDEX[_left]], MIRROR[_INDEX[_right]] = _INDEX[_right], _INDEX[_left]


@dataclass(frozen=True)
class Augment:
    copies: int = 4            # augmented copies per sample, besides the sample itself
    mirror: bool = True        # half the copies of non-chiral classes are mirrored
    rotate_deg: float = 12.0   # uniform in +-rotate_deg (a camera that is not level)
    stretch: float = 0.1       # x and y scaled apart by 1 +- stretch (aspect, lens, distance)
    jitter: float = 0.02       # Gaussian noise, as a fraction of the pose's extent
    drop: float = 0.08         # chance that a keypoint is dropped (its score set to 0)
    # Inputs with world landmarks only: the camera moved, uniform in +-: higher or lower (pitch, about
    # the image's x axis) and around the person (yaw, about its vertical); see turned().
    view_pitch_deg: float = 0.0
    view_yaw_deg: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


NONE = Augment(copies=0)


def mirror(kps: np.ndarray) -> np.ndarray:
    """(N, 17, 3) -> the same poses seen in a mirror: x negated, left and right swapped; (N, 17, 6)
    with world landmarks: their x negated too (the image's x axis is theirs)."""
    out = kps[:, MIRROR].copy()
    out[..., 0] = -out[..., 0]
    if out.shape[-1] > 3:
        out[..., 3] = -out[..., 3]
    return out


def turned(kps: np.ndarray, pitch: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """(N, 17, 6) poses with world landmarks and an angle pair per pose (radians) -> the same bodies
    seen from a camera moved by them: pitch about the image's x axis (higher or lower), then yaw about
    its vertical axis (around the person). The world landmarks turn about their origin (mid-hips).
    The 2-D keypoints are lifted to 3-D with the world depth, scaled to the image by the least-squares
    fit of the world x, y to the seen keypoints' x, y (BlazePose's world axes are the image's), turned
    about their centre and projected straight back (the detector's own x, y kept, not the world's).
    A pose without world landmarks gets no depth: it is only foreshortened."""
    k = np.array(kps, dtype=np.float64)
    seen = (k[..., 2:3] >= POSE_FEATURES["min_score"]).astype(np.float64)
    count = np.maximum(seen.sum(1), 1)
    centre, world_centre = (k[..., :2] * seen).sum(1) / count, (k[..., 3:6] * seen).sum(1) / count
    xy, world = (k[..., :2] - centre[:, None]) * seen, (k[..., 3:6] - world_centre[:, None]) * seen
    fit = (world[..., :2] ** 2).sum((1, 2))
    scale = np.where(fit > 1e-12, (xy * world[..., :2]).sum((1, 2)) / np.where(fit > 1e-12, fit, 1.0), 0.0)
    depth = scale[:, None] * (k[..., 5] - world_centre[:, None, 2])
    lifted = np.concatenate([k[..., :2] - centre[:, None], depth[..., None]], axis=2)
    cp, sp, cy, sy = np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    zero, one = np.zeros_like(pitch), np.ones_like(pitch)
    rx = np.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], axis=1).reshape(-1, 3, 3)
    ry = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], axis=1).reshape(-1, 3, 3)
    turn = ry @ rx
    k[..., :2] = np.einsum("nij,nkj->nki", turn, lifted)[..., :2] + centre[:, None]
    k[..., 3:6] = np.einsum("nij,nkj->nki", turn, k[..., 3:6])
    return k


def augment(kps: np.ndarray, y: np.ndarray, aug: Augment, chiral: np.ndarray | None = None,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(N, 17, 3) keypoints and their class indices -> the originals plus aug.copies altered copies
    of each. chiral: a bool per class; those classes are never mirrored. (N, 17, 6) with world
    landmarks: only mirroring changes those (a turned, stretched or jittered image, or a dropped
    keypoint, is the same body in 3-D)."""
    kps = np.asarray(kps, dtype=np.float64)
    if aug.copies <= 0 or not len(kps):
        return kps, y
    rng = np.random.default_rng(seed)
    # the view's draws come from their own stream: turning it on leaves every other draw as it was
    view_rng = np.random.default_rng([seed, 1])
    turn = kps.shape[-1] > 3 and (aug.view_pitch_deg > 0 or aug.view_yaw_deg > 0)
    can_mirror = np.ones(len(kps), bool) if chiral is None else ~np.asarray(chiral, bool)[y]
    out_k, out_y = [kps], [y]
    for c in range(aug.copies):
        k = kps.copy()
        if aug.mirror:
            flip = can_mirror & (rng.random(len(k)) < 0.5)
            k[flip] = mirror(k[flip])
        if turn:
            k = turned(k, np.radians(view_rng.uniform(-aug.view_pitch_deg, aug.view_pitch_deg, len(k))),
                       np.radians(view_rng.uniform(-aug.view_yaw_deg, aug.view_yaw_deg, len(k))))
        seen = k[..., 2:3] >= POSE_FEATURES["min_score"]
        centre = (k[..., :2] * seen).sum(1) / np.maximum(seen.sum(1), 1)
        xy = k[..., :2] - centre[:, None]
        theta = np.radians(rng.uniform(-aug.rotate_deg, aug.rotate_deg, len(k)))
        cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
        xy = np.stack([cos * xy[..., 0] - sin * xy[..., 1], sin * xy[..., 0] + cos * xy[..., 1]], axis=2)
        xy *= rng.uniform(1 - aug.stretch, 1 + aug.stretch, (len(k), 1, 2))
        extent = np.sqrt(((xy ** 2).sum(2) * seen[..., 0]).max(1))
        xy += rng.normal(0, 1, xy.shape) * (aug.jitter * extent)[:, None, None]
        k[..., :2] = xy + centre[:, None]
        dropped = rng.random(k.shape[:2]) < aug.drop
        k[..., 2] = np.where(dropped, 0.0, k[..., 2])
        out_k.append(k)
        out_y.append(y)
    return np.concatenate(out_k), np.concatenate(out_y)


@lru_cache(maxsize=None)
def mirror_columns(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(source, sign): column j of a mirrored pose's `kind` vector is sign[j] * column source[j] of
    the pose's own, for keypoint kinds whose normalisation commutes with mirroring (x negated, left
    and right swapped: centre, size, angles and distances all do). Found on random poses, some
    keypoints unseen; raises ValueError if a column has no such source."""
    rng = np.random.default_rng(0)
    kps = np.concatenate([rng.uniform(0, 640, (64, len(COCO17), 2)), rng.uniform(0, 1, (64, len(COCO17), 1)),
                          rng.normal(0, 0.5, (64, len(COCO17), input_columns(kind) - 3))], axis=2)
    kps[:8, _INDEX["left_hip"], 2] = 0.0  # some without the hips' centre
    own, seen = matrix(kind, kps).astype(np.float64), matrix(kind, mirror(kps)).astype(np.float64)
    source, sign = np.zeros(own.shape[1], int), np.zeros(own.shape[1], np.float32)
    for j in range(own.shape[1]):
        for s in (1.0, -1.0):
            match = np.flatnonzero(np.abs(own * s - seen[:, j:j + 1]).max(axis=0) < 1e-4)
            if len(match):
                source[j], sign[j] = match[0], s
                break
        else:
            raise ValueError(f"{kind} features: column {j} of a mirrored pose is no column of the pose's own")
    return source, sign
