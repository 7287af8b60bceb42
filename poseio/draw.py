"""Skeletons drawn on a frame with OpenCV: the edges of web/pose-tables.json (as the page draws
them), keypoints at or over the threshold, and each person's label."""
from __future__ import annotations

import numpy as np

from core.tables import EDGES

COLOURS = [(0, 220, 255), (255, 120, 0), (60, 220, 60), (230, 60, 230), (255, 255, 0), (0, 120, 255)]  # RGB


def annotate(rgb: np.ndarray, people: list[dict], threshold: float = 0.3) -> np.ndarray:
    import cv2

    out = np.ascontiguousarray(rgb.copy())
    thick = max(2, round(max(out.shape[:2]) / 300))
    for person in people:
        colour = COLOURS[person["id"] % len(COLOURS)]
        pts = {k["name"]: (int(round(k["x"])), int(round(k["y"]))) for k in person["keypoints"] if k["score"] >= threshold}
        for a, b in EDGES:
            if a in pts and b in pts:
                cv2.line(out, pts[a], pts[b], colour, thick, cv2.LINE_AA)
        for p in pts.values():
            cv2.circle(out, p, thick + 1, (255, 255, 255), -1, cv2.LINE_AA)
        if person.get("label") and person.get("box"):
            x0, y0 = int(person["box"][0]), max(12, int(person["box"][1]) - 6)
            text = f"{person['label']} {person['confidence']:.2f}"
            cv2.putText(out, text, (x0, y0), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, colour, thick, cv2.LINE_AA)
    return out


def write_png(path, rgb: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(rgb).save(path, format="PNG")
