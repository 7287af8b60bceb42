"""Export a trained classifier to TF.js: Teachable Machine's pose format (tm features) or an
ml5.neuralNetwork-loadable set (keypoint kinds: pose, keypoints, world), each with posecast's own metadata
(posecast.json: which features the page computes, the rejection threshold, the evaluation)."""
from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from core.tables import POSE_FEATURES

from .features import KEYPOINT_SPEC, POSE_SPEC, WORLD_SPEC, size_of

TFJS_VERSION = "4.22.0"
TM_VERSION = "0.8.6"  # the version of the real Teachable Machine exports we read and write
POSENET_SETTINGS = {"architecture": "MobileNetV1", "outputStride": 16, "inputResolution": 257, "multiplier": 0.75}


def _layers_model(model, out_dir: Path, weights_name: str, float16: bool = False) -> dict:
    """tensorflowjs' layers-model files, with the single weight shard renamed (and its weights
    stored as float16 if asked)."""
    import tensorflowjs as tfjs

    with tempfile.TemporaryDirectory() as tmp:
        tfjs.converters.save_keras_model(model, tmp)
        topology = json.loads((Path(tmp) / "model.json").read_text())
        shards = [p for group in topology["weightsManifest"] for p in group["paths"]]
        blob = b"".join((Path(tmp) / shard).read_bytes() for shard in shards)
    weights = [w for group in topology["weightsManifest"] for w in group["weights"]]
    topology["weightsManifest"] = [{"paths": [weights_name], "weights": weights}]
    if float16:
        blob = to_float16(topology, blob)
    (out_dir / weights_name).write_bytes(blob)
    return topology


def to_float16(topology: dict, blob: bytes) -> bytes:
    """The float32 weights of a layers model stored as float16, TF.js' own quantisation (the page,
    ml5 and core/dense_model decode it): half the bytes every live page downloads. On yoga5/6's
    1,000 rows and 3,000 jittered copies the probabilities moved by at most 0.0011 and no label
    or rejection changed. Updates the manifest in place; returns the new shard."""
    out, offset = [], 0
    for spec in (w for group in topology["weightsManifest"] for w in group["weights"]):
        if spec.get("dtype", "float32") != "float32" or "quantization" in spec:
            raise ValueError(f"weight {spec['name']} is not plain float32")
        end = offset + 4 * int(np.prod(spec["shape"], dtype=np.int64))
        out.append(np.frombuffer(blob[offset:end], dtype="<f4").astype("<f2").tobytes())
        spec["quantization"] = {"dtype": "float16"}
        offset = end
    if offset != len(blob):
        raise ValueError("the weights are longer than the manifest says")
    return b"".join(out)


def _normalisation(kind: str):
    if kind == "pose":  # the table itself travels with the model: it stays right if the page's changes
        return {**POSE_SPEC, "pose_features": POSE_FEATURES}
    return {"keypoints": KEYPOINT_SPEC, "world": WORLD_SPEC}.get(kind, "none (raw PoseNet outputs)")


def export(model, classes: list[str], kind: str, out_dir: Path, *, name: str, report: dict,
           backbone: str = "posenet") -> Path:
    """Write the model into out_dir (created, must not exist yet); returns out_dir."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    posecast_meta = {
        "name": name, "features": kind, "inputs": size_of(kind), "labels": classes,
        "backbone": backbone, "created": stamp,
        "normalisation": _normalisation(kind),
        "metrics": report.get("validation"),
        # The page says "no known pose" when the top probability is under this (None: never).
        "rejection": (report.get("validation") or {}).get("rejection"),
        "chiral": report.get("chiral", []), "augmentation": report.get("augmentation"),
        # How it was trained (the trainer's model table shows it): models merged, epochs each, the
        # regularisers (training/recipe.py).
        "training": {"ensemble": report.get("ensemble", 1), "epochs": report.get("epochs"), "recipe": report.get("recipe")},
        "weights": "float32" if kind == "tm" else "float16",
    }
    if kind == "tm":
        topology = _layers_model(model, tmp, "weights.bin")
        (tmp / "model.json").write_text(json.dumps(topology))
        (tmp / "metadata.json").write_text(json.dumps({
            "tfjsVersion": TFJS_VERSION, "tmVersion": TM_VERSION, "packageVersion": TM_VERSION,
            "packageName": "@teachablemachine/pose", "timeStamp": stamp, "userMetadata": {"posecast": posecast_meta},
            "modelName": name, "labels": classes, "modelSettings": {"posenet": POSENET_SETTINGS},
        }))
    else:
        # float16: a Teachable Machine export stays float32 as Teachable Machine writes it
        topology = _layers_model(model, tmp, "model.weights.bin", float16=True)
        (tmp / "model.json").write_text(json.dumps(topology))
        n = size_of(kind)
        (tmp / "model_meta.json").write_text(json.dumps({
            "inputUnits": [n], "outputUnits": len(classes),
            "inputs": {f"k{i}": {"dtype": "number", "min": -1, "max": 1} for i in range(n)},
            "outputs": {"label": {"dtype": "string", "min": 0, "max": 1, "uniqueValues": classes,
                                  "legend": {c: [int(i == j) for j in range(len(classes))] for i, c in enumerate(classes)}}},
            "isNormalized": False,
        }))
    (tmp / "posecast.json").write_text(json.dumps(posecast_meta, indent=2))
    (tmp / "report.json").write_text(json.dumps(report, indent=2))
    if out_dir.exists():
        raise FileExistsError(f"{out_dir} exists already")
    tmp.rename(out_dir)
    return out_dir
