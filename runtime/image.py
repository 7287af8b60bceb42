"""Pixel operations shared by every backbone and executor, in numpy, written to give what the
page's TF.js kernels give (so Python and the page see the same model inputs)."""
from __future__ import annotations

import numpy as np


def js_round(value: float) -> int:
    """JavaScript's Math.round (halves go up), which the page's libraries use throughout."""
    return int(np.floor(value + 0.5))


def _lerp_axis(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tf.image.resizeBilinear without corner alignment or half-pixel centres."""
    src = np.arange(size_out, dtype=np.float64) * (size_in / size_out)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(np.ceil(src).astype(np.int64), size_in - 1)
    return lo, hi, (src - lo).astype(np.float32)


def _bilinear(image: np.ndarray, y0, y1, dy, x0, x1, dx) -> np.ndarray:
    """Blend the four source pixels of every output pixel. The corners are gathered by flat
    index in the image's own dtype and only then made float32 (exact for uint8), so a 576x576
    frame is never converted whole: an edge node's MoveNet crop took longer than the model."""
    h, w = image.shape[:2]
    pixels = image.reshape(h * w, -1)
    rows0, rows1 = (y0 * w)[:, None], (y1 * w)[:, None]

    def corner(rows, cols):
        return pixels.take((rows + cols[None, :]).ravel(), axis=0).astype(np.float32).reshape(len(y0), len(x0), -1)

    a, b, c, d = corner(rows0, x0), corner(rows0, x1), corner(rows1, x0), corner(rows1, x1)
    wx = dx[None, :, None]
    top = a + (b - a) * wx
    bottom = c + (d - c) * wx
    return top + (bottom - top) * dy[:, None, None]


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """HxWxC (any dtype) -> height x width x C float32, as tf.image.resizeBilinear(x, [h, w])."""
    y0, y1, dy = _lerp_axis(image.shape[0], height)
    x0, x1, dx = _lerp_axis(image.shape[1], width)
    return _bilinear(image, y0, y1, dy, x0, x1, dx)


def crop_and_resize(image: np.ndarray, box: tuple[float, float, float, float], height: int, width: int,
                    extrapolation: float = 0.0) -> np.ndarray:
    """tf.image.cropAndResize for one box (yMin, xMin, yMax, xMax in [0, 1] of the image, may reach
    outside it: those pixels get `extrapolation`), bilinear. Returns height x width x C float32."""
    h, w = image.shape[:2]
    y_min, x_min, y_max, x_max = box

    def axis(lo, hi, size_in, size_out):
        step = (hi - lo) * (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        start = lo * (size_in - 1) if size_out > 1 else 0.5 * (lo + hi) * (size_in - 1)
        src = start + np.arange(size_out, dtype=np.float64) * step
        inside = (src >= 0) & (src <= size_in - 1)
        s = np.clip(src, 0, size_in - 1)
        a = np.floor(s).astype(np.int64)
        return a, np.ceil(s).astype(np.int64), (s - a).astype(np.float32), inside

    y0, y1, dy, in_y = axis(y_min, y_max, h, height)
    x0, x1, dx, in_x = axis(x_min, x_max, w, width)
    out = _bilinear(image, y0, y1, dy, x0, x1, dx)
    out[~(in_y[:, None] & in_x[None, :])] = extrapolation
    return out


def box_of(keypoints: list[dict], min_score: float = 0.0) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) around the keypoints scoring at least min_score."""
    seen = [k for k in keypoints if k["score"] >= min_score]
    if not seen:
        return None
    xs, ys = [k["x"] for k in seen], [k["y"] for k in seen]
    return (min(xs), min(ys), max(xs), max(ys))
