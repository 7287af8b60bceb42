"""Where frames come from: a camera index, a video file or a network stream (rtsp://, http://),
read with OpenCV. A file gives every frame in order (its timestamps are the media time), so a
run on a file is repeatable; a camera or stream gives only the newest frame each time the loop
asks (a reader thread drops the rest), so a slow model never falls behind the scene."""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
MAX_SIDE = 4096
PREFETCH = 4  # frames a file is decoded ahead


class SourceError(RuntimeError):
    pass


@dataclass
class Frame:
    rgb: np.ndarray  # HxWx3 uint8
    t: float  # seconds: media time for files, a monotonic clock for live sources
    index: int


def describe(spec: str) -> tuple[str, object]:
    """('camera', index) | ('file', path) | ('stream', url), or SourceError."""
    if not isinstance(spec, str) or not spec or len(spec) > 2048:
        raise SourceError("--source must be a camera index, a video file or a stream URL")
    if spec.isdigit():
        index = int(spec)
        if index > 63:
            raise SourceError(f"camera index {index} is out of range (0-63)")
        return "camera", index
    if spec.lower().startswith(STREAM_SCHEMES):
        return "stream", spec
    path = Path(spec).expanduser()
    if not path.is_file():
        raise SourceError(f"{spec}: no such video file (or give a camera index or an rtsp:// URL)")
    return "file", path


class Source:
    def __init__(self, spec: str, loop: bool = False):
        import cv2

        self._cv2 = cv2
        self.kind, target = describe(spec)
        self.name = spec
        self.loop = loop and self.kind == "file"
        self.cap = cv2.VideoCapture(str(target) if self.kind == "file" else target)
        if not self.cap.isOpened():
            raise SourceError(f"cannot open {spec}: OpenCV could not read it")
        ok, first = self.cap.read()
        if not ok or first is None:
            self.cap.release()
            raise SourceError(f"{spec}: no frame could be read (not a video, or the camera is busy)")
        if first.ndim != 3 or first.shape[2] != 3 or max(first.shape[:2]) > MAX_SIDE:
            raise SourceError(f"{spec}: unsupported frame shape {first.shape}")
        self.height, self.width = first.shape[:2]
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 0 < fps < 1000 else 30.0
        self._latest: tuple | None = None
        self._cond = threading.Condition()
        self._ended = False
        self._t0 = time.monotonic()
        if self.kind == "file":
            # Decoding overlaps the model (both release the GIL): a few frames read ahead, in order.
            self._queue: queue.Queue = queue.Queue(maxsize=PREFETCH)
            target = self._file_reader
        else:
            self._latest = (first, time.monotonic() - self._t0, 0)
            target = self._live_reader
        self._thread = threading.Thread(target=target, args=(first,), name="edge-reader", daemon=True)
        self._thread.start()

    def _rgb(self, bgr: np.ndarray) -> np.ndarray:
        return self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)

    def _file_reader(self, bgr) -> None:
        index = 0
        while not self._ended:
            # media time keeps increasing across loops, so tracking and smoothing see time move on
            frame = Frame(self._rgb(bgr), index / self.fps, index)
            while not self._ended:
                try:
                    self._queue.put(frame, timeout=0.2)
                    break
                except queue.Full:
                    continue
            ok, bgr = self.cap.read()
            if not ok and self.loop and index > 0:
                self.cap.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
                ok, bgr = self.cap.read()
            if not ok:
                break
            index += 1
        self._ended = True
        self._put_end()

    def _put_end(self) -> None:
        try:
            self._queue.put(None, timeout=1.0)
        except queue.Full:
            pass

    def _live_reader(self, _first) -> None:
        n = 0
        while not self._ended:
            ok, bgr = self.cap.read()
            with self._cond:
                if not ok:
                    self._ended = True  # the camera went away or the stream ended
                else:
                    n += 1
                    self._latest = (bgr, time.monotonic() - self._t0, n)
                self._cond.notify_all()

    def read(self) -> Frame | None:
        """The next frame, or None at the end (a file without --loop, a lost camera or stream)."""
        if self.kind == "file":
            while True:
                try:
                    return self._queue.get(timeout=1.0)
                except queue.Empty:
                    if self._ended and not self._thread.is_alive():
                        return None
        with self._cond:
            while self._latest is None and not self._ended:
                self._cond.wait(1.0)
            if self._latest is None:
                return None
            bgr, t, n = self._latest
            self._latest = None
        return Frame(self._rgb(bgr), t, n)

    def close(self) -> None:
        self._ended = True
        if self.kind == "file":
            while not self._queue.empty():  # let a blocked put() see the end
                self._queue.get_nowait()
        self._thread.join(5)
        self.cap.release()
