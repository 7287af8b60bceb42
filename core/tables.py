"""The pose tables shared with the pages (web/pose-tables.json): backbones, keypoint layouts,
skeleton edges and the pose feature vector's tables."""
from __future__ import annotations

import json
from functools import lru_cache

from .paths import WEB_DIR

TABLES_FILE = WEB_DIR / "pose-tables.json"


@lru_cache(maxsize=1)
def tables() -> dict:
    return json.loads(TABLES_FILE.read_text())


BACKBONES: dict = tables()["backbones"]
DEFAULT_BACKBONE: str = tables()["default_backbone"]  # the live page's, without a model
# The backbone training extracts keypoints with (posecast train, the trainer page, zip imports)
# unless told otherwise: chosen by leave-one-subject-out accuracy (bench/training.py; README, Training).
TRAIN_BACKBONE: str = tables()["train_backbone"]
COCO17: tuple = tuple(tables()["layouts"]["coco17"]["keypoints"])
BLAZEPOSE33: tuple = tuple(tables()["layouts"]["blazepose33"]["keypoints"])
EDGES: tuple = tuple(tuple(e) for e in tables()["edges"])
# The "pose" feature vector's tables (angle triples, distance pairs, left/right pairs).
POSE_FEATURES: dict = tables()["pose_features"]
# The "world" feature vector's 3-D tables (angle triples, torso-thigh pairs; BlazePose's world landmarks).
WORLD_FEATURES: dict = tables()["world_features"]


def keypoint_names(backbone: str) -> tuple:
    return tuple(tables()["layouts"][BACKBONES[backbone]["layout"]]["keypoints"])


def keypoint_count(backbone: str) -> int:
    return len(keypoint_names(backbone))
