"""The server's active classifier in plain numpy: the TF.js layers model the page loads
(model.json + its weight shards), run as the dense network it is, with the page's features
(core/features.py, identical to web/js/common/features.js) and its rejection threshold.

Supported: Sequential models of Dense (linear, relu, softmax, sigmoid, tanh) and Dropout
(inference: identity), merged members included, on `pose`, `keypoints` or `world` features (the
last from BlazePose's world landmarks, which edge/pipeline.py's people carry). Teachable Machine
(`tm`) models need PoseNet's 14,739 heatmap features from the whole frame; they are refused with a
clear message (web/js/live/classify.js runs them only on PoseNet, in the browser).
"""
from __future__ import annotations

import json

import numpy as np

from core import features
from core.dense_model import REJECTED_LABEL, MAX_WEIGHT_BYTES, PoseClassifier, Unsupported, weight_paths  # noqa: F401
MAX_PEOPLE = 6  # the page classifies at most six people per frame


class Classifier:
    """spec: the /live `model_activated` payload; model_json and shards: its files; backbone: the
    node's --backbone if it was given (else the node follows the model's)."""

    def __init__(self, spec: dict, model_json: dict, shards: list[bytes], backbone: str | None = None):
        self.spec = spec
        self.kind = spec.get("features")
        if self.kind == "tm":
            raise Unsupported(f"{spec.get('name')} is a Teachable Machine model: it needs PoseNet's heatmap features "
                              "of the whole frame, which the edge node does not compute; activate a model trained "
                              "with `posecast train` (pose, keypoints or world features)")
        if self.kind not in features.KEYPOINT_KINDS:
            raise Unsupported(f"unknown feature kind {self.kind!r}")
        problem = backbone and features.backbone_problem(self.kind, backbone)
        if problem:
            raise Unsupported(f"{spec.get('name')}: {problem} (this node runs --backbone {backbone}; "
                              "without --backbone it follows the model's)")
        self.head = PoseClassifier(spec.get("name"), self.kind, spec.get("normalisation"), model_json, shards,
                                   spec["labels"], spec.get("threshold"), table_hint=": update the edge node")
        self.labels, self.threshold, self.predict = self.head.labels, self.head.threshold, self.head.predict

    def classify(self, poses: list) -> list[dict]:
        """Tracked poses (edge/pipeline.py Person: .id, .keypoints, .world) -> [{person, label,
        confidence}], the most confident pose first, at most six (web/js/live/classifier.js classify).
        A world model classifies nothing on poses without world landmarks, as the page does."""
        if not poses:
            return []
        main = max(poses, key=lambda p: p.score)
        people = ([main] + [p for p in poses if p is not main])[:MAX_PEOPLE]
        if self.kind in features.WORLD_KINDS and any(p.world is None for p in people):
            return []
        kps = np.stack([features.person_inputs(self.kind, p.keypoints, p.world) for p in people])
        probs = self.predict(features.matrix(self.kind, kps))
        out = []
        for pose, row in zip(people, probs):
            label, confidence = self.head.decide(row)
            out.append({"person": max(0, int(pose.id or 0)), "label": label, "confidence": min(1.0, max(0.0, confidence))})
        return out


def load(spec: dict, fetch, backbone: str | None = None) -> Classifier:
    """fetch(url) -> bytes (relative to the server). Downloads model.json and its shards."""
    url = spec.get("url")
    if not isinstance(url, str) or not url.startswith("/models/") or ".." in url:
        raise Unsupported(f"unexpected model url {url!r}")
    model_json = json.loads(fetch(url))
    base = url.rsplit("/", 1)[0]
    paths = weight_paths(model_json)
    shards, total = [], 0
    for p in paths:
        shards.append(fetch(f"{base}/{p}"))
        total += len(shards[-1])
        if total > MAX_WEIGHT_BYTES:
            raise Unsupported("the model's weights are too large for a pose classifier")
    return Classifier(spec, model_json, shards, backbone)
