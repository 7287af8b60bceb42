"""Feature extraction for training: run a backbone of the pose runtime (runtime/, the page's own
weights with the page's pre- and post-processing) on every sample's image. The vectors themselves
are defined once in core/features.py (the server and the pages compute the same ones).

Keypoint kinds (`pose`, `keypoints`) keep the raw keypoints, (N, 17, 3) of x, y, score in image
pixels, the COCO-17 names picked from whatever layout the backbone gives (BlazePose's 33 include
them): training augments them before computing the vectors. `world` keeps BlazePose's world
landmarks beside them, (N, 17, 6). `tm` gives its 14,739 features and needs PoseNet."""
from __future__ import annotations

import functools

import numpy as np

from core.features import (DEFAULT_KIND, KEYPOINT_KINDS, KEYPOINT_SPEC, KINDS, POSE_SPEC,  # noqa: F401 (re-exported)
                           TM_FEATURES, TRAIN_BACKBONE, WORLD_KINDS, WORLD_SPEC, backbone_problem, keypoint_array,
                           keypoint_vector, matrix, pose_inputs, pose_vector, size_of)

NO_POSE = np.zeros((17, 3))  # every score 0: the vectors mask all of it, as the page does


def default_executor(backbone: str = TRAIN_BACKBONE) -> str:
    """OpenVINO when it is installed (the `edge` extra), else TensorFlow. Both give the same
    keypoints (0.01 px; on BlazePose heavy's still-image fallback, whose MoveNet seed the landmark
    model amplifies, 7 of yoga5's 1,000 images moved 1-5 px), so speed decides, measured as
    extraction runs them (runtime.parallel: one inference thread per worker process; `bench.runtime
    --threads 1`): OpenVINO took less CPU per still image for every backbone but MoveNet Thunder,
    a tie (BlazePose heavy 113 ms against 134; its landmark model alone 47 against TensorFlow's 55
    and TensorFlow Lite/XNNPACK's 53; README, *Training*)."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return "tensorflow"
    return "openvino"


def load_backbone(backbone: str = TRAIN_BACKBONE, executor: str | None = None, **options):
    """The runtime's estimator for `backbone` (runtime.BACKBONES), in this process."""
    import runtime

    return runtime.load(backbone, executor or default_executor(backbone), **options)


def extractor(backbone: str = TRAIN_BACKBONE, executor: str | None = None, workers: int | None = None, **options):
    """What extract() and extract_all() run fastest on: the backbone in worker processes, one per
    core by default, each on one inference thread (runtime.parallel). Close it (a `with` block)."""
    import runtime
    from runtime.parallel import EstimatorPool

    if backbone not in runtime.BACKBONES:  # here, not in the workers: the caller gets this error
        raise ValueError(f"unknown backbone {backbone!r}: one of {', '.join(runtime.BACKBONES)}")
    return EstimatorPool(backbone, executor or default_executor(backbone), workers, **options)


def extract(samples, kind: str, estimator, progress=None) -> np.ndarray:
    """Run the backbone on every sample's image; one input row per sample (see the module's doc)."""
    if kind not in KINDS:
        raise ValueError(f"feature kind must be one of {', '.join(KINDS)}")
    return extract_all(samples, estimator, progress, kinds=(kind,))[kind]


def keypoints_of(poses, world: bool = False) -> np.ndarray:
    """The most confident person's COCO-17 keypoints (17, 3), or NO_POSE when none was found;
    world: with its world landmarks (17, 6; zeros when none was found)."""
    if not poses:
        return np.zeros((17, 6)) if world else NO_POSE.copy()
    return pose_inputs(WORLD_KINDS[0] if world else "keypoints", max(poses, key=lambda p: p.score))


def model_inputs(estimator, image: np.ndarray, tm: bool = False, world: bool = False) -> tuple:
    """One image's rows: (the keypoints (17, 3) or (17, 6), PoseNet's TM features or None). Runs
    wherever the estimator is (in a worker process with an extractor())."""
    return keypoints_of(estimator.estimate(image), world), (estimator.outputs(image).tm_features() if tm else None)


def extract_all(samples, estimator, progress=None, kinds=None) -> dict:
    """One pass of the backbone over the images, every kind's inputs from it: {kind: array}
    (kinds: by default every kind, but `world` only from a backbone with world landmarks).
    `estimator`: load_backbone()'s (here) or extractor()'s (worker processes; same keypoints).
    Keypoints come from estimate(), what the page sees of a held pose (its first frame, then the
    refined crop); tm features from PoseNet's full-frame outputs, as Teachable Machine computes them.
    Images are decoded here (TensorFlow's decoder, as everywhere in training) and sent to the workers."""
    from .posenet import load_image

    if kinds is None:
        kinds = tuple(k for k in KINDS if k not in WORLD_KINDS or not backbone_problem(k, estimator.backbone))
    if "tm" in kinds and estimator.backbone != "posenet":
        raise ValueError(f"tm features come from PoseNet only, not {estimator.backbone}")
    world = any(k in WORLD_KINDS for k in kinds)
    problem = world and backbone_problem(next(k for k in kinds if k in WORLD_KINDS), estimator.backbone)
    if problem:
        raise ValueError(problem)
    rows = estimator.map(functools.partial(model_inputs, tm="tm" in kinds, world=world),
                         (load_image(s.path) for s in samples))
    keypoints, tm = [], []
    for i, (kps, tm_row) in enumerate(rows):
        keypoints.append(kps)
        if tm_row is not None:
            tm.append(tm_row)
        if progress:
            progress(i + 1, len(samples))
    kps = np.stack(keypoints) if keypoints else np.zeros((0, 17, 6 if world else 3))
    result = {k: kps if k in WORLD_KINDS else kps[..., :3] for k in kinds if k in KEYPOINT_KINDS}
    if "tm" in kinds:
        result["tm"] = np.stack(tm) if tm else np.zeros((0, TM_FEATURES), np.float32)
    return result
