"""Swappable model executors: each runs one TF.js graph model (by its model.json) on numpy
inputs and returns its outputs as numpy arrays in the order of model.json's signature, or only
the signature's `outputs` asked for, in that order: what no output needs is never computed
(BlazePose's landmark models also give a 256x256 segmentation and world landmarks, which the
keypoints do not use; without them heavy's landmark model took 43 ms of CPU instead of 48 on
OpenVINO, same outputs to the bit). Pre- and post-processing live with each backbone and never
depend on which executor runs the model."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .graph import load_graph, signature_outputs, weights_sha256

EXECUTORS = ("tensorflow", "openvino")


class TensorFlowExecutor:
    """`remapping=False` runs the graph in its own session with Grappler's remapper off: on this
    TensorFlow (2.19, oneDNN) the fused kernels it makes of BlazePose heavy crash the process
    (a segfault in libtensorflow_framework); a session's config keeps that choice to one model."""

    name = "tensorflow"

    def __init__(self, model_json: Path, input_shape: tuple[int, ...] | None = None, remapping: bool = True,
                 outputs: tuple[str, ...] | None = None):
        import tensorflow as tf  # runtime.graph has set TensorFlow's environment

        graph = load_graph(model_json)
        self._tf = tf
        self.input_dtype = np.dtype(graph.input_dtype)
        fetched = signature_outputs(model_json, outputs)
        if not remapping:
            self._fn = self._session(graph, fetched)
            return

        def _import():
            tf.compat.v1.import_graph_def(graph.graph_def, name="")

        wrapped = tf.compat.v1.wrap_function(_import, [])
        pruned = wrapped.prune(feeds=[wrapped.graph.get_tensor_by_name(graph.input_name)],
                               fetches=[wrapped.graph.get_tensor_by_name(o) for o in fetched])
        self._fn = lambda x: [o.numpy() for o in pruned(tf.constant(x))]

    def _session(self, graph, fetched):
        from tensorflow.core.protobuf import rewriter_config_pb2

        tf = self._tf
        tf_graph = tf.Graph()
        with tf_graph.as_default():
            tf.compat.v1.import_graph_def(graph.graph_def, name="")
        config = tf.compat.v1.ConfigProto()
        config.graph_options.rewrite_options.remapping = rewriter_config_pb2.RewriterConfig.OFF
        session = tf.compat.v1.Session(graph=tf_graph, config=config)
        fetches = [tf_graph.get_tensor_by_name(o) for o in fetched]
        feed = tf_graph.get_tensor_by_name(graph.input_name)
        return lambda x: session.run(fetches, {feed: x})

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        return list(self._fn(x.astype(self.input_dtype, copy=False)))


class OpenVINOExecutor:
    """The same GraphDef converted to OpenVINO IR once (cached next to the weights, keyed by their
    sha256 and the input shape), compiled for the CPU in f32 unless `precision` says otherwise:
    bf16, this CPU's default, moved PoseNet heatmaps by up to 0.85 and offsets by 19 px."""

    name = "openvino"

    def __init__(self, model_json: Path, input_shape: tuple[int, ...] | None = None,
                 precision: str = "f32", cache_dir: Path | None = None, threads: int | None = None,
                 outputs: tuple[str, ...] | None = None):
        import openvino as ov

        model_json = Path(model_json)
        cache = Path(cache_dir or os.environ.get("POSECAST_OPENVINO_CACHE") or model_json.parent / ".openvino")
        shape_tag = "x".join(str(d) for d in input_shape) if input_shape else "native"
        xml = cache / f"{model_json.stem}-{weights_sha256(model_json)[:16]}-{shape_tag}.xml"
        core = ov.Core()
        if not xml.exists():
            self._convert(model_json, input_shape, xml)
        self._core, self._model, self._precision = core, core.read_model(xml), precision
        # threads: OpenVINO's own choice by default; on a CPU shared with other work fewer threads
        # can be faster (a descheduled thread stalls the others at every layer).
        self._threads = threads
        self._signature = signature_outputs(model_json, outputs)
        if outputs:  # the same IR, compiled with only these results: the rest is never computed
            self._model = ov.Model([self._port(self._model.outputs, name) for name in self._signature],
                                   self._model.get_parameters(), self._model.get_friendly_name())
        self.input_dtype = np.dtype(self._model.inputs[0].get_element_type().to_dtype())
        # A model with a free input size (MoveNet MultiPose) is compiled once per input shape:
        # OpenVINO runs a static shape much faster than a dynamic one.
        self._static = not self._model.inputs[0].get_partial_shape().is_dynamic
        self._by_shape = {None: self._compile(self._model)} if self._static else {}

    def _compile(self, model):
        config = {"INFERENCE_PRECISION_HINT": self._precision}
        if self._threads:
            config["INFERENCE_NUM_THREADS"] = int(self._threads)
            # OpenVINO pins its threads to cores; with fewer threads than cores, every process
            # pins to the same first cores: two extraction workers of one thread shared core 0
            # while core 1 idled (118 s for 1,000 images, half the machine unused). Let Linux place them.
            config["ENABLE_CPU_PINNING"] = False
        compiled = self._core.compile_model(model, "CPU", config)
        # OpenVINO orders outputs its own way; find each of the signature's by its tensor name.
        return compiled.create_infer_request(), [self._port(compiled.outputs, name) for name in self._signature]

    @staticmethod
    def _port(ports, name: str):
        return next(p for p in ports if {name, name.split(":")[0]} & set(p.get_names()))

    def _for_shape(self, shape: tuple[int, ...]):
        key = None if self._static else shape
        if key not in self._by_shape:
            model = self._model.clone()
            model.reshape({model.inputs[0]: list(shape)})
            self._by_shape[key] = self._compile(model)
        return self._by_shape[key]

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
        request, ports = self._for_shape(tuple(x.shape))
        result = request.infer([x.astype(self.input_dtype, copy=False)])
        return [np.array(result[p]) for p in ports]


def make_executor(kind: str, model_json: Path, input_shape=None, tf_remapping: bool = True,
                  outputs: tuple[str, ...] | None = None, **options):
    """options go to OpenVINO; tf_remapping=False to TensorFlow (see TensorFlowExecutor); outputs:
    the signature's outputs to compute and return, in that order (default: all, in its order)."""
    if kind == "tensorflow":
        return TensorFlowExecutor(model_json, input_shape, remapping=tf_remapping, outputs=outputs)
    if kind == "openvino":
        return OpenVINOExecutor(model_json, input_shape, outputs=outputs, **options)
    raise ValueError(f"unknown executor {kind!r}: one of {', '.join(EXECUTORS)}")
