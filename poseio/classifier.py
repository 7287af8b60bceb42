"""An exported classifier (tfjs_models/<name>/<version>/) in plain numpy: the TF.js layers model
the page loads is a stack of Dense layers (Dropout is the identity at inference), so its forward
pass is a few matrix products; no TensorFlow needed. Features come from core/features.py, the
same code training used and the page mirrors.

Teachable Machine (`tm`) models take PoseNet's 14,739 heatmap features of the whole frame
(runtime/posenet.py Outputs.tm_features): they run only on PoseNet and describe the whole image,
not one person (classify_tm)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core import features
from core.dense_model import REJECTED_LABEL, PoseClassifier, Unsupported, read_shards  # noqa: F401 (re-exported)


def backbone_problem(name: str, kind: str, backbone: str) -> str | None:
    """Why model `name` (`kind` features) cannot run on `backbone`, or None: a Teachable Machine
    model needs PoseNet's heatmaps, a `world` model BlazePose's world landmarks. The one rule of
    run(), `posecast poses` and the API (which answers 422 before any work)."""
    if kind == "tm" and backbone != "posenet":
        return f"{name} is a Teachable Machine model: it runs on PoseNet only (backbone posenet)"
    problem = features.backbone_problem(kind, backbone)
    return problem and f"{name}: {problem}"


class Classifier:
    """spec: {name, version, dir, features, labels, threshold, normalisation?} (the registry's row)."""

    def __init__(self, spec: dict):
        self.name, self.version, self.kind = spec["name"], spec["version"], spec["features"]
        if self.kind not in features.KINDS:
            raise Unsupported(f"{self.name}: unknown feature kind {self.kind!r}")
        folder = Path(spec["dir"])
        model_json = json.loads((folder / "model.json").read_text())
        self.head = PoseClassifier(self.name, self.kind, spec.get("normalisation"), model_json,
                                   read_shards(folder, model_json), spec["labels"], spec.get("threshold"))
        self.labels, self.threshold, self.predict = self.head.labels, self.head.threshold, self.head.predict

    def _label(self, row: np.ndarray) -> dict:
        label, confidence = self.head.decide(row)
        return {"label": label, "confidence": confidence,
                "probabilities": {label: float(p) for label, p in zip(self.labels, row)}}

    def classify_tm(self, tm_features: np.ndarray) -> dict:
        """A Teachable Machine model's label for the whole image, from PoseNet's features."""
        return self._label(self.predict(np.asarray(tm_features, dtype=np.float32)[None])[0])

    def classify(self, keypoint_lists: list[list[dict]], worlds: list | None = None) -> list[dict]:
        """Each person's COCO-17 keypoints (and, for a world model, its world landmarks: runtime/
        BlazePose's pose.extra["world"]) -> {label, confidence, probabilities}; a top probability
        under the model's rejection threshold is the label `unknown`, as on the page."""
        if self.kind == "tm":
            raise Unsupported("a Teachable Machine model classifies the whole image (classify_tm)")
        if not keypoint_lists:
            return []
        worlds = worlds if worlds is not None else [None] * len(keypoint_lists)
        if self.kind in features.WORLD_KINDS and any(w is None for w in worlds):
            raise Unsupported(f"{self.name} uses {self.kind} features: they need BlazePose's world landmarks "
                              "besides the keypoints, run it with a BlazePose backbone")
        kps = np.stack([features.person_inputs(self.kind, k, w) for k, w in zip(keypoint_lists, worlds, strict=True)])
        return [self._label(row) for row in self.predict(features.matrix(self.kind, kps))]
