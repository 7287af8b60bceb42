"""Swappable model executors: each runs one TF.js graph model (by its model.json) on numpy
inputs and returns its outputs as numpy arrays in the order of model.json's signature. Pre- and
post-processing live with each backbone and never depend on which executor runs the model."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .graph import load_graph, signature_outputs, weights_sha256

EXECUTORS = ("tensorflow", "openvino")


class TensorFlowExecutor:
    name = "tensorflow"

    def __init__(self, model_json: Path, input_shape: tuple[int, ...] | None = None):
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        import tensorflow as tf

        graph = load_graph(model_json)

        def _import():
            tf.compat.v1.import_graph_def(graph.graph_def, name="")

        wrapped = tf.compat.v1.wrap_function(_import, [])
        self._fn = wrapped.prune(feeds=[wrapped.graph.get_tensor_by_name(graph.input_name)],
                                 fetches=[wrapped.graph.get_tensor_by_name(o) for o in graph.outputs])
        self._tf = tf
        self.input_dtype = np.dtype(graph.input_dtype)

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        return [o.numpy() for o in self._fn(self._tf.constant(x.astype(self.input_dtype, copy=False)))]


class OpenVINOExecutor:
    """The same GraphDef converted to OpenVINO IR once (cached next to the weights, keyed by their
    sha256 and the input shape), compiled for the CPU in f32 unless `precision` says otherwise:
    bf16, this CPU's default, moved PoseNet heatmaps by up to 0.85 and offsets by 19 px."""

    name = "openvino"

    def __init__(self, model_json: Path, input_shape: tuple[int, ...] | None = None,
                 precision: str = "f32", cache_dir: Path | None = None):
        import openvino as ov

        model_json = Path(model_json)
        cache = Path(cache_dir or os.environ.get("POSECAST_OPENVINO_CACHE") or model_json.parent / ".openvino")
        shape_tag = "x".join(str(d) for d in input_shape) if input_shape else "native"
        xml = cache / f"{model_json.stem}-{weights_sha256(model_json)[:16]}-{shape_tag}.xml"
        core = ov.Core()
        if not xml.exists():
            self._convert(model_json, input_shape, xml)
        model = core.read_model(xml)
        self.input_dtype = np.dtype(model.inputs[0].get_element_type().to_dtype())
        self._compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": precision})
        self._request = self._compiled.create_infer_request()
        # OpenVINO orders outputs its own way; find each of the signature's by its tensor name.
        ports = self._compiled.outputs
        self._ports = [next(p for p in ports if {name, name.split(":")[0]} & set(p.get_names()))
                       for name in signature_outputs(model_json)]

    def _convert(self, model_json: Path, input_shape, xml: Path) -> None:
        import openvino as ov

        graph = load_graph(model_json)
        shape = ov.PartialShape(list(input_shape)) if input_shape else None
        dtype = ov.Type.i32 if graph.input_dtype == "int32" else ov.Type.f32
        model = ov.convert_model(graph.graph_def, input=[(shape, dtype)] if shape else None)
        xml.parent.mkdir(parents=True, exist_ok=True)
        tmp = xml.with_name(f".{xml.stem}.{os.getpid()}.xml")
        ov.save_model(model, tmp, compress_to_fp16=False)  # keep the f32 weights as they are
        tmp.with_suffix(".bin").replace(xml.with_suffix(".bin"))
        tmp.replace(xml)  # the .xml last: its presence means the pair is complete

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        result = self._request.infer([x.astype(self.input_dtype, copy=False)])
        return [np.array(result[p]) for p in self._ports]


def make_executor(kind: str, model_json: Path, input_shape=None, **options):
    if kind == "tensorflow":
        return TensorFlowExecutor(model_json, input_shape)
    if kind == "openvino":
        return OpenVINOExecutor(model_json, input_shape, **options)
    raise ValueError(f"unknown executor {kind!r}: one of {', '.join(EXECUTORS)}")
