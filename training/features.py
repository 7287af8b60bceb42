"""Features for the classifier.

- `keypoints` (default): 17 keypoints normalised for position and size, plus their scores
  (51 floats). Works with any backbone's COCO-17 keypoints.
- `tm`: Teachable Machine's 14,739 PoseNet heatmap scores and offsets.
"""
from __future__ import annotations

import numpy as np

from .posenet import PART_NAMES, TM_FEATURES

KINDS = ("keypoints", "tm")
KEYPOINT_FEATURES = 3 * len(PART_NAMES)
MIN_SCORE = 0.2

# Written into every exported model's metadata, so the page normalises exactly as training did.
KEYPOINT_SPEC = {
    "names": list(PART_NAMES),
    "layout": "x0..x16, y0..y16, score0..score16",
    "centre": f"midpoint of the hips when both score >= {MIN_SCORE}, else the score-weighted mean",
    "scale": f"largest distance from the centre among keypoints scoring >= {MIN_SCORE}",
}


def size_of(kind: str) -> int:
    return {"keypoints": KEYPOINT_FEATURES, "tm": TM_FEATURES}[kind]


def keypoint_vector(keypoints: list[dict]) -> np.ndarray:
    by_name = {k["name"]: k for k in keypoints}
    pts = np.array([[by_name[n]["x"], by_name[n]["y"]] for n in PART_NAMES], dtype=np.float64)
    scores = np.array([by_name[n]["score"] for n in PART_NAMES], dtype=np.float64)
    if not np.isfinite(pts).all() or not np.isfinite(scores).all():
        raise ValueError("keypoints contain NaN or infinity")
    hips = [PART_NAMES.index("left_hip"), PART_NAMES.index("right_hip")]
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


def extract(samples, kind: str, posenet, progress=None) -> np.ndarray:
    """Run PoseNet on every sample's image; one feature row per sample."""
    from .posenet import load_image

    if kind not in KINDS:
        raise ValueError(f"feature kind must be one of {', '.join(KINDS)}")
    rows = np.empty((len(samples), size_of(kind)), dtype=np.float32)
    for i, sample in enumerate(samples):
        out = posenet.run(load_image(sample.path))
        rows[i] = out.tm_features() if kind == "tm" else keypoint_vector(out.keypoints())
        if progress:
            progress(i + 1, len(samples))
    return rows
