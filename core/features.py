"""The classifier's feature vectors, computed the same way wherever a pose comes from (the page
computes `pose` in web/js/common/features.js and `keypoints` in web/js/live/classifier.js).

- `pose` (default): what does not depend on the person: normalised coordinates, visibility, joint
  angles and limb distances over the pose's size (MediaPipe's pose embedding, in 2-D), with
  keypoints under MIN_SCORE masked rather than trusted (97 floats; tables in web/pose-tables.json).
- `keypoints`: the 17 COCO keypoints normalised for position and size, plus their
  scores (51 floats). Both work with any backbone's COCO-17 keypoints (BlazePose's subset included).
- `world` (BlazePose only): `keypoints` plus what BlazePose's world landmarks (3-D, metres) say
  that a camera's position does not change: 10 joint-angle cosines and the 17 points in the body's
  own frame (112 floats; tables in web/pose-tables.json world_features). Its models merge members
  that look at three views of it (VIEWS): the keypoints, + the angles, + the angles and the body
  frame (README, the sixth study).
- `tm`: Teachable Machine's 14,739 PoseNet heatmap scores and offsets.
"""
from __future__ import annotations

import numpy as np

from .tables import BACKBONES, COCO17, POSE_FEATURES, TRAIN_BACKBONE, WORLD_FEATURES  # noqa: F401 (TRAIN_BACKBONE re-exported)

KINDS = ("pose", "keypoints", "world", "tm")
# `keypoints` won on yoga5's leave-one-subject-out folds with every MoveNet and BlazePose backbone
# (BlazePose heavy 0.93 against `pose`'s 0.86: `pose` masks the landmarks BlazePose marks occluded,
# whose predicted positions still carry the pose; bench/training.py, README Training).
DEFAULT_KIND = "keypoints"
KEYPOINT_KINDS = ("pose", "keypoints", "world")  # computed from keypoints, so augmented in training
# Kinds that need BlazePose's world landmarks besides the keypoints: inputs (N, 17, 6) of x, y,
# score (image pixels) and the world x, y, z (metres, origin mid-hips, image axes).
WORLD_KINDS = ("world",)
WORLD_LAYOUT = WORLD_FEATURES["layout"]  # the backbones whose poses carry world landmarks
# Models merged into one (training/model.py merge): the study measured up to 5; more only cost time.
MAX_ENSEMBLE = 10
KEYPOINT_FEATURES = 3 * len(COCO17)
_INDEX = {n: i for i, n in enumerate(COCO17)}
_ANGLES = np.array([[_INDEX[n] for n in t] for t in POSE_FEATURES["angles"]])
_PAIRS = np.array([[_INDEX[n] for n in p] for p in POSE_FEATURES["distances"]])
POSE_FEATURES_N = 3 * len(COCO17) + 2 * len(_ANGLES) + len(_PAIRS)
# Feature blocks of a `pose` vector by column, for ablations and for reading a model.
POSE_BLOCKS = {
    "coords": slice(0, 2 * len(COCO17)),
    "visibility": slice(2 * len(COCO17), 3 * len(COCO17)),
    "angles": slice(3 * len(COCO17), 3 * len(COCO17) + 2 * len(_ANGLES)),
    "distances": slice(3 * len(COCO17) + 2 * len(_ANGLES), POSE_FEATURES_N),
}
_WORLD_ANGLES = np.array([[_INDEX[n] for n in t] for t in WORLD_FEATURES["angles"]])
_TORSO_THIGH = np.array([[_INDEX[n] for n in p] for p in WORLD_FEATURES["torso_thigh"]])
_WORLD_N_ANGLES = len(_WORLD_ANGLES) + len(_TORSO_THIGH)
WORLD_FEATURES_N = KEYPOINT_FEATURES + _WORLD_N_ANGLES + 3 * len(COCO17)
WORLD_BLOCKS = {
    "keypoints": slice(0, KEYPOINT_FEATURES),
    "angles": slice(KEYPOINT_FEATURES, KEYPOINT_FEATURES + _WORLD_N_ANGLES),
    "body": slice(KEYPOINT_FEATURES + _WORLD_N_ANGLES, WORLD_FEATURES_N),
}
# The feature blocks each member of a merged model looks at: member i the view i % 3, so a model
# merges at least one of each (ensemble_problem). On yoga5 the 2-D keypoints miss girl3's chairs
# filmed from above, the 3-D angles fix girl2's cobras filmed from her feet, the body frame the
# chairs, and each 3-D view costs what another fixes: merged, the three beat each one (README, the
# sixth study).
VIEWS = {"world": (("keypoints",), ("keypoints", "angles"), ("keypoints", "angles", "body"))}
# PoseNet 257 px at output stride 16: a 17 x 17 grid of 17 heatmaps and 34 offsets.
TM_GRID = 17
TM_FEATURES = TM_GRID * TM_GRID * (len(COCO17) + 2 * len(COCO17))  # 14,739: Teachable Machine's input
MIN_SCORE = 0.2

