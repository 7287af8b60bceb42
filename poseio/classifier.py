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
from core.dense_model import Unsupported, check_fits, forward, load_layers, read_shards

REJECTED_LABEL = "unknown"  # web/js/live/classifier.js: under the rejection threshold


class Classifier:
    """spec: {name, version, dir, features, labels, threshold, normalisation?} (the registry's row)."""

    def __init__(self, spec: dict):
        self.name, self.version, self.kind = spec["name"], spec["version"], spec["features"]
        if self.kind not in features.KINDS:
            raise Unsupported(f"{self.name}: unknown feature kind {self.kind!r}")
        if not features.same_pose_table(self.kind, spec.get("normalisation")):
            raise Unsupported(f"{self.name} was trained with another pose feature table than web/pose-tables.json")
        folder = Path(spec["dir"])
        model_json = json.loads((folder / "model.json").read_text())
        self.layers = load_layers(model_json, read_shards(folder, model_json))
        self.labels = list(spec["labels"])
        check_fits(self.layers, features.size_of(self.kind), self.labels, self.kind)
        threshold = spec.get("threshold")
        self.threshold = float(threshold) if isinstance(threshold, (int, float)) else 0.0

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """(N, inputs) -> (N, classes) probabilities, in float32 as TF.js computes them."""
        return forward(self.layers, rows)

    def _label(self, row: np.ndarray) -> dict:
        best = int(np.argmax(row))
        confidence = float(row[best])
        return {"label": REJECTED_LABEL if confidence < self.threshold else self.labels[best],
                "confidence": confidence,
                "probabilities": {label: float(p) for label, p in zip(self.labels, row)}}

    def classify_tm(self, tm_features: np.ndarray) -> dict:
        """A Teachable Machine model's label for the whole image, from PoseNet's features."""
        return self._label(self.predict(np.asarray(tm_features, dtype=np.float32)[None])[0])

    def classify(self, keypoint_lists: list[list[dict]]) -> list[dict]:
        """Each person's COCO-17 keypoints -> {label, confidence, probabilities}; a top probability
        under the model's rejection threshold is the label `unknown`, as on the page."""
        if self.kind == "tm":
            raise Unsupported("a Teachable Machine model classifies the whole image (classify_tm)")
        if not keypoint_lists:
            return []
        kps = np.stack([features.keypoint_array(k) for k in keypoint_lists])
        return [self._label(row) for row in self.predict(features.matrix(self.kind, kps))]
