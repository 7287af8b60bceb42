"""Feature extraction for training: run a backbone of the pose runtime (runtime/, the page's own
weights with the page's pre- and post-processing) on every sample's image. The vectors themselves
are defined once in core/features.py (the server and the pages compute the same ones).

Keypoint kinds (`pose`, `keypoints`) keep the raw keypoints, (N, 17, 3) of x, y, score in image
pixels, the COCO-17 names picked from whatever layout the backbone gives (BlazePose's 33 include
them): training augments them before computing the vectors. `tm` gives its 14,739 features and
needs PoseNet."""
from __future__ import annotations

import numpy as np

from core.features import (DEFAULT_KIND, KEYPOINT_KINDS, KEYPOINT_SPEC, KINDS, POSE_SPEC,  # noqa: F401 (re-exported)
                           TM_FEATURES, TRAIN_BACKBONE, keypoint_array, keypoint_vector, matrix, pose_vector,
                           size_of)

NO_POSE = np.zeros((17, 3))  # every score 0: the vectors mask all of it, as the page does


# Both executors give the same keypoints (0.01 px; BlazePose heavy 0.02 px), so only speed decides.
# OpenVINO ran MoveNet Thunder about 2x slower than TensorFlow on this CPU (211 vs 92-113 ms per
# still image, measured side by side) and BlazePose 1.5-2.6x slower per frame (bench/runtime.py:
# heavy 185 vs 71 ms), so those stay on TensorFlow.
TENSORFLOW_FASTER = frozenset({"movenet-thunder", "blazepose-lite", "blazepose-full", "blazepose-heavy"})


def default_executor(backbone: str = TRAIN_BACKBONE) -> str:
    """OpenVINO when it is installed (the `edge` extra) and not slower for this backbone, else
    TensorFlow."""
    if backbone in TENSORFLOW_FASTER:
        return "tensorflow"
    try:
        import openvino  # noqa: F401
    except ImportError:
        return "tensorflow"
    return "openvino"


def load_backbone(backbone: str = TRAIN_BACKBONE, executor: str | None = None, **options):
    """The runtime's estimator for `backbone` (runtime.BACKBONES)."""
    import runtime

    return runtime.load(backbone, executor or default_executor(backbone), **options)


def extract(samples, kind: str, estimator, progress=None) -> np.ndarray:
    """Run the backbone on every sample's image; one input row per sample (see the module's doc)."""
    if kind not in KINDS:
        raise ValueError(f"feature kind must be one of {', '.join(KINDS)}")
    return extract_all(samples, estimator, progress, kinds=(kind,))[kind]


def keypoints_of(poses) -> np.ndarray:
    """The most confident person's COCO-17 keypoints (17, 3), or NO_POSE when none was found."""
    if not poses:
        return NO_POSE.copy()
    return keypoint_array(max(poses, key=lambda p: p.score).keypoints)


def extract_all(samples, estimator, progress=None, kinds=KINDS) -> dict:
    """One pass of the backbone over the images, every kind's inputs from it: {kind: array}.
    Keypoints come from estimate(), what the page sees of a held pose (its first frame, then the
    refined crop); tm features from PoseNet's full-frame outputs, as Teachable Machine computes them."""
    from .posenet import load_image

    if "tm" in kinds and estimator.backbone != "posenet":
        raise ValueError(f"tm features come from PoseNet only, not {estimator.backbone}")
    keypoints, tm = [], []
    for i, sample in enumerate(samples):
        image = load_image(sample.path)
        keypoints.append(keypoints_of(estimator.estimate(image)))
        if "tm" in kinds:
            tm.append(estimator.outputs(image).tm_features())
        if progress:
            progress(i + 1, len(samples))
    kps = np.stack(keypoints) if keypoints else np.zeros((0, 17, 3))
    result = {k: kps for k in kinds if k in KEYPOINT_KINDS}
    if "tm" in kinds:
        result["tm"] = np.stack(tm) if tm else np.zeros((0, TM_FEATURES), np.float32)
    return result
