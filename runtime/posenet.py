"""PoseNet (MobileNetV1 0.75, output stride 16, 257 px) as @tensorflow-models/posenet 2.2.2 runs
it in the page: pad to a square, resize, the part-tree decoder along the displacement fields
(single person = the multi-pose decoder capped at one), and in single-person mode a second look
at a square around the last pose (web/js/common/backbones.js, cropAround)."""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from core.tables import COCO17

from .estimator import Estimator, Pose
from .executors import make_executor
from .image import box_of, js_round, resize_bilinear
from .estimator import weights

INPUT_SIZE = 257
OUTPUT_STRIDE = 16
GRID = (INPUT_SIZE - 1) // OUTPUT_STRIDE + 1  # 17
NUM_PARTS = len(COCO17)
# posenet's part tree (parent, child), by index: decoding walks it along the displacement fields.
POSE_CHAIN = [(COCO17.index(a), COCO17.index(b)) for a, b in (
    ("nose", "left_eye"), ("left_eye", "left_ear"), ("nose", "right_eye"), ("right_eye", "right_ear"),
    ("nose", "left_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("left_shoulder", "left_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("nose", "right_shoulder"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("right_shoulder", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"))]
# The page's settings (backbones.js): one person at score 0.1, or up to six at 0.25.
SINGLE_THRESHOLD, MULTI_THRESHOLD, NMS_RADIUS = 0.1, 0.25, 20.0


def preprocess(image: np.ndarray) -> tuple[np.ndarray, dict]:
    """posenet's padAndResizeTo: pad the shorter side to a square (Math.round on both sides),
    resize to 257 bilinearly, scale to [-1, 1]. Returns the input and how to map back."""
    h, w = image.shape[:2]
    pad_y = js_round(0.5 * (w - h)) if w > h else 0
    pad_x = js_round(0.5 * (h - w)) if h > w else 0
    square = np.pad(image.astype(np.float32), ((pad_y, pad_y), (pad_x, pad_x), (0, 0)))
    x = resize_bilinear(square, INPUT_SIZE, INPUT_SIZE)
    transform = {"scale_y": (h + 2 * pad_y) / INPUT_SIZE, "scale_x": (w + 2 * pad_x) / INPUT_SIZE,
                 "pad_top": pad_y, "pad_left": pad_x}
    return (x / 127.5 - 1.0)[None], transform


@dataclass
class Outputs:
    heatmap_scores: np.ndarray  # [17, 17, 17], sigmoid of the heatmap
    offsets: np.ndarray  # [17, 17, 34]: y offsets of the 17 parts, then x offsets
    displacement_fwd: np.ndarray  # [17, 17, 32]: parent -> child, 16 edges' y then x
    displacement_bwd: np.ndarray  # [17, 17, 32]: child -> parent
    scale_y: float  # source pixels per input pixel
    scale_x: float
    pad_top: int  # source pixels added above / left to make the frame square
    pad_left: int

    @classmethod
    def from_model(cls, outputs: list[np.ndarray], transform: dict) -> "Outputs":
        offsets, heatmap, fwd, bwd = (o[0] for o in outputs)  # posenet.json's signature order
        return cls(heatmap_scores=1.0 / (1.0 + np.exp(-heatmap)), offsets=offsets,
                   displacement_fwd=fwd, displacement_bwd=bwd, **transform)

    def tm_features(self) -> np.ndarray:
        """Teachable Machine's pose features: heatmap scores and offsets, concatenated per cell."""
        return np.concatenate([self.heatmap_scores, self.offsets], axis=2).reshape(-1).astype(np.float32)

    def poses(self, max_poses: int = 1, threshold: float = SINGLE_THRESHOLD,
              nms_radius: float = NMS_RADIUS) -> list[tuple[float, list[dict]]]:
        """posenet's decodeMultiplePoses: roots are local maxima (radius 1) above the threshold,
        strongest first; a root near the same part of a pose already found is skipped. Returns
        (score, keypoints in source pixels) per pose."""
        scores = self.heatmap_scores
        padded = np.pad(scores, ((1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
        window = np.max([padded[dy:dy + GRID, dx:dx + GRID] for dy in range(3) for dx in range(3)], axis=0)
        ys, xs, ks = np.nonzero((scores >= threshold) & (scores >= window))
        queue = [(-float(scores[y, x, k]), int(y), int(x), int(k)) for y, x, k in zip(ys, xs, ks)]
        heapq.heapify(queue)
        found, sq_radius = [], nms_radius * nms_radius
        while queue and len(found) < max_poses:
            neg, y, x, k = heapq.heappop(queue)
            root = self._point(y, x, k)
            if any(_sq(root, pose[k]) <= sq_radius for pose in found):
                continue
            found.append(self._decode(k, root, -neg))
        out = []
        for i, pose in enumerate(found):
            unclaimed = [p[2] for j, p in enumerate(pose) if not any(_sq(p, q[j]) <= sq_radius for q in found[:i])]
            keypoints = [{"name": name, "score": p[2], "x": p[1] * self.scale_x - self.pad_left,
                          "y": p[0] * self.scale_y - self.pad_top} for name, p in zip(COCO17, pose)]
            out.append((sum(unclaimed) / NUM_PARTS, keypoints))
        return out

    def keypoints(self) -> list[dict]:
        """One person, decoded as the live page decodes it on the whole frame."""
        poses = self.poses(1, threshold=0.0)
        return poses[0][1]

    def _decode(self, root_k: int, root: tuple[float, float], root_score: float) -> list[tuple]:
        found = {root_k: (root[0], root[1], root_score)}
        edges = list(enumerate(POSE_CHAIN))
        for edge, (parent, child) in reversed(edges):  # towards the root, backward displacements
            if child in found and parent not in found:
                found[parent] = self._traverse(edge, found[child], parent, self.displacement_bwd)
        for edge, (parent, child) in edges:  # away from the root, forward displacements
            if parent in found and child not in found:
                found[child] = self._traverse(edge, found[parent], child, self.displacement_fwd)
        return [found[k] for k in range(NUM_PARTS)]

    def _point(self, y: int, x: int, k: int) -> tuple[float, float]:
        return (y * OUTPUT_STRIDE + float(self.offsets[y, x, k]),
                x * OUTPUT_STRIDE + float(self.offsets[y, x, k + NUM_PARTS]))

    @staticmethod
    def _cell(y: float, x: float) -> tuple[int, int]:
        clamp = lambda v: min(max(js_round(v / OUTPUT_STRIDE), 0), GRID - 1)
        return clamp(y), clamp(x)

    def _traverse(self, edge, source, target, displacements, refine_steps=2):
        cy, cx = self._cell(source[0], source[1])
        n_edges = displacements.shape[2] // 2
        y = source[0] + float(displacements[cy, cx, edge])
        x = source[1] + float(displacements[cy, cx, n_edges + edge])
        for _ in range(refine_steps):
            cy, cx = self._cell(y, x)
            y, x = self._point(cy, cx, target)
        cy, cx = self._cell(y, x)
        return y, x, float(self.heatmap_scores[cy, cx, target])


def _sq(a, b) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def crop_around(keypoints: list[dict], w: int, h: int) -> tuple[int, int, int] | None:
    """backbones.js cropAround: a square (x, y, size), 1.6x the pose's extent, inside the frame;
    None (use the whole frame) when the pose is too unsure or already fills most of the frame."""
    seen = [k for k in keypoints if k["score"] >= 0.3]
    if len(seen) < 6:
        return None
    xs, ys = [k["x"] for k in seen], [k["y"] for k in seen]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    size = js_round(min(max(max(xs) - min(xs), max(ys) - min(ys)) * 1.6, w, h))
    if size > 0.8 * min(w, h) or size < 32:
        return None
    return (js_round(min(max(cx - size / 2, 0), w - size)), js_round(min(max(cy - size / 2, 0), h - size)), size)


class PoseNet(Estimator):
    backbone = "posenet"

    def __init__(self, executor: str = "tensorflow", **options):
        self.run_model = make_executor(executor, weights("posenet"), (1, INPUT_SIZE, INPUT_SIZE, 3), **options)
        self._region = None

    def reset(self) -> None:
        self._region = None

    def outputs(self, image: np.ndarray) -> Outputs:
        x, transform = preprocess(image)
        return Outputs.from_model(self.run_model(x), transform)

    def _estimate(self, image, max_people, still):
        if max_people > 1:  # the page's multi-person mode: the whole frame, no crop
            return self._poses(image, None, max_people, MULTI_THRESHOLD)
        poses = self._poses(image, self._region, 1, SINGLE_THRESHOLD)
        self._region = crop_around(poses[0].keypoints, image.shape[1], image.shape[0]) if poses else None
        if still and self._region:  # the page's second frame: a square around the person
            poses = self._poses(image, self._region, 1, SINGLE_THRESHOLD)
            self._region = crop_around(poses[0].keypoints, image.shape[1], image.shape[0]) if poses else None
        return poses

    def _poses(self, image, region, max_poses, threshold) -> list[Pose]:
        dx, dy = (region[0], region[1]) if region else (0, 0)
        view = image[dy:dy + region[2], dx:dx + region[2]] if region else image
        out = []
        for score, keypoints in self.outputs(view).poses(max_poses, threshold):
            for k in keypoints:
                k["x"] += dx
                k["y"] += dy
            out.append(Pose(score=score, keypoints=keypoints, box=box_of(keypoints)))
        return out
