"""The classifier's feature vectors, computed the same way wherever a pose comes from.

- `keypoints` (default): the 17 COCO keypoints normalised for position and size, plus their
  scores (51 floats). Works with any backbone's COCO-17 keypoints (BlazePose's subset included).
- `tm`: Teachable Machine's 14,739 PoseNet heatmap scores and offsets.
"""
from __future__ import annotations

import numpy as np

from .tables import COCO17

KINDS = ("keypoints", "tm")
KEYPOINT_FEATURES = 3 * len(COCO17)
# PoseNet 257 px at output stride 16: a 17 x 17 grid of 17 heatmaps and 34 offsets.
TM_GRID = 17
TM_FEATURES = TM_GRID * TM_GRID * (len(COCO17) + 2 * len(COCO17))  # 14,739: Teachable Machine's input
MIN_SCORE = 0.2

# Written into every exported model's metadata, so the page normalises exactly as training did.
KEYPOINT_SPEC = {
    "names": list(COCO17),
    "layout": "x0..x16, y0..y16, score0..score16",
    "centre": f"midpoint of the hips when both score >= {MIN_SCORE}, else the score-weighted mean",
    "scale": f"largest distance from the centre among keypoints scoring >= {MIN_SCORE}",
}


def size_of(kind: str) -> int:
    return {"keypoints": KEYPOINT_FEATURES, "tm": TM_FEATURES}[kind]


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
