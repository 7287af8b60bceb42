"""PoseNet (MobileNetV1 0.75, output stride 16) run in Python from the very TF.js graph-model
files the browser loads (assets/pose/posenet.json + .bin), so features extracted here match the
live page's.

tensorflowjs has no graph-model -> SavedModel converter, so the GraphDef is rebuilt from
model.json and its constants filled from the weight files. Three ops are spelled differently in
TF.js graphs than in TensorFlow's kernels and are renamed or completed on the way.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.features import TM_FEATURES, TM_GRID
from core.tables import COCO17

INPUT_SIZE = 257
OUTPUT_STRIDE = 16
GRID = (INPUT_SIZE - 1) // OUTPUT_STRIDE + 1  # 17
PART_NAMES = COCO17
NUM_PARTS = len(PART_NAMES)
# posenet's part tree (parent, child), by index: decoding walks it along the displacement fields.
POSE_CHAIN = [(PART_NAMES.index(a), PART_NAMES.index(b)) for a, b in (
    ("nose", "left_eye"), ("left_eye", "left_ear"), ("nose", "right_eye"), ("right_eye", "right_ear"),
    ("nose", "left_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("left_shoulder", "left_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("nose", "right_shoulder"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("right_shoulder", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"))]
assert GRID == TM_GRID and TM_FEATURES == GRID * GRID * 3 * NUM_PARTS


def _graph_def(model_json: Path):
    import tensorflow as tf
    from google.protobuf import json_format
    from tensorflowjs import read_weights

    model = json.loads(model_json.read_text())
    topology = model["modelTopology"]
    for node in topology["node"]:
        attr = node.setdefault("attr", {})
        if node["op"] == "FusedDepthwiseConv2dNative":
            node["op"] = "_FusedDepthwiseConv2dNative"
            attr.pop("explicit_paddings", None)
        elif node["op"] == "_FusedConv2D":
            attr["TArgs"] = {"list": {"type": ["DT_FLOAT"] * int(attr["num_args"]["i"])}}
        elif node["op"] == "Placeholder":
            attr["shape"] = {"shape": {"dim": [{"size": "1"}, {"size": "-1"}, {"size": "-1"}, {"size": "3"}]}}
    graph_def = json_format.ParseDict({"node": topology["node"], "versions": topology.get("versions", {})},
                                      tf.compat.v1.GraphDef())
    groups = read_weights.read_weights(model["weightsManifest"], str(model_json.parent))
    weights = {w["name"]: w["data"] for group in groups for w in group}
    for node in graph_def.node:
        if node.op == "Const" and node.name in weights:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
            node.attr["dtype"].type = tf.as_dtype(weights[node.name].dtype).as_datatype_enum
    outputs = list(model["signature"]["outputs"])  # offset, heatmap, displacement_fwd, displacement_bwd
    input_name = next(iter(model["signature"]["inputs"]))
    return graph_def, input_name, outputs


@dataclass
class PoseNetOutput:
    heatmap_scores: np.ndarray  # [17, 17, 17], sigmoid of the heatmap
    offsets: np.ndarray  # [17, 17, 34]: y offsets of the 17 parts, then x offsets
    displacement_fwd: np.ndarray  # [17, 17, 32]: parent -> child, 16 edges' y then x
    displacement_bwd: np.ndarray  # [17, 17, 32]: child -> parent
    scale_y: float  # source pixels per input pixel
    scale_x: float
    pad_top: int  # source pixels added above / left to make the frame square
    pad_left: int

    def tm_features(self) -> np.ndarray:
        """Teachable Machine's pose features: heatmap scores and offsets, concatenated per cell."""
        return np.concatenate([self.heatmap_scores, self.offsets], axis=2).reshape(-1).astype(np.float32)

    def keypoints(self) -> list[dict]:
        """One person, decoded as the live page decodes it (posenet's multi-pose decoder capped
        at one detection): from the most confident part, walk the part tree along the
        displacement fields. Positions in source pixels."""
        scores = self.heatmap_scores
        root_y, root_x, root_k = np.unravel_index(int(np.argmax(scores)), scores.shape)
        found: dict[int, tuple[float, float, float]] = {
            int(root_k): (*self._image_point(root_y, root_x, root_k), float(scores[root_y, root_x, root_k]))}
        edges = list(enumerate(POSE_CHAIN))
        for edge, (parent, child) in reversed(edges):  # towards the root, backward displacements
            if child in found and parent not in found:
                found[parent] = self._traverse(edge, found[child], parent, self.displacement_bwd)
        for edge, (parent, child) in edges:  # away from the root, forward displacements
            if parent in found and child not in found:
                found[child] = self._traverse(edge, found[parent], child, self.displacement_fwd)
        return [{"name": name, "score": found[k][2],
                 "x": found[k][1] * self.scale_x - self.pad_left,
                 "y": found[k][0] * self.scale_y - self.pad_top} for k, name in enumerate(PART_NAMES)]

    def _image_point(self, y: int, x: int, k: int) -> tuple[float, float]:
        return (y * OUTPUT_STRIDE + float(self.offsets[y, x, k]),
                x * OUTPUT_STRIDE + float(self.offsets[y, x, k + NUM_PARTS]))

    @staticmethod
    def _cell(y: float, x: float) -> tuple[int, int]:
        clamp = lambda v: min(max(_js_round(v / OUTPUT_STRIDE), 0), GRID - 1)
        return clamp(y), clamp(x)

    def _traverse(self, edge, source, target, displacements, refine_steps=2):
        cy, cx = self._cell(source[0], source[1])
        n_edges = displacements.shape[2] // 2
        y = source[0] + float(displacements[cy, cx, edge])
        x = source[1] + float(displacements[cy, cx, n_edges + edge])
        for _ in range(refine_steps):
            cy, cx = self._cell(y, x)
            y, x = self._image_point(cy, cx, target)
        cy, cx = self._cell(y, x)
        return y, x, float(self.heatmap_scores[cy, cx, target])


