"""The server's active classifier in plain numpy: the TF.js layers model the page loads
(model.json + its weight shards), run as the dense network it is, with the page's features
(core/features.py, identical to web/js/common/features.js) and its rejection threshold.

Supported: Sequential models of Dense (linear, relu, softmax, sigmoid, tanh) and Dropout
(inference: identity) on `pose` or `keypoints` features. Teachable Machine (`tm`) models need
PoseNet's 14,739 heatmap features from the whole frame; they are refused with a clear message
(web/js/live/classify.js runs them only on PoseNet, in the browser).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from core import features

REJECTED_LABEL = "unknown"  # web/js/live/classifier.js REJECTED_LABEL
MAX_PEOPLE = 6  # the page classifies at most six people per frame
ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": lambda x: (lambda e: e / e.sum(axis=1, keepdims=True))(np.exp(x - x.max(axis=1, keepdims=True))),
}
MAX_WEIGHT_BYTES = 64 * 1024 * 1024  # a keypoint classifier is a few hundred kB


class Unsupported(ValueError):
    """The model cannot run on the edge node (its features or layers); the message says why."""


@dataclass(frozen=True)
class Layer:
    kernel: np.ndarray
    bias: np.ndarray | None
    activation: str


def _layers_config(topology: dict) -> list[dict]:
    config = topology.get("model_config", topology)
    if config.get("class_name") != "Sequential":
        raise Unsupported(f"only Sequential models run on the edge node, not {config.get('class_name')}")
    layers = config["config"]["layers"] if isinstance(config["config"], dict) else config["config"]
    return layers


def parse_weights(model_json: dict, shards: list[bytes]) -> dict[str, np.ndarray]:
    """The weights manifest's tensors, read from the concatenated shards (float32 only)."""
    blob = b"".join(shards)
    out, offset = {}, 0
    for group in model_json["weightsManifest"]:
        for spec in group["weights"]:
            if spec.get("dtype", "float32") != "float32" or "quantization" in spec:
                raise Unsupported(f"weight {spec['name']}: only unquantised float32 weights are supported")
            shape = [int(d) for d in spec["shape"]]
            n = int(np.prod(shape)) if shape else 1
            end = offset + 4 * n
            if end > len(blob):
                raise Unsupported("the weight files are shorter than the manifest says")
            out[spec["name"]] = np.frombuffer(blob[offset:end], dtype="<f4").reshape(shape)
            offset = end
    if offset != len(blob):
        raise Unsupported("the weight files are longer than the manifest says")
    return out


def build_layers(model_json: dict, weights: dict[str, np.ndarray]) -> list[Layer]:
    layers = []
    for layer in _layers_config(model_json["modelTopology"]):
        kind, cfg = layer["class_name"], layer["config"]
        if kind in ("Dropout", "InputLayer"):
            continue
        if kind != "Dense":
            raise Unsupported(f"layer {cfg.get('name')} is a {kind}: only Dense and Dropout layers are supported")
        activation = cfg.get("activation", "linear")
        if activation not in ACTIVATIONS:
            raise Unsupported(f"layer {cfg['name']}: activation {activation!r} is not supported")
        name = cfg["name"]
        kernel = next((w for k, w in weights.items() if k.endswith(f"{name}/kernel")), None)
        bias = next((w for k, w in weights.items() if k.endswith(f"{name}/bias")), None)
        if kernel is None or (cfg.get("use_bias", True) and bias is None):
            raise Unsupported(f"layer {name}: its weights are missing from the manifest")
        layers.append(Layer(kernel.astype(np.float32), None if bias is None else bias.astype(np.float32), activation))
    if not layers:
        raise Unsupported("the model has no Dense layer")
    for a, b in zip(layers, layers[1:]):
        if a.kernel.shape[1] != b.kernel.shape[0]:
            raise Unsupported("the layers' shapes do not chain")
    return layers


class Classifier:
    """spec: the /live `model_activated` payload; model_json and shards: its files."""

    def __init__(self, spec: dict, model_json: dict, shards: list[bytes]):
        self.spec = spec
        self.kind = spec.get("features")
        if self.kind == "tm":
            raise Unsupported(f"{spec.get('name')} is a Teachable Machine model: it needs PoseNet's heatmap features "
                              "of the whole frame, which the edge node does not compute; activate a model trained "
                              "with `posecast train` (pose or keypoints features)")
        if self.kind not in features.KEYPOINT_KINDS:
            raise Unsupported(f"unknown feature kind {self.kind!r}")
        table = (spec.get("normalisation") or {}).get("pose_features") if isinstance(spec.get("normalisation"), dict) else None
        if self.kind == "pose" and table is not None and table != features.POSE_FEATURES:
            raise Unsupported(f"{spec.get('name')} was trained with another pose feature table than this node's "
                              "web/pose-tables.json: update the edge node")
        self.layers = build_layers(model_json, parse_weights(model_json, shards))
        self.labels = list(spec["labels"])
        if self.layers[0].kernel.shape[0] != features.size_of(self.kind):
            raise Unsupported(f"the model takes {self.layers[0].kernel.shape[0]} inputs, "
                              f"{self.kind} features have {features.size_of(self.kind)}")
        if self.layers[-1].kernel.shape[1] != len(self.labels):
            raise Unsupported("the model's outputs do not match its labels")
        threshold = spec.get("threshold")
        self.threshold = float(threshold) if isinstance(threshold, (int, float)) else 0.0

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """(N, inputs) float32 -> (N, classes) probabilities, in float32 as TF.js computes them."""
        x = np.asarray(rows, dtype=np.float32)
        for layer in self.layers:
            x = x @ layer.kernel
            if layer.bias is not None:
                x = x + layer.bias
            x = ACTIVATIONS[layer.activation](x).astype(np.float32)
        return x

    def classify(self, poses: list) -> list[dict]:
        """Tracked poses (each with .id and .keypoints) -> [{person, label, confidence}], the most
        confident pose first, at most six (web/js/live/classifier.js classify)."""
        if not poses:
            return []
        main = max(poses, key=lambda p: p.score)
        people = ([main] + [p for p in poses if p is not main])[:MAX_PEOPLE]
        kps = np.stack([features.keypoint_array(p.keypoints) for p in people])
        probs = self.predict(features.matrix(self.kind, kps))
        out = []
        for pose, row in zip(people, probs):
            best = int(np.argmax(row))
            confidence = float(row[best])
            label = REJECTED_LABEL if confidence < self.threshold else self.labels[best]
            out.append({"person": max(0, int(pose.id or 0)), "label": label, "confidence": min(1.0, max(0.0, confidence))})
        return out


def load(spec: dict, fetch) -> Classifier:
    """fetch(url) -> bytes (relative to the server). Downloads model.json and its shards."""
    url = spec.get("url")
    if not isinstance(url, str) or not url.startswith("/models/") or ".." in url:
        raise Unsupported(f"unexpected model url {url!r}")
    model_json = json.loads(fetch(url))
    base = url.rsplit("/", 1)[0]
    paths = [p for group in model_json.get("weightsManifest", []) for p in group["paths"]]
    if any("/" in p or p.startswith(".") for p in paths):
        raise Unsupported("weight paths must be plain file names next to model.json")
    shards, total = [], 0
    for p in paths:
        shards.append(fetch(f"{base}/{p}"))
        total += len(shards[-1])
        if total > MAX_WEIGHT_BYTES:
            raise Unsupported("the model's weights are too large for a pose classifier")
    return Classifier(spec, model_json, shards)
