"""Video frames with OpenCV (opencv-python-headless, the `edge` extra): RGB frames with their
index and time, and an MP4 writer for annotated copies."""
from __future__ import annotations

from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg")


def _cv2():
    try:
        import cv2
    except ImportError:
        raise RuntimeError("videos need OpenCV: pip install -e '.[edge]' (opencv-python-headless)") from None
    return cv2


def info(path: Path) -> tuple[int, float, int, int]:
    """(frame count as the container says, fps, width, height); raises ValueError if unreadable."""
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise ValueError(f"{path}: not a video OpenCV can read")
        return (int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
                int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        cap.release()


def frames(path: Path, max_pixels: int = 40_000_000):
    """(index, time_s, rgb) for every frame, in order."""
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: not a video OpenCV can read")
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        index = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            if bgr.shape[0] * bgr.shape[1] > max_pixels:
                raise ValueError(f"{path}: frames of {bgr.shape[1]} x {bgr.shape[0]} are larger than {max_pixels:,} pixels")
            pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            time_s = pos_ms / 1000 if pos_ms > 0 or index == 0 else (index / fps if fps else None)
            yield index, time_s, np.ascontiguousarray(bgr[:, :, ::-1])
            index += 1
    finally:
        cap.release()


class Mp4Writer:
    """Annotated frames (RGB) to an MP4 (mp4v), opened at the first frame's size."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps, self._out = path, fps if fps > 0 else 25.0, None

    def write(self, rgb: np.ndarray) -> None:
        cv2 = _cv2()
        if self._out is None:
            h, w = rgb.shape[:2]
            self._out = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._out.isOpened():
                raise RuntimeError(f"{self.path}: OpenCV cannot write MP4 here")
        self._out.write(np.ascontiguousarray(rgb[:, :, ::-1]))

    def close(self) -> None:
        if self._out is not None:
            self._out.release()
