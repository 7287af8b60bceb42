"""What every backbone's estimator gives: poses in image pixels with the page's keypoint names."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.paths import PROJECT_ROOT

WEIGHTS_DIR = PROJECT_ROOT / "assets" / "pose"


@dataclass
class Pose:
    score: float
    keypoints: list[dict]  # [{name, x, y, score}] in image pixels, the layout's order
    box: tuple[float, float, float, float] | None = None  # (x0, y0, x1, y1) in image pixels
    extra: dict = field(default_factory=dict)  # backbone-specific (e.g. PoseNet's raw outputs)


class Estimator:
    """One backbone on one executor. estimate() on a still image does what the page does for a
    first frame, then refines on a crop around the person (a second pass); track() runs one pass
    per video frame, carrying the crop from the previous frame as the page does; reset()
    forgets that state (a new video)."""

    backbone = ""
    max_people_default = 1

    def estimate(self, image: np.ndarray, max_people: int | None = None) -> list[Pose]:
        self.reset()
        return self._estimate(_rgb(image), max_people or self.max_people_default, still=True)

    def track(self, frame: np.ndarray, max_people: int | None = None) -> list[Pose]:
        return self._estimate(_rgb(frame), max_people or self.max_people_default, still=False)

    def reset(self) -> None:
        pass

    def map(self, fn, items):
        """fn(self, item) for every item, in order, here (runtime.parallel.EstimatorPool.map does
        the same in worker processes)."""
        return (fn(self, item) for item in items)

    def _estimate(self, image: np.ndarray, max_people: int, still: bool) -> list[Pose]:
        raise NotImplementedError


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image.shape} {image.dtype}")
    return image


def weights(name: str, weights_dir: Path | None = None) -> Path:
    path = Path(weights_dir or WEIGHTS_DIR) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: `make setup` builds assets/ (tools/assets.py)")
    return path
