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

REJECTED_LABEL = "unknown"  # web/js/live/classifier.js: under the rejection threshold
MAX_WEIGHT_BYTES = 64 << 20  # a keypoint classifier is a few hundred kB
ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": lambda x: (lambda e: e / e.sum(axis=1, keepdims=True))(np.exp(x - x.max(axis=1, keepdims=True))),
}


class Unsupported(ValueError):
    """This model cannot run here; the message says why."""


def _read_weights(folder: Path, manifest: list) -> dict[str, np.ndarray]:
    paths = [p for group in manifest for p in group["paths"]]
    if any("/" in p or "\\" in p or p.startswith(".") for p in paths):
        raise Unsupported("weight paths must be plain file names next to model.json")
    if sum((folder / p).stat().st_size for p in paths) > MAX_WEIGHT_BYTES:
        raise Unsupported("the weights are too large for a pose classifier")
    blob = b"".join((folder / p).read_bytes() for p in paths)
    out, offset = {}, 0
    for group in manifest:
        for spec in group["weights"]:
            if spec.get("dtype", "float32") != "float32" or "quantization" in spec:
                raise Unsupported(f"weight {spec['name']}: only unquantised float32 weights are supported")
            shape = [int(d) for d in spec["shape"]]
            end = offset + 4 * int(np.prod(shape, dtype=np.int64))
            if end > len(blob):
                raise Unsupported("the weight files are shorter than the manifest says")
            out[spec["name"]] = np.frombuffer(blob[offset:end], dtype="<f4").reshape(shape)
            offset = end
    return out


def _dense_layers(model_json: dict, weights: dict) -> list[tuple[np.ndarray, np.ndarray | None, str]]:
    config = model_json["modelTopology"].get("model_config", model_json["modelTopology"])
    if config.get("class_name") != "Sequential":
        raise Unsupported(f"only Sequential models are supported, not {config.get('class_name')}")
    layers = config["config"]["layers"] if isinstance(config["config"], dict) else config["config"]
    out = []
    for layer in layers:
        kind, cfg = layer["class_name"], layer["config"]
        if kind in ("Dropout", "InputLayer"):
            continue
        if kind != "Dense" or cfg.get("activation", "linear") not in ACTIVATIONS:
            raise Unsupported(f"layer {cfg.get('name')}: only Dense ({', '.join(ACTIVATIONS)}) and Dropout are supported")
        kernel = next((w for k, w in weights.items() if k.endswith(f"{cfg['name']}/kernel")), None)
        bias = next((w for k, w in weights.items() if k.endswith(f"{cfg['name']}/bias")), None)
        if kernel is None or (cfg.get("use_bias", True) and bias is None):
            raise Unsupported(f"layer {cfg['name']}: its weights are missing from the manifest")
        out.append((kernel.astype(np.float32), None if bias is None else bias.astype(np.float32), cfg.get("activation", "linear")))
    if not out or any(a[0].shape[1] != b[0].shape[0] for a, b in zip(out, out[1:])):
        raise Unsupported("the model has no Dense layers, or their shapes do not chain")
    return out


class Classifier:
    """spec: {name, version, dir, features, labels, threshold, normalisation?} (the registry's row)."""

    def __init__(self, spec: dict):
        self.name, self.version, self.kind = spec["name"], spec["version"], spec["features"]
        if self.kind not in features.KINDS:
            raise Unsupported(f"{self.name}: unknown feature kind {self.kind!r}")
        table = (spec.get("normalisation") or {}).get("pose_features")
        if self.kind == "pose" and table is not None and table != features.POSE_FEATURES:
            raise Unsupported(f"{self.name} was trained with another pose feature table than web/pose-tables.json")
        folder = Path(spec["dir"])
        model_json = json.loads((folder / "model.json").read_text())
        self.layers = _dense_layers(model_json, _read_weights(folder, model_json.get("weightsManifest", [])))
        self.labels = list(spec["labels"])
        if self.layers[0][0].shape[0] != features.size_of(self.kind):
            raise Unsupported(f"the model takes {self.layers[0][0].shape[0]} inputs; {self.kind} features have "
                              f"{features.size_of(self.kind)}")
        if self.layers[-1][0].shape[1] != len(self.labels):
            raise Unsupported("the model's outputs do not match its labels")
        threshold = spec.get("threshold")
        self.threshold = float(threshold) if isinstance(threshold, (int, float)) else 0.0

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """(N, inputs) -> (N, classes) probabilities, in float32 as TF.js computes them."""
        x = np.asarray(rows, dtype=np.float32)
        for kernel, bias, activation in self.layers:
            x = x @ kernel
            if bias is not None:
                x = x + bias
            x = ACTIVATIONS[activation](x).astype(np.float32)
        return x

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