def ensemble_problem(kind: str, ensemble, name: str = "ensemble") -> str | None:
    """Why `ensemble` merged models cannot train `kind` features, or None: merging exists for the
    keypoint MLP only. The one rule for `posecast train`, the trainer's runs and the library."""
    if not isinstance(ensemble, int) or isinstance(ensemble, bool) or not 1 <= ensemble <= MAX_ENSEMBLE:
        return f"{name} must be a whole number from 1 to {MAX_ENSEMBLE}"
    if ensemble > 1 and kind not in KEYPOINT_KINDS:
        return f"{name} {ensemble}: must be 1, or more for {', '.join(KEYPOINT_KINDS)} features, not {kind}"
    views = len(VIEWS.get(kind, ((),)))
    if ensemble % views:
        return f"{name} {ensemble}: {kind} features merge one model per view ({views}), so a multiple of {views}"
    return None


# Written into every exported model's metadata, so the page normalises exactly as training did.
KEYPOINT_SPEC = {
    "names": list(COCO17),
    "layout": "x0..x16, y0..y16, score0..score16",
    "centre": f"midpoint of the hips when both score >= {MIN_SCORE}, else the score-weighted mean",
    "scale": f"largest distance from the centre among keypoints scoring >= {MIN_SCORE}",
}


WORLD_SPEC = {**KEYPOINT_SPEC, "world_features": WORLD_FEATURES,
              "blocks": {k: [v.start, v.stop] for k, v in WORLD_BLOCKS.items()},
              "views": [list(v) for v in VIEWS["world"]]}


POSE_SPEC = {"names": list(COCO17), "table": "web/pose-tables.json pose_features",
             "blocks": {k: [v.start, v.stop] for k, v in POSE_BLOCKS.items()}}


def same_pose_table(kind: str, normalisation) -> bool:
    """Whether an export's features are computed as ours are: a `pose` model records the table it
    was trained with (its posecast.json `normalisation.pose_features`); older ones record none."""
    table = normalisation.get("pose_features") if isinstance(normalisation, dict) else None
    return kind != "pose" or table is None or table == POSE_FEATURES


def size_of(kind: str) -> int:
    return {"pose": POSE_FEATURES_N, "keypoints": KEYPOINT_FEATURES, "world": WORLD_FEATURES_N, "tm": TM_FEATURES}[kind]


def input_columns(kind: str) -> int:
    """Columns per keypoint of a keypoint kind's inputs: x, y, score (and the world x, y, z)."""
    return 6 if kind in WORLD_KINDS else 3


def view_columns(kind: str) -> list[np.ndarray | None]:
    """The feature columns each view of a merged model sees (VIEWS); [None] (all) for other kinds."""
    if kind not in VIEWS:
        return [None]
    return [np.concatenate([np.arange(size_of(kind))[WORLD_BLOCKS[b]] for b in view]) for view in VIEWS[kind]]


def backbone_problem(kind: str, backbone: str) -> str | None:
    """Why `backbone`'s poses cannot give `kind` features, or None."""
    if kind in WORLD_KINDS and BACKBONES.get(backbone, {}).get("layout") != WORLD_LAYOUT:
        names = ", ".join(b for b, spec in BACKBONES.items() if spec.get("layout") == WORLD_LAYOUT)
        return f"{kind} features need BlazePose's world landmarks (3-D), which {backbone} does not give: use {names}"
    return None


def default_features(backbone: str | None, ensemble: int | None, *, world_landmarks: bool = True) -> str:
    """The measured best a run can have: `world` where the poses carry BlazePose's world landmarks
    (an image folder on a backbone that gives them, a recorded dataset whose every sample keeps
    them), merged in threes (LOSO on yoga5 0.973-0.976 over five seeds against 0.953-0.969 for
    `keypoints`: README, the sixth study); `keypoints` for another backbone, samples without world
    landmarks or a member count that is not a multiple of three. `posecast train` and the
    trainer page's runs choose by this rule (server/models/training_runs.py, web/js/trainer/runs.js)."""
    world = WORLD_KINDS[0]
    if world_landmarks and not backbone_problem(world, backbone or TRAIN_BACKBONE) \
            and not ensemble_problem(world, ensemble or 3):
        return world
    return DEFAULT_KIND


