"""PoseNet (MobileNetV1 0.75, output stride 16) run in Python from the very TF.js graph-model
files the browser loads (assets/pose/posenet.json + .bin), so features extracted here match the
live page's. The model, its pre-processing and decoding are the pose runtime's
(runtime/posenet.py, runtime/graph.py); training runs it on TensorFlow and reads its raw outputs
for Teachable Machine's features."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.features import TM_FEATURES, TM_GRID
from core.tables import COCO17
from runtime.executors import TensorFlowExecutor
from runtime.posenet import GRID, INPUT_SIZE, NUM_PARTS, OUTPUT_STRIDE, POSE_CHAIN, preprocess
from runtime.posenet import Outputs as PoseNetOutput

__all__ = ["GRID", "INPUT_SIZE", "NUM_PARTS", "OUTPUT_STRIDE", "PART_NAMES", "POSE_CHAIN", "PoseNet",
           "PoseNetOutput", "TM_FEATURES", "load_image"]

PART_NAMES = COCO17
assert GRID == TM_GRID and TM_FEATURES == GRID * GRID * 3 * NUM_PARTS


class PoseNet:
    def __init__(self, model_json: Path):
        self._run = TensorFlowExecutor(Path(model_json))

    def run(self, image: np.ndarray) -> PoseNetOutput:
        """image: HxWx3 uint8 RGB, padded and resized exactly as posenet@2.2.2 does in the browser."""
        x, transform = preprocess(image)
        return PoseNetOutput.from_model(self._run(x), transform)


def load_image(path: Path) -> np.ndarray:
    import tensorflow as tf

    data = tf.io.read_file(str(path))
    return tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
