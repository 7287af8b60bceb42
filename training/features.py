"""Feature extraction for training: run PoseNet on every sample's image. The vectors themselves
are defined once in core/features.py (the server and the pages compute the same ones).

Keypoint kinds (`pose`, `keypoints`) keep the raw keypoints, (N, 17, 3) of x, y, score in image
pixels: training augments them before computing the vectors. `tm` gives its 14,739 features."""
from __future__ import annotations

import numpy as np

from core.features import (DEFAULT_KIND, KEYPOINT_KINDS, KEYPOINT_SPEC, KINDS, POSE_SPEC,  # noqa: F401 (re-exported)
                           TM_FEATURES, keypoint_array, keypoint_vector, matrix, pose_vector, size_of)


def extract(samples, kind: str, posenet, progress=None) -> np.ndarray:
    """Run PoseNet on every sample's image; one input row per sample (see the module's doc)."""
    if kind not in KINDS:
        raise ValueError(f"feature kind must be one of {', '.join(KINDS)}")
    return extract_all(samples, posenet, progress, kinds=(kind,))[kind]


def extract_all(samples, posenet, progress=None, kinds=KINDS) -> dict:
    """One PoseNet pass over the images, every kind's inputs from it: {kind: array}."""
    from .posenet import load_image

    keypoints, tm = [], []
    for i, sample in enumerate(samples):
        out = posenet.run(load_image(sample.path))
        keypoints.append(keypoint_array(out.keypoints()))
        if "tm" in kinds:
            tm.append(out.tm_features())
        if progress:
            progress(i + 1, len(samples))
    kps = np.stack(keypoints) if keypoints else np.zeros((0, 17, 3))
    result = {k: kps for k in kinds if k in KEYPOINT_KINDS}
    if "tm" in kinds:
        result["tm"] = np.stack(tm) if tm else np.zeros((0, TM_FEATURES), np.float32)
    return result