def recorded_problem(kind: str, backbone: str, lacking: int, total: int) -> str | None:
    """Why a recorded dataset cannot give `kind` features, or None: its samples come from
    `backbone`, and `lacking` of its `total` samples carry no world landmarks (the trainer page
    keeps BlazePose's with each sample; older samples and other backbones have none)."""
    if kind not in WORLD_KINDS:
        return None
    problem = backbone_problem(kind, backbone)
    if problem:
        return f"the dataset was recorded with {backbone}: {problem}"
    if lacking:
        return (f"{kind} features need BlazePose's world landmarks for every sample, and {lacking} of {total} "
                f"sample(s) have none (recorded or imported before the trainer page kept them): delete those and record "
                f"them again, or train keypoints features")
    return None


def keypoint_array(keypoints: list[dict]) -> np.ndarray:
    """[{name, x, y, score}] (any layout with the COCO-17 names) -> (17, 3) of x, y, score."""
    by_name = {k["name"]: k for k in keypoints}
    return np.array([[by_name[n]["x"], by_name[n]["y"], by_name[n]["score"]] for n in COCO17], dtype=np.float64)


def pose_matrix(kps: np.ndarray) -> np.ndarray:
    """(N, 17, 3) keypoints -> (N, 97) `pose` vectors. web/js/common/features.js poseVector does the
    same for one pose, step for step."""
    kps = np.asarray(kps, dtype=np.float64)
    if not np.isfinite(kps).all():
        raise ValueError("keypoints contain NaN or infinity")
    pts, vis = kps[..., :2], (kps[..., 2] >= POSE_FEATURES["min_score"]).astype(np.float64)
    lh, rh, ls, rs = (_INDEX[n] for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder"))
    hips_seen = (vis[:, lh] * vis[:, rh]) > 0
    torso_seen = hips_seen & ((vis[:, ls] * vis[:, rs]) > 0)
    hip_mid = (pts[:, lh] + pts[:, rh]) / 2
    mean_seen = (pts * vis[..., None]).sum(1) / np.maximum(vis.sum(1), 1)[:, None]
    centre = np.where(hips_seen[:, None], hip_mid, mean_seen)
    rel = pts - centre[:, None]
    spread = (np.hypot(rel[..., 0], rel[..., 1]) * vis).max(1)
    torso = np.where(torso_seen, np.hypot(*((pts[:, ls] + pts[:, rs]) / 2 - hip_mid).T), 0.0)
    size = np.maximum(torso * POSE_FEATURES["torso_multiplier"], spread)
    size = np.where(size > 1e-6, size, 1.0)
    coords = rel / size[:, None, None] * vis[..., None]
    a, b, c = _ANGLES.T
    u, v = pts[:, a] - pts[:, b], pts[:, c] - pts[:, b]
    norm = np.hypot(u[..., 0], u[..., 1]) * np.hypot(v[..., 0], v[..., 1])
    seen = vis[:, a] * vis[:, b] * vis[:, c] * (norm > 1e-9)
    norm = np.where(norm > 1e-9, norm, 1.0)
    cos = (u[..., 0] * v[..., 0] + u[..., 1] * v[..., 1]) / norm * seen
    sin = (u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]) / norm * seen  # signed: mirroring flips it
    p, q = _PAIRS.T
    d = pts[:, p] - pts[:, q]
    dist = np.hypot(d[..., 0], d[..., 1]) / size[:, None] * vis[:, p] * vis[:, q]
    angles = np.stack([cos, sin], axis=2).reshape(len(kps), -1)
    return np.concatenate([coords[..., 0], coords[..., 1], vis, angles, dist], axis=1).astype(np.float32)


def pose_vector(keypoints: list[dict]) -> np.ndarray:
    return pose_matrix(keypoint_array(keypoints)[None])[0]


def keypoint_matrix(kps: np.ndarray) -> np.ndarray:
    """(N, 17, 3) -> (N, 51) `keypoints` vectors."""
    return np.stack([keypoint_vector([{"name": n, "x": k[0], "y": k[1], "score": k[2]} for n, k in zip(COCO17, row)])
                     for row in np.asarray(kps)]) if len(kps) else np.zeros((0, KEYPOINT_FEATURES), np.float32)


def matrix(kind: str, kps: np.ndarray) -> np.ndarray:
    """Feature rows of a keypoint kind from (N, 17, 3) keypoints ((N, 17, 6) with the world landmarks
    for WORLD_KINDS)."""
    kps = np.asarray(kps)
    if kps.ndim != 3 or kps.shape[2] != input_columns(kind):
        raise ValueError(f"{kind} features take (N, {len(COCO17)}, {input_columns(kind)}) keypoints, got {kps.shape}"
                         + (" (without world landmarks: a BlazePose backbone gives them)" if kind in WORLD_KINDS else ""))
    if kind == "world":
        return world_matrix(kps)
    return pose_matrix(kps) if kind == "pose" else keypoint_matrix(kps)


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the last axis, and whether each had a length (zero vectors stay zero)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-9, n, 1.0), n[..., 0] > 1e-9