class PoseNet:
    def __init__(self, model_json: Path):
        import tensorflow as tf

        graph_def, input_name, outputs = _graph_def(Path(model_json))

        def _import():
            tf.compat.v1.import_graph_def(graph_def, name="")

        wrapped = tf.compat.v1.wrap_function(_import, [])
        self._fn = wrapped.prune(feeds=[wrapped.graph.get_tensor_by_name(input_name)],
                                 fetches=[wrapped.graph.get_tensor_by_name(o) for o in outputs])
        self._tf = tf

    def run(self, image: np.ndarray) -> PoseNetOutput:
        """image: HxWx3 uint8 RGB, padded and resized exactly as posenet@2.2.2 does in the browser."""
        tf = self._tf
        h, w = image.shape[:2]
        # padAndResizeTo: pad the shorter side to a square (JS Math.round on both sides), then a
        # bilinear resize without corner alignment or half-pixel centres.
        if w > h:
            pad = (_js_round(0.5 * (w - h)),) * 2 + (0, 0)
        else:
            pad = (0, 0) + (_js_round(0.5 * (h - w)),) * 2
        top, bottom, left, right = pad
        x = tf.pad(tf.convert_to_tensor(image, tf.float32), [(top, bottom), (left, right), (0, 0)])
        x = tf.raw_ops.ResizeBilinear(images=x[None], size=(INPUT_SIZE, INPUT_SIZE),
                                      align_corners=False, half_pixel_centers=False)
        offsets, heatmap, fwd, bwd = self._fn(x / 127.5 - 1.0)
        return PoseNetOutput(
            heatmap_scores=tf.sigmoid(heatmap[0]).numpy(), offsets=offsets[0].numpy(),
            displacement_fwd=fwd[0].numpy(), displacement_bwd=bwd[0].numpy(),
            scale_y=(h + top + bottom) / INPUT_SIZE, scale_x=(w + left + right) / INPUT_SIZE,
            pad_top=top, pad_left=left)


def _js_round(value: float) -> int:
    """JavaScript's Math.round (halves go up), which posenet uses throughout."""
    return int(np.floor(value + 0.5))


def load_image(path: Path) -> np.ndarray:
    import tensorflow as tf

    data = tf.io.read_file(str(path))
    return tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
