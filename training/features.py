"""Feature extraction for training: run PoseNet on every sample's image. The vectors themselves
are defined once in core/features.py (the server and the pages compute the same ones)."""
from __future__ import annotations

import numpy as np

from core.features import KEYPOINT_SPEC, KINDS, TM_FEATURES, keypoint_vector, size_of  # noqa: F401 (re-exported)


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
