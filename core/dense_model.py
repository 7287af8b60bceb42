"""A classifier exported as a TF.js layers model (model.json + weight shards, float32 or quantised) run in
numpy: the page's classifiers are a stack of Dense layers (Dropout is the identity at inference),
so the forward pass is a few matrix products and needs no TensorFlow. The one reader used by
`posecast evaluate` (training/exported.py), the inference workers (poseio/classifier.py) and the
edge node (edge/classifier.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_WEIGHT_BYTES = 64 * 1024 * 1024  # a pose classifier is a few hundred kB


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "softmax": _softmax,
}


class Unsupported(ValueError):
    """The model cannot run here (its layers, weights or files); the message says why."""


@dataclass(frozen=True)
class Layer:
    kernel: np.ndarray
    bias: np.ndarray | None
    activation: str


def weight_paths(model_json: dict) -> list[str]:
    """The shard file names of the manifest: plain names next to model.json, nothing else."""
    paths = [p for group in model_json.get("weightsManifest", []) for p in group["paths"]]
    if any(not isinstance(p, str) or "/" in p or "\\" in p or p.startswith(".") for p in paths):
        raise Unsupported("weight paths must be plain file names next to model.json")
    return paths


def read_shards(folder: Path, model_json: dict) -> list[bytes]:
    """The weight shards of an export folder, size-checked before they are read."""
    paths = weight_paths(model_json)
    missing = [p for p in paths if not (folder / p).is_file()]
    if missing:
        raise Unsupported(f"weight file {missing[0]} is missing")
    if sum((folder / p).stat().st_size for p in paths) > MAX_WEIGHT_BYTES:
        raise Unsupported("the weights are too large for a pose classifier")
    return [(folder / p).read_bytes() for p in paths]


# TF.js' weight quantisations: bytes per value, and how a stored value becomes a float32
# (tfjs-core io_utils.decodeWeight): float16 as is, uint8/uint16 as q * scale + min.
QUANTIZED = {"float16": ("<f2", 2), "uint8": ("<u1", 1), "uint16": ("<u2", 2)}


def parse_weights(model_json: dict, shards: list[bytes]) -> dict[str, np.ndarray]:
    """The manifest's float32 tensors, read from the concatenated shards, stored as float32 or
    quantised the way TF.js reads them (float16, uint8, uint16)."""
    blob = b"".join(shards)
    out, offset = {}, 0
    for group in model_json.get("weightsManifest", []):
        for spec in group["weights"]:
            stored, size, quant = _stored_as(spec)
            shape = [int(d) for d in spec["shape"]]
            end = offset + size * int(np.prod(shape, dtype=np.int64))
            if end > len(blob):
                raise Unsupported("the weight files are shorter than the manifest says")
            values = np.frombuffer(blob[offset:end], dtype=stored).astype(np.float32)
            if quant.get("dtype") in ("uint8", "uint16"):
                values = values * np.float32(quant["scale"]) + np.float32(quant["min"])
            out[spec["name"]] = values.reshape(shape)
            offset = end
    if offset != len(blob):
        raise Unsupported("the weight files are longer than the manifest says")
    return out


def _stored_as(spec: dict) -> tuple[str, int, dict]:
    """(numpy dtype of the stored values, bytes per value, the quantisation or {})."""
    quant = spec.get("quantization") or {}
    if spec.get("dtype", "float32") != "float32":
        raise Unsupported(f"weight {spec['name']}: only float32 weights are supported, not {spec.get('dtype')}")
    if not quant:
        return "<f4", 4, {}
    if quant.get("dtype") not in QUANTIZED:
        raise Unsupported(f"weight {spec['name']}: unknown quantisation {quant.get('dtype')!r}")
    if quant["dtype"] != "float16" and not all(isinstance(quant.get(k), (int, float)) for k in ("min", "scale")):
        raise Unsupported(f"weight {spec['name']}: {quant['dtype']} quantisation without min and scale")
    return (*QUANTIZED[quant["dtype"]], quant)


def _layer_configs(topology: dict) -> list[dict]:
    config = topology.get("model_config", topology)
    if config.get("class_name") != "Sequential":
        raise Unsupported(f"only Sequential models are supported, not {config.get('class_name')}")
    inner = config["config"]
    return inner["layers"] if isinstance(inner, dict) else inner


def build_layers(model_json: dict, weights: dict[str, np.ndarray]) -> list[Layer]:
    """The Dense layers in order, their weights found by layer name, their shapes chained."""
    layers = []
    for layer in _layer_configs(model_json["modelTopology"]):
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
    if any(a.kernel.shape[1] != b.kernel.shape[0] for a, b in zip(layers, layers[1:])):
        raise Unsupported("the layers' shapes do not chain")
    return layers


def load_layers(model_json: dict, shards: list[bytes]) -> list[Layer]:
    return build_layers(model_json, parse_weights(model_json, shards))


def check_fits(layers: list[Layer], inputs: int, labels: list, kind: str) -> None:
    """The model must take the feature vector's size and give one output per label."""
    if layers[0].kernel.shape[0] != inputs:
        raise Unsupported(f"the model takes {layers[0].kernel.shape[0]} inputs; {kind} features have {inputs}")
    if layers[-1].kernel.shape[1] != len(labels):
        raise Unsupported("the model's outputs do not match its labels")


def forward(layers: list[Layer], rows) -> np.ndarray:
    """(N, inputs) -> (N, outputs), in float32 as TF.js computes it."""
    x = np.asarray(rows, dtype=np.float32)
    for layer in layers:
        x = x @ layer.kernel
        if layer.bias is not None:
            x = x + layer.bias
        x = ACTIVATIONS[layer.activation](x).astype(np.float32)
    return x


REJECTED_LABEL = "unknown"  # web/js/live/classifier.js: under the rejection threshold


class PoseClassifier:
    """An exported dense classifier on keypoint features, as the page's classifier.js runs it:
    its pose-feature table checked against ours, its layers checked to fit the features and the
    labels, and the rejection threshold under which the label is `unknown`. The edge node and the
    inference workers wrap it (where its files come from, what they classify)."""

    def __init__(self, name: str, kind: str, normalisation, model_json: dict, shards: list[bytes],
                 labels: list, threshold, table_hint: str = ""):
        from core import features

        if not features.same_pose_table(kind, normalisation):
            raise Unsupported(f"{name} was trained with another pose feature table than web/pose-tables.json"
                              + table_hint)
        self.layers = load_layers(model_json, shards)
        self.labels = list(labels)
        check_fits(self.layers, features.size_of(kind), self.labels, kind)
        self.threshold = float(threshold) if isinstance(threshold, (int, float)) else 0.0

    def predict(self, rows) -> np.ndarray:
        """(N, inputs) -> (N, classes) probabilities, in float32 as TF.js computes them."""
        return forward(self.layers, rows)

    def decide(self, row: np.ndarray) -> tuple[str, float]:
        """(label or `unknown`, top probability) of one row of probabilities."""
        best = int(np.argmax(row))
        confidence = float(row[best])
        return (REJECTED_LABEL if confidence < self.threshold else self.labels[best]), confidence
