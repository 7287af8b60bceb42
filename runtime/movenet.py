"""MoveNet SinglePose Lightning / Thunder and MultiPose Lightning as pose-detection 2.1 runs them
in the page (through ml5 bodyPose): single-pose crops a square (first frame: the centre of the
image) and then crops around the last pose; multi-pose resizes the long side to 256 and pads to
a multiple of 32. Keypoint smoothing needs frame timestamps and is left to the caller."""
from __future__ import annotations

import numpy as np

from core.tables import COCO17

from .estimator import Estimator, Pose, weights
from .executors import make_executor
from .image import box_of, crop_and_resize, js_round, resize_bilinear

RESOLUTION = {"movenet-lightning": 192, "movenet-thunder": 256}
MIN_CROP_KEYPOINT_SCORE = 0.2
CROP_FILTER_ALPHA = 0.9
TORSO = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
IDX = {name: i for i, name in enumerate(COCO17)}
MULTIPOSE_MAX_DIMENSION = 256
MULTIPOSE_MIN_SCORE = 0.2  # backbones.js passes minPoseScore 0.2 for MultiPose


def init_crop_region(first_frame: bool, w: int, h: int) -> tuple[float, float, float, float]:
    """(yMin, xMin, yMax, xMax), normalised: the first frame's centre square, or later the whole
    image padded to a square."""
    if (w > h) == first_frame:
        bh, bw, y0, x0 = 1.0, h / w, 0.0, (w / 2 - h / 2) / w
    else:
        bh, bw, y0, x0 = w / h, 1.0, (h / 2 - w / 2) / h, 0.0
    return (y0, x0, y0 + bh, x0 + bw)


def next_crop_region(current, keypoints: np.ndarray, w: int, h: int):
    """determineNextCropRegion: a square centred on the hips, big enough for the torso (x1.9) and
    every confident keypoint (x1.2). keypoints: [17, 3] (y, x, score) normalised to the image."""
    score = keypoints[:, 2]
    if not ((score[IDX["left_hip"]] > MIN_CROP_KEYPOINT_SCORE or score[IDX["right_hip"]] > MIN_CROP_KEYPOINT_SCORE)
            and (score[IDX["left_shoulder"]] > MIN_CROP_KEYPOINT_SCORE
                 or score[IDX["right_shoulder"]] > MIN_CROP_KEYPOINT_SCORE)):
        return init_crop_region(current is None, w, h)
    ys, xs = keypoints[:, 0] * h, keypoints[:, 1] * w
    cy = (ys[IDX["left_hip"]] + ys[IDX["right_hip"]]) / 2
    cx = (xs[IDX["left_hip"]] + xs[IDX["right_hip"]]) / 2
    torso = [IDX[n] for n in TORSO]
    torso_y, torso_x = np.max(np.abs(cy - ys[torso])), np.max(np.abs(cx - xs[torso]))
    body = score >= MIN_CROP_KEYPOINT_SCORE
    body_y = np.max(np.abs(cy - ys[body]), initial=0.0)
    body_x = np.max(np.abs(cx - xs[body]), initial=0.0)
    half = max(torso_x * 1.9, torso_y * 1.9, body_y * 1.2, body_x * 1.2)
    half = min(half, max(cx, w - cx, cy, h - cy))
    if half > max(w, h) / 2:
        return init_crop_region(current is None, w, h)
    y0, x0 = cy - half, cx - half
    return (y0 / h, x0 / w, (y0 + 2 * half) / h, (x0 + 2 * half) / w)


class MoveNetSingle(Estimator):
    def __init__(self, backbone: str, executor: str = "tensorflow", **options):
        self.backbone = backbone
        self.size = RESOLUTION[backbone]
        self.run_model = make_executor(executor, weights(backbone), (1, self.size, self.size, 3), **options)
        self.reset()

    def reset(self) -> None:
        self._region = None
        self._filtered = None  # the crop region's low-pass filter state (alpha 0.9)

    def _estimate(self, image, max_people, still):
        pose = self._pass(image)
        if still and pose:  # the page's second frame: the crop around this pose
            pose = self._pass(image)
        return pose

    def _pass(self, image: np.ndarray) -> list[Pose]:
        h, w = image.shape[:2]
        if self._region is None:
            self._region = init_crop_region(True, w, h)
        region = self._region
        # crop, then cast to int32 (truncating) as the page does before the model's int32 input
        x = np.trunc(crop_and_resize(image, region, self.size, self.size)).astype(np.int32)[None]
        out = self.run_model(x)[0].reshape(17, 3).astype(np.float64)  # (y, x, score) in the crop
        confident = out[:, 2] > MIN_CROP_KEYPOINT_SCORE
        score = float(out[confident, 2].mean()) if confident.any() else 0.0
        if score < 0.25:  # ml5's minPoseScore
            self.reset()
            return []
        y0, x0, y1, x1 = region
        norm = np.stack([y0 + out[:, 0] * (y1 - y0), x0 + out[:, 1] * (x1 - x0), out[:, 2]], axis=1)
        nxt = next_crop_region(region, norm, w, h)
        # first value passes through; later ones move 90 % of the way (LowPassFilter, alpha 0.9)
        if self._filtered is not None:
            nxt = tuple(p + CROP_FILTER_ALPHA * (n - p) for p, n in zip(self._filtered, nxt))
        self._region = self._filtered = nxt
        keypoints = [{"name": n, "x": float(k[1] * w), "y": float(k[0] * h), "score": float(k[2])}
                     for n, k in zip(COCO17, norm)]
        return [Pose(score=score, keypoints=keypoints, box=box_of(keypoints, MIN_CROP_KEYPOINT_SCORE))]


class MoveNetMulti(Estimator):
    backbone = "movenet-multipose"
    max_people_default = 6

    def __init__(self, executor: str = "tensorflow", **options):
        # the input's height and width depend on the image's aspect ratio
        self.run_model = make_executor(executor, weights(self.backbone), (1, -1, -1, 3), **options)

    def _estimate(self, image, max_people, still):
        h, w = image.shape[:2]
        if w > h:
            rw, rh = MULTIPOSE_MAX_DIMENSION, js_round(MULTIPOSE_MAX_DIMENSION * h / w)
        else:
            rw, rh = js_round(MULTIPOSE_MAX_DIMENSION * w / h), MULTIPOSE_MAX_DIMENSION
        pw, ph = -(-rw // 32) * 32, -(-rh // 32) * 32
        resized = resize_bilinear(image, rh, rw)
        padded = np.pad(resized, ((0, ph - rh), (0, pw - rw), (0, 0)))
        out = self.run_model(np.trunc(padded).astype(np.int32)[None])[0][0].astype(np.float64)  # [6, 56]
        poses = []
        for row in out:
            score = float(row[55])
            if score < MULTIPOSE_MIN_SCORE:
                continue
            kp = row[:51].reshape(17, 3)
            sy, sx = ph / rh * h, pw / rw * w  # padded-normalised -> image pixels
            keypoints = [{"name": n, "x": float(k[1] * sx), "y": float(k[0] * sy), "score": float(k[2])}
                         for n, k in zip(COCO17, kp)]
            y0, x0, y1, x1 = row[51:55]
            box = (float(x0 * sx), float(y0 * sy), float(x1 * sx), float(y1 * sy))
            poses.append(Pose(score=score, keypoints=keypoints, box=box))
        return poses[:max_people]
