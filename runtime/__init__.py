"""Pose runtimes in Python from the very TF.js weight files the page loads, below the server and
training. One pre- and post-processing per backbone (posenet.py, movenet.py, blazepose.py), a
swappable model executor (executors.py: TensorFlow or OpenVINO).

    est = runtime.load("movenet-thunder", executor="openvino")
    poses = est.estimate(rgb_uint8_hwc)   # [Pose(score, keypoints=[{name, x, y, score}], box)]
"""
from __future__ import annotations

from .estimator import Estimator, Pose
from .executors import EXECUTORS

__all__ = ["BACKBONES", "EXECUTORS", "Estimator", "Pose", "load"]

BACKBONES = ("posenet", "movenet-lightning", "movenet-thunder", "movenet-multipose",
             "blazepose-lite", "blazepose-full", "blazepose-heavy")


def load(backbone: str, executor: str = "tensorflow", **options) -> Estimator:
    """options go to the executor: for OpenVINO, precision ("f32" by default), cache_dir and threads;
    BlazePose also takes still_fallback ("movenet", the default, or "none": see blazepose.py)."""
    if backbone == "posenet":
        from .posenet import PoseNet

        return PoseNet(executor, **options)
    if backbone in ("movenet-lightning", "movenet-thunder"):
        from .movenet import MoveNetSingle

        return MoveNetSingle(backbone, executor, **options)
    if backbone == "movenet-multipose":
        from .movenet import MoveNetMulti

        return MoveNetMulti(executor, **options)
    if backbone.startswith("blazepose-"):
        from .blazepose import BlazePose

        return BlazePose(backbone, executor, **options)
    raise ValueError(f"unknown backbone {backbone!r}: one of {', '.join(BACKBONES)}")
