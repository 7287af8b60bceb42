"""An exported classifier read back from its files and run in numpy: posecast's exports
(posecast.json beside a TF.js layers model) and Teachable Machine's (metadata.json). The dense
layers are evaluated directly (Dropout is the identity at inference), so no TensorFlow is needed
to classify; the features are the ones the page computes (core/features.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.features import KEYPOINT_KINDS, KINDS, matrix, size_of
from core.tables import POSE_FEATURES

DEFAULT_BACKBONE = "posenet"  # exports written before `backbone` was recorded were all PoseNet's
ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": lambda x: _softmax(x),
}


class ExportError(ValueError):
    """The folder is not an export this code can run; the message says why."""


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class Exported:
    folder: Path
    name: str
    version: str
    kind: str  # pose | keypoints | tm
    labels: list[str]
    backbone: str
    threshold: float | None  # the rejection threshold on the top probability (None: never reject)
    layers: list = field(repr=False, default_factory=list)  # [(kernel, bias or None, activation)]

    def rows(self, keypoints: np.ndarray) -> np.ndarray:
        """(N, 17, 3) keypoints -> the model's input rows (keypoint kinds)."""
        return matrix(self.kind, keypoints)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """(N, inputs) -> (N, classes) probabilities."""
        x = np.asarray(rows, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != size_of(self.kind):
            raise ExportError(f"{self.name} takes {size_of(self.kind)} inputs per row, got {x.shape}")
        for kernel, bias, activation in self.layers:
            x = x @ kernel
            if bias is not None:
                x = x + bias
            x = ACTIVATIONS[activation](x)
        return x


def _layers(topology: dict) -> list[dict]:
    config = topology.get("model_config", topology)
    if config.get("class_name") != "Sequential":
        raise ExportError("only Sequential models are supported")
    inner = config["config"]
    return inner["layers"] if isinstance(inner, dict) else inner


def _weights(folder: Path, manifest: list[dict]) -> dict[str, np.ndarray]:
    out = {}
    for group in manifest:
        data = b"".join((folder / p).read_bytes() for p in group["paths"] if _inside(folder, p))
        offset = 0
        for w in group["weights"]:
            if w.get("dtype", "float32") != "float32" or "quantization" in w:
                raise ExportError(f"weight {w['name']}: only float32 weights are supported")
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            if offset + 4 * n > len(data):
                raise ExportError(f"the weight files are shorter than model.json says ({w['name']})")
            out[w["name"]] = np.frombuffer(data, "<f4", n, offset).reshape(w["shape"])
            offset += 4 * n
    return out


def _inside(folder: Path, name: str) -> bool:
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        raise ExportError(f"weight path {name!r} leaves the export folder")
    if not path.exists():
        raise ExportError(f"weight file {name} is missing")
    return True


def _dense(topology: dict, weights: dict) -> list:
    out = []
    for layer in _layers(topology):
        kind, cfg = layer["class_name"], layer["config"]
        if kind in ("InputLayer", "Dropout"):
            continue
        if kind != "Dense":
            raise ExportError(f"layer {kind} is not supported (Dense, Dropout only)")
        activation = cfg.get("activation", "linear")
        if activation not in ACTIVATIONS:
            raise ExportError(f"activation {activation} is not supported")
        name = cfg["name"]
        if f"{name}/kernel" not in weights:
            raise ExportError(f"no weights for layer {name}")
        out.append((weights[f"{name}/kernel"], weights.get(f"{name}/bias") if cfg.get("use_bias", True) else None,
                    activation))
    if not out:
        raise ExportError("the model has no dense layers")
    return out


def load(folder: Path) -> Exported:
    """Read an export folder (model.json and its weights, posecast.json or Teachable Machine's
    metadata.json)."""
    folder = Path(folder)
    if not (folder / "model.json").is_file():
        raise ExportError(f"{folder} has no model.json")
    model_json = json.loads((folder / "model.json").read_text())
    if (folder / "posecast.json").is_file():
        meta = json.loads((folder / "posecast.json").read_text())
    elif (folder / "metadata.json").is_file():
        tm = json.loads((folder / "metadata.json").read_text())
        if tm.get("packageName") != "@teachablemachine/pose":
            raise ExportError(f"{folder}/metadata.json is not a Teachable Machine pose model")
        meta = {**(tm.get("userMetadata") or {}).get("posecast", {}), "features": "tm", "labels": tm["labels"],
                "name": tm.get("modelName") or folder.name}
    else:
        raise ExportError(f"{folder} has neither posecast.json nor metadata.json")
    kind = meta.get("features")
    if kind not in KINDS:
        raise ExportError(f"unknown feature kind {kind!r}")
    table = (meta.get("normalisation") or {}).get("pose_features") if isinstance(meta.get("normalisation"), dict) else None
    if kind == "pose" and table is not None and table != POSE_FEATURES:
        raise ExportError("the model was trained with another pose_features table than web/pose-tables.json's")
    labels = meta.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) for x in labels):
        raise ExportError("the model's labels are missing")
    layers = _dense(model_json["modelTopology"], _weights(folder, model_json["weightsManifest"]))
    if layers[0][0].shape[0] != size_of(kind) or layers[-1][0].shape[1] != len(labels):
        raise ExportError(f"model shape {layers[0][0].shape[0]} -> {layers[-1][0].shape[1]} does not fit "
                          f"{kind} features ({size_of(kind)}) and {len(labels)} labels")
    threshold = (meta.get("rejection") or {}).get("threshold")
    backbone = "posenet" if kind == "tm" else meta.get("backbone") or DEFAULT_BACKBONE
    return Exported(folder=folder, name=meta.get("name") or folder.parent.name, version=folder.name, kind=kind,
                    labels=labels, backbone=backbone, threshold=float(threshold) if threshold else None,
                    layers=layers)


__all__ = ["DEFAULT_BACKBONE", "ExportError", "Exported", "KEYPOINT_KINDS", "load"]
