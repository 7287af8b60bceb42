"""Keypoint scoring: agreement with golden model output, and PCK against human COCO labels."""
from __future__ import annotations

import math
from dataclasses import dataclass

COCO_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)

BLAZEPOSE_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)


def named_frames(frames: list[list[list[float]]], names=BLAZEPOSE_NAMES) -> list[dict]:
    """Golden files that store [x, y, ...] rows in keypoint order, as {name: {x, y}} frames."""
    return [{n: {"x": row[0], "y": row[1]} for n, row in zip(names, frame)} for frame in frames]


@dataclass
class Agreement:
    within: int = 0
    total: int = 0

    @property
    def ratio(self) -> float:
        return self.within / self.total if self.total else 0.0


def golden_agreement(history: list[dict], golden: list[dict], fps: float, *, tolerance: float,
                     min_score: float = 0.3) -> Agreement:
    """Each estimate is compared with the golden frame its mediaTime shows (frame = t * fps,
    looping over the golden frames); keypoints we see with score >= min_score count."""
    result = Agreement()
    for entry in history:
        if not entry["poses"]:
            continue
        frame = golden[round(entry["mediaTime"] * fps) % len(golden)]
        pose = max(entry["poses"], key=lambda p: p["score"])
        for kp in pose["keypoints"]:
            ref = frame.get(kp["name"])
            if ref is None or kp["score"] < min_score:
                continue
            result.total += 1
            result.within += math.dist((kp["x"], kp["y"]), (ref["x"], ref["y"])) <= tolerance
    return result


def _gt_points(annotation: dict) -> dict[str, tuple[float, float]]:
    kps = annotation["keypoints"]
    return {name: (kps[3 * i], kps[3 * i + 1]) for i, name in enumerate(COCO_NAMES) if kps[3 * i + 2] > 0}


def torso_size(points: dict[str, tuple[float, float]]) -> float | None:
    """The longer shoulder-to-opposite-hip diagonal; None when neither is labelled."""
    diagonals = [math.dist(points[a], points[b]) for a, b in
                 (("left_shoulder", "right_hip"), ("right_shoulder", "left_hip")) if a in points and b in points]
    return max(diagonals) if diagonals else None


@dataclass
class Pck:
    correct: int = 0
    labelled: int = 0
    people: int = 0
    matched: int = 0
    matched_labelled: int = 0

    @property
    def value(self) -> float:
        """Over every labelled person: finding people counts as much as placing keypoints."""
        return self.correct / self.labelled if self.labelled else 0.0

    @property
    def matched_value(self) -> float:
        """Over the people the model found: how well it places keypoints."""
        return self.correct / self.matched_labelled if self.matched_labelled else 0.0


def pck(predictions: list[dict], annotations: list[dict], *, alpha: float = 0.2, pck_out: Pck | None = None) -> Pck:
    """PCK@alpha of torso size for one image. Every labelled person with a torso counts; each is
    matched to at most one predicted person (greedy, most correct keypoints first), so a missed
    person scores zero."""
    out = pck_out or Pck()
    people = []
    for ann in annotations:
        points = _gt_points(ann)
        size = torso_size(points)
        if size:
            people.append((points, alpha * size))
    preds = [{kp["name"]: (kp["x"], kp["y"]) for kp in p["keypoints"] if kp["name"] in COCO_NAMES}
             for p in predictions]

    def hits(points, threshold, pred):
        return sum(1 for n, xy in points.items() if n in pred and math.dist(xy, pred[n]) <= threshold)

    pairs = sorted(((hits(pts, thr, pred), gi, pi) for gi, (pts, thr) in enumerate(people)
                    for pi, pred in enumerate(preds)), reverse=True)
    used_gt, used_pred = set(), set()
    for count, gi, pi in pairs:
        if count == 0 or gi in used_gt or pi in used_pred:
            continue
        used_gt.add(gi)
        used_pred.add(pi)
        out.correct += count
        out.matched += 1
        out.matched_labelled += len(people[gi][0])
    out.people += len(people)
    out.labelled += sum(len(pts) for pts, _ in people)
    return out
