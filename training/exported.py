"""An exported classifier read back from its files and run in numpy: posecast's exports
(posecast.json beside a TF.js layers model) and Teachable Machine's (metadata.json). The dense
layers are evaluated directly (core/dense_model.py), so no TensorFlow is needed to classify; the
features are the ones the page computes (core/features.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.dense_model import Unsupported, forward, load_layers, read_shards
from core.features import KEYPOINT_KINDS, KINDS, matrix, same_pose_table, size_of

DEFAULT_BACKBONE = "posenet"  # exports written before `backbone` was recorded were all PoseNet's


class ExportError(ValueError):
    """The folder is not an export this code can run; the message says why."""


@dataclass
class Exported:
    folder: Path
    name: str
    version: str
    kind: str  # pose | keypoints | tm
    labels: list[str]
    backbone: str
    threshold: float | None  # the rejection threshold on the top probability (None: never reject)
    layers: list = field(repr=False, default_factory=list)  # core.dense_model.Layer, first to last

    def rows(self, keypoints: np.ndarray) -> np.ndarray:
        """(N, 17, 3) keypoints -> the model's input rows (keypoint kinds)."""
        return matrix(self.kind, keypoints)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """(N, inputs) -> (N, classes) probabilities."""
        x = np.asarray(rows, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != size_of(self.kind):
            raise ExportError(f"{self.name} takes {size_of(self.kind)} inputs per row, got {x.shape}")
        return forward(self.layers, x)


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
    if not same_pose_table(kind, meta.get("normalisation")):
        raise ExportError("the model was trained with another pose_features table than web/pose-tables.json's")
    labels = meta.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) for x in labels):
        raise ExportError("the model's labels are missing")
    try:
        layers = load_layers(model_json, read_shards(folder, model_json))
    except Unsupported as exc:
        raise ExportError(str(exc)) from None
    if layers[0].kernel.shape[0] != size_of(kind) or layers[-1].kernel.shape[1] != len(labels):
        raise ExportError(f"model shape {layers[0].kernel.shape[0]} -> {layers[-1].kernel.shape[1]} does not fit "
                          f"{kind} features ({size_of(kind)}) and {len(labels)} labels")
    threshold = (meta.get("rejection") or {}).get("threshold")
    backbone = "posenet" if kind == "tm" else meta.get("backbone") or DEFAULT_BACKBONE
    return Exported(folder=folder, name=meta.get("name") or folder.parent.name, version=folder.name, kind=kind,
                    labels=labels, backbone=backbone, threshold=float(threshold) if threshold else None,
                    layers=layers)


__all__ = ["DEFAULT_BACKBONE", "ExportError", "Exported", "KEYPOINT_KINDS", "load"]
