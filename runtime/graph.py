"""A TF.js graph model (model.json + .bin shards, as the page loads it) rebuilt as a TensorFlow
GraphDef, the one source every executor runs or converts.

tensorflowjs has no graph-model -> SavedModel converter, so the GraphDef is rebuilt from
model.json and its constants filled from the weight files. A few ops are spelled differently in
TF.js graphs than in TensorFlow's kernels and are renamed or completed on the way.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

# As training/__init__.py does (runtime must not import training): tf_keras, not Keras 3, if
# anything downstream touches Keras; quiet TensorFlow; and no decision-forests banner, which
# tensorflowjs's import prints through IPython when stdout is not a terminal (tests, subprocesses).
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")


@dataclass(frozen=True)
class GraphModel:
    graph_def: object  # tf.compat.v1.GraphDef
    input_name: str  # "image:0"
    input_dtype: str  # "float32" | "int32"
    outputs: tuple[str, ...]  # tensor names, in the order of model.json's signature


def weight_files(model_json: Path) -> list[Path]:
    """model.json and every weight shard it names: what a converted model depends on."""
    model = json.loads(Path(model_json).read_text())
    shards = [p for group in model["weightsManifest"] for p in group["paths"]]
    return [Path(model_json)] + [Path(model_json).parent / p for p in shards]


def weights_sha256(model_json: Path) -> str:
    digest = hashlib.sha256()
    for path in weight_files(model_json):
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def signature_outputs(model_json: Path, keys: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The model's output tensor names, in the order of its signature (what executors return), or
    those of the signature's `keys` (e.g. "ld_3d"), in that order."""
    outputs = json.loads(Path(model_json).read_text())["signature"]["outputs"]
    return tuple(outputs[k]["name"] for k in keys) if keys else tuple(o["name"] for o in outputs.values())


def load_graph(model_json: Path) -> GraphModel:
    import tensorflow as tf
    from google.protobuf import json_format
    from tensorflowjs import read_weights

    model_json = Path(model_json)
    model = json.loads(model_json.read_text())
    topology = model["modelTopology"]
    nodes = []
    for node in topology["node"]:
        attr = node.setdefault("attr", {})
        if node["op"] == "Placeholder" and "shape" not in attr:
            attr["shape"] = {"shape": {"dim": [{"size": "1"}, {"size": "-1"}, {"size": "-1"}, {"size": "3"}]}}
        nodes += _unfused(node) if node["op"] in _FUSED else [node]
    graph_def = json_format.ParseDict({"node": nodes, "versions": topology.get("versions", {})},
                                      tf.compat.v1.GraphDef())
    groups = read_weights.read_weights(model["weightsManifest"], str(model_json.parent))
    weights = {w["name"]: w["data"] for group in groups for w in group}
    for node in graph_def.node:
        if node.op == "Const" and node.name in weights:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
            node.attr["dtype"].type = tf.as_dtype(weights[node.name].dtype).as_datatype_enum
    signature = model["signature"]
    spec = next(iter(signature["inputs"].values()))
    return GraphModel(graph_def=graph_def, input_name=spec["name"],
                      input_dtype="int32" if spec["dtype"] == "DT_INT32" else "float32",
                      outputs=signature_outputs(model_json))


# TF.js fuses convolutions with their bias and activation; TensorFlow spells those ops only for
# its optimiser's internal use (OpenVINO's frontend has no rule for them), so they are written
# out as the plain ops: the same arithmetic, and TensorFlow fuses them again when it runs.
_FUSED = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative"}
_CONV_ATTRS = {"T", "data_format", "dilations", "explicit_paddings", "padding", "strides", "use_cudnn_on_gpu"}


def _unfused(node: dict) -> list[dict]:
    import base64

    attr = node["attr"]
    fused = [base64.b64decode(s).decode() for s in attr["fused_ops"]["list"]["s"]]
    if fused[0] != "BiasAdd" or len(node["input"]) != 3 or not set(fused[1:]) <= {"Relu", "Relu6"}:
        raise ValueError(f"{node['name']}: unsupported fused ops {fused}")
    name, (x, kernel, bias) = node["name"], node["input"]
    conv_attr = {k: v for k, v in attr.items() if k in _CONV_ATTRS}
    if attr.get("padding", {}).get("s") != "RVhQTElDSVQ=":  # not "EXPLICIT"
        conv_attr.pop("explicit_paddings", None)
    if _FUSED[node["op"]] == "DepthwiseConv2dNative":
        conv_attr.pop("use_cudnn_on_gpu", None)
    out = [{"name": f"{name}/unfused_conv", "op": _FUSED[node["op"]], "input": [x, kernel], "attr": conv_attr},
           {"name": f"{name}/unfused_bias", "op": "BiasAdd", "input": [f"{name}/unfused_conv", bias],
            "attr": {"T": attr["T"], "data_format": attr.get("data_format", {"s": "TkhXQw=="})}}]
    for op in fused[1:]:  # at most one activation
        out.append({"name": f"{name}/unfused_{op}", "op": op, "input": [out[-1]["name"]], "attr": {"T": attr["T"]}})
    out[-1]["name"] = name  # downstream nodes refer to the fused node's name
    return out