def world_matrix(kps: np.ndarray) -> np.ndarray:
    """(N, 17, 6) keypoints with world landmarks -> (N, 112) `world` vectors: `keypoints`, then the
    3-D angle cosines and the points in the body's frame (web/js/common/features.js makeWorldVector
    does the same for one pose, step for step)."""
    kps = np.asarray(kps, dtype=np.float64)
    if not np.isfinite(kps).all():
        raise ValueError("keypoints contain NaN or infinity")
    w = kps[..., 3:6]
    a, b, c = _WORLD_ANGLES.T
    u, ok_u = _unit(w[:, a] - w[:, b])
    v, ok_v = _unit(w[:, c] - w[:, b])
    cos = (u * v).sum(-1) * ok_u * ok_v
    lh, rh, ls, rs = (_INDEX[n] for n in ("left_hip", "right_hip", "left_shoulder", "right_shoulder"))
    hip, up = (w[:, lh] + w[:, rh]) / 2, (w[:, ls] + w[:, rs]) / 2 - (w[:, lh] + w[:, rh]) / 2
    torso, ok_t = _unit(up)
    h, k = _TORSO_THIGH.T
    thigh, ok_h = _unit(w[:, k] - w[:, h])
    torso_thigh = (torso[:, None] * thigh).sum(-1) * ok_h * ok_t[:, None]
    # The body's frame: x from the left hip to the right, y up the torso made orthogonal to x, z = x cross y.
    x, ok_x = _unit(w[:, rh] - w[:, lh])
    y, ok_y = _unit(up - (up * x).sum(-1, keepdims=True) * x)
    z = np.cross(x, y)
    rel = w - hip[:, None]
    length = np.linalg.norm(up, axis=-1)
    ok = ok_x & ok_y & (length > 1e-6)
    scale = np.where(ok, 1 / np.where(ok, length, 1.0), 0.0)[:, None]
    body = [(rel * axis[:, None]).sum(-1) * scale for axis in (x, y, z)]
    return np.concatenate([keypoint_matrix(kps[..., :3]), cos, torso_thigh, *body], axis=1).astype(np.float32)


def pose_inputs(kind: str, pose) -> np.ndarray:
    """A runtime/ pose (.keypoints, .extra) -> its (17, input_columns(kind)) input row."""
    return person_inputs(kind, pose.keypoints, (getattr(pose, "extra", None) or {}).get("world"))


def person_inputs(kind: str, keypoints: list[dict], world=None) -> np.ndarray:
    """A person's keypoints [{name, x, y, score}] and world landmarks (world_array's; None when the
    backbone gives none) -> its (17, input_columns(kind)) input row. Every place that classifies a
    person (training, the edge node, poseio) builds its rows here."""
    if kind not in WORLD_KINDS:
        return keypoint_array(keypoints)
    if world is None:
        raise ValueError(f"{kind} features need BlazePose's world landmarks, which this pose does not carry")
    return world_array(keypoints, world)


def world_array(keypoints: list[dict], world) -> np.ndarray:
    """A pose's keypoints [{name, x, y, score}] and its world landmarks, one (x, y, z) per keypoint in
    the same order (runtime/ BlazePose's extra["world"]) or [{name, x, y, z}] (the page's keypoints3D)
    -> (17, 6)."""
    if len(world) != len(keypoints):
        raise ValueError(f"{len(world)} world landmarks for {len(keypoints)} keypoints")
    rows = [(p["x"], p["y"], p["z"]) if isinstance(p, dict) else tuple(p) for p in world]
    by_name = {k["name"]: r for k, r in zip(keypoints, rows)}
    return np.concatenate([keypoint_array(keypoints), np.array([by_name[n] for n in COCO17], dtype=np.float64)], axis=1)


def keypoint_vector(keypoints: list[dict]) -> np.ndarray:
    by_name = {k["name"]: k for k in keypoints}
    pts = np.array([[by_name[n]["x"], by_name[n]["y"]] for n in COCO17], dtype=np.float64)
    scores = np.array([by_name[n]["score"] for n in COCO17], dtype=np.float64)
    if not np.isfinite(pts).all() or not np.isfinite(scores).all():
        raise ValueError("keypoints contain NaN or infinity")
    hips = [COCO17.index("left_hip"), COCO17.index("right_hip")]
    if (scores[hips] >= MIN_SCORE).all():
        centre = pts[hips].mean(axis=0)
    else:
        weights = scores + 1e-6
        centre = (pts * weights[:, None]).sum(axis=0) / weights.sum()
    seen = scores >= MIN_SCORE
    spread = np.linalg.norm(pts[seen] - centre, axis=1).max() if seen.any() else 0.0
    scale = spread if spread > 1e-6 else 1.0
    norm = (pts - centre) / scale
    return np.concatenate([norm[:, 0], norm[:, 1], scores]).astype(np.float32)
