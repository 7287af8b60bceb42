"""One image through a backbone and, optionally, a classifier: the people as the API and every
file format describe them. Shared by the inference workers and `posecast poses`."""
from __future__ import annotations

import time

import numpy as np

from .classifier import Classifier, Unsupported, backbone_problem


def _box(pose) -> list[float] | None:
    if pose.box is not None:
        return [round(float(v), 2) for v in pose.box]
    seen = [(k["x"], k["y"]) for k in pose.keypoints if k["score"] > 0]
    if not seen:
        return None
    xs, ys = zip(*seen)
    return [round(min(xs), 2), round(min(ys), 2), round(max(xs), 2), round(max(ys), 2)]


def _kept(poses, threshold: float) -> list:
    """The poses scoring `threshold` or more, the most confident first."""
    return sorted((p for p in poses if p.score >= threshold), key=lambda p: -p.score)


def people_of(poses, threshold: float = 0.0) -> list[dict]:
    """Poses -> [{id, score, box, keypoints}], the most confident first; people scoring under
    `threshold` are left out. ids number the people of this image (0, 1, ...)."""
    return [{"id": i, "score": round(float(p.score), 5), "box": _box(p),
             "keypoints": [{"name": k["name"], "x": round(float(k["x"]), 2), "y": round(float(k["y"]), 2),
                            "score": round(float(k["score"]), 5)} for k in p.keypoints]}
            for i, p in enumerate(_kept(poses, threshold))]


def run(estimator, rgb: np.ndarray, max_people: int, threshold: float = 0.0,
        classifier: Classifier | None = None, video: bool = False) -> tuple[list[dict], dict]:
    """(people, timings_ms). `video`: one pass per frame carrying the crop (estimator.track)."""
    t0 = time.perf_counter()
    tm = classifier is not None and classifier.kind == "tm"
    problem = classifier is not None and backbone_problem(classifier.name, classifier.kind, estimator.backbone)
    if problem:
        raise Unsupported(problem)
    if tm:
        # Teachable Machine's way: one PoseNet pass on the whole frame gives poses and features.
        outputs = estimator.outputs(rgb)
        from runtime import Pose

        poses = [Pose(score=s, keypoints=k) for s, k in outputs.poses(max_people)]
    else:
        poses = (estimator.track if video else estimator.estimate)(rgb, max_people)
    t1 = time.perf_counter()
    people = people_of(poses, threshold)
    if classifier is not None and people:
        labels = ([classifier.classify_tm(outputs.tm_features())] * len(people) if tm
                  # the world landmarks unrounded, from the poses themselves (in the people's order)
                  else classifier.classify([p["keypoints"] for p in people],
                                           [(p.extra or {}).get("world") for p in _kept(poses, threshold)]))
        for person, label in zip(people, labels):
            person.update(label)
    t2 = time.perf_counter()
    return people, {"pose": round((t1 - t0) * 1000, 2), "classify": round((t2 - t1) * 1000, 2)}
