"""The geometry of pose-detection 2.1's BlazePose tfjs runtime (what the page runs through ml5
bodyPose), in numpy: the detector's SSD anchors and box decoding, the rotated region of interest
(ROI) built from two keypoints, the letterboxed warp that crops it for a model, the landmark
heatmap refinement and the projection back to the image. Each function names the pose-detection
calculator it follows; the arithmetic is kept in the same order so Python and the page see the
same model inputs."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
MIN_DETECTION_SCORE = 0.5
ROI_SCALE = 1.25  # BLAZEPOSE_DETECTOR_RECT_TRANSFORMATION_CONFIG: the ROI is 1.25x the body
HEATMAP_KERNEL = 7
MIN_HEATMAP_CONFIDENCE = 0.5


class Rect(NamedTuple):
    """A rotated rectangle: centre, width and height normalised to the image, rotation in radians."""
    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0


def ssd_anchors() -> np.ndarray:
    """createSsdAnchors for BLAZEPOSE_DETECTOR_ANCHOR_CONFIGURATION: [2254, 2] (x, y) centres.
    The anchors have a fixed size of 1, so only their centres matter. Strides 8 and 16 give two
    anchors per cell (aspect ratio 1 plus the interpolated scale); the three stride-32 layers are
    merged into one 7x7 grid of six anchors per cell."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 2), (32, 6)):
        cells = math.ceil(DETECTOR_SIZE / stride)
        for y in range(cells):
            for x in range(cells):
                centres += [((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell
    return np.array(centres, dtype=np.float32)


def best_detection(raw: np.ndarray, anchors: np.ndarray) -> tuple[float, np.ndarray] | None:
    """tensorsToDetections + nonMaxSuppression(maxPoses=1): the best-scoring box of the detector's
    [2254, 13] output (logit, then x, y, w, h and four keypoints as x, y, in 224 px units relative
    to each anchor), if it scores >= 0.5. Returns (score, keypoints [4, 2] normalised to the
    letterboxed input): keypoint 0 is the hip centre, keypoint 1 sets the body's size and
    rotation. With one pose wanted, non-maximum suppression keeps just the top score."""
    raw = raw.astype(np.float32)
    scores = 1 / (1 + np.exp(-np.clip(raw[:, 0].astype(np.float64), -100, 100)))
    coords = raw[:, 1:]
    # boxes of negative size are dropped before suppression (convertToDetections)
    valid = (scores >= MIN_DETECTION_SCORE) & (coords[:, 2] >= 0) & (coords[:, 3] >= 0)
    if not valid.any():
        return None
    best = int(np.argmax(np.where(valid, scores, -1.0)))
    scale = np.float32(DETECTOR_SIZE)
    keypoints = coords[best, 4:12].reshape(4, 2) / scale + anchors[best]
    return float(scores[best]), keypoints.astype(np.float64)


def letterbox(rect_px: Rect, size: int) -> tuple[Rect, tuple[float, float, float, float]]:
    """padRoi: grow the ROI (in pixels) to the model's square input, keeping its aspect ratio.
    Returns the grown ROI and the padding (top, left, bottom, right) as fractions of the input."""
    aspect = rect_px.height / rect_px.width
    if 1.0 > aspect:
        grown, pad_v, pad_h = rect_px._replace(height=rect_px.width), (1 - aspect) / 2, 0.0
    else:
        grown, pad_v, pad_h = rect_px._replace(width=rect_px.height / 1.0), 0.0, (1 - 1.0 / aspect) / 2
    return grown, (pad_v, pad_h, pad_v, pad_h)


def warp(image: np.ndarray, roi: Rect, size: int) -> np.ndarray:
    """convertImageToTensor's crop: tf.image.transform (bilinear, zeros outside the image) of the
    rotated ROI (in pixels) to size x size. The 8 projective coefficients are computed in doubles
    as getRotatedSubRectToRectTransformMatrix + getProjectiveTransformMatrix do, then handed to
    the kernel as float32, which samples at integer output coordinates (no half-pixel shift).
    Returns size x size x 3 float32 in 0..255."""
    h, w = image.shape[:2]
    t = warp_transform(image, roi, size)
    grid = np.arange(size, dtype=np.float32)
    out_x, out_y = grid[None, :], grid[:, None]
    in_x = t[0] * out_x + t[1] * out_y + t[2]
    in_y = t[3] * out_x + t[4] * out_y + t[5]
    x0, y0 = np.floor(in_x), np.floor(in_y)
    # readWithFillValue gives 0 for any neighbour outside the image: a one-pixel border of zeros,
    # with every coordinate clipped into it, reads the same and needs no per-neighbour mask.
    # Channel planes (3, h, w), not pixels: every gather and blend below then runs over whole
    # 256x256 planes, where the pixels' trailing axis of 3 made numpy loop 3 values at a time
    # (the same arithmetic in the same order, so the same float32 values; half the time).
    planes = np.zeros((image.shape[2], h + 2, w + 2), image.dtype)
    planes[:, 1:-1, 1:-1] = image.transpose(2, 0, 1)
    planes = planes.reshape(image.shape[2], -1)
    index = np.int32 if (h + 2) * (w + 2) < 2**31 else np.int64  # int32: half the memory traffic
    rows0 = (np.clip(y0, -1, h).astype(index) + 1) * (w + 2)
    rows1 = (np.clip(y0 + 1, -1, h).astype(index) + 1) * (w + 2)
    cols0 = np.clip(x0, -1, w).astype(index) + 1
    cols1 = np.clip(x0 + 1, -1, w).astype(index) + 1
    # the four neighbours' flat indices, gathered at once in the image's dtype, then made float32
    neighbours = np.stack([rows0 + cols0, rows0 + cols1, rows1 + cols0, rows1 + cols1])
    n00, n01, n10, n11 = planes.take(neighbours, axis=1).astype(np.float32).transpose(1, 0, 2, 3)
    fx, fy = in_x - x0, in_y - y0
    top = (1 - fx) * n00 + fx * n01
    bottom = (1 - fx) * n10 + fx * n11
    return np.ascontiguousarray(((1 - fy) * top + fy * bottom).transpose(1, 2, 0))


def warp_transform(image: np.ndarray, roi: Rect, size: int) -> np.ndarray:
    """The transform warp() applies: output (x, y) -> input (t0 x + t1 y + t2, t3 x + t4 y + t5)."""
    h, w = image.shape[:2]
    a, b, e, f = roi.width, roi.height, roi.x_center, roi.y_center
    c, d = math.cos(roi.rotation), math.sin(roi.rotation)
    m00, m01, m03 = a * c / w, -b * d / w, (-0.5 * a * c + 0.5 * b * d + e) / w
    m10, m11, m13 = a * d / h, b * c / h, (-0.5 * b * c - 0.5 * a * d + f) / h
    return np.array([m00 * w / size, m01 * w / size, m03 * w, m10 * h / size, m11 * h / size, m13 * h],
                    dtype=np.float32)


def alignment_roi(start: np.ndarray, end: np.ndarray, w: int, h: int) -> Rect:
    """calculateAlignmentPointsRects + transformNormalizedRect: a square centred on `start` (the
    hip centre), twice the distance to `end` wide, rotated so that start -> end points up, then
    squared on its long side (in pixels) and scaled by 1.25. Points normalised to the image."""
    x0, y0, x1, y1 = start[0] * w, start[1] * h, end[0] * w, end[1] * h
    side = math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2) * 2
    rotation = normalize_radians(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0))
    long_side = max(side / w * w, side / h * h)
    return Rect(x0 / w, y0 / h, long_side / w * ROI_SCALE, long_side / h * ROI_SCALE, rotation)


def seed_roi(keypoints: dict, w: int, h: int) -> Rect:
    """The ROI the detector would have given, from another model's COCO keypoints ({name: (x, y)}
    in pixels, e.g. MoveNet's): the hip centre, and the detector's body point as the point along
    hips -> shoulders as far from the hip centre as the farthest keypoint (so the ROI holds the
    whole body, turned upright whichever way the person lies)."""
    hip = (np.asarray(keypoints["left_hip"]) + np.asarray(keypoints["right_hip"])) / 2
    shoulders = (np.asarray(keypoints["left_shoulder"]) + np.asarray(keypoints["right_shoulder"])) / 2
    reach = max(math.dist(hip, p) for p in keypoints.values())
    up = (shoulders - hip) / max(math.dist(hip, shoulders), 1e-9)
    size = np.array([w, h], dtype=np.float64)
    return alignment_roi(hip / size, (hip + up * reach) / size, w, h)


def normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def remove_letterbox(points: np.ndarray, padding: tuple[float, float, float, float]) -> np.ndarray:
    """removeDetectionLetterbox / removeLandmarkLetterbox on [N, 2] (x, y) normalised points."""
    top, left, bottom, right = padding
    out = points.astype(np.float64, copy=True)
    out[:, 0] = (out[:, 0] - left) / (1 - left - right)
    out[:, 1] = (out[:, 1] - top) / (1 - top - bottom)
    return out


def project(points: np.ndarray, roi: Rect) -> np.ndarray:
    """calculateLandmarkProjection: [N, 2] points normalised to the (rotated) crop -> to the image."""
    x, y = points[:, 0] - 0.5, points[:, 1] - 0.5
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    return np.stack([(c * x - s * y) * roi.width + roi.x_center,
                     (s * x + c * y) * roi.height + roi.y_center], axis=1)


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """refineLandmarksFromHeatmap: each [N, 2] crop-normalised point moves to the weighted centre
    of its heatmap channel's 7x7 window when that window peaks at >= 0.5. Keeps upstream's bounds
    check, which tests the column against the height and never the row against it (the heatmap
    is square, and a row past the bottom leaves an empty or partial window)."""
    hm_h, hm_w, _ = heatmap.shape
    out = points.copy()
    half = (HEATMAP_KERNEL - 1) // 2
    for i, (x, y) in enumerate(points):
        col, row = math.trunc(x * hm_w), math.trunc(y * hm_h)
        if col < 0 or col >= hm_w or row < 0 or col >= hm_h:
            continue
        window = heatmap[max(0, row - half):min(hm_h, row + half + 1),
                         max(0, col - half):min(hm_w, col + half + 1), i].astype(np.float64)
        if window.size == 0:
            continue
        total = window.sum()
        if window.max() >= MIN_HEATMAP_CONFIDENCE and total > 0:
            rows = np.arange(max(0, row - half), max(0, row - half) + window.shape[0])
            cols = np.arange(max(0, col - half), max(0, col - half) + window.shape[1])
            out[i, 0] = (window.sum(axis=0) @ cols) / hm_w / total
            out[i, 1] = (window.sum(axis=1) @ rows) / hm_h / total
    return out
